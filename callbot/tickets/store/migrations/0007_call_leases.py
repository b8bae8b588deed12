"""Call leases (issue 15): which process runs each call, and slot versions for idempotent
writes.

A process registers itself in ``call_owners`` and renews ``heartbeat_at`` every few
seconds; each call it begins names it in ``calls.owner_id``. Any live process closes, as
incomplete tickets for a callback, the open calls of an owner whose heartbeat is too old
(its process died), at once instead of after the longest possible call. ``ticket_slots.
version`` orders the writes of one slot, so a write retried after a cut connection or
replayed from a call's journal is a no-op when it, or a newer one, is already stored.
"""

SQLITE = """
CREATE TABLE call_owners (
    owner_id     TEXT PRIMARY KEY,            -- one per callbot process (a UUID)
    host         TEXT NOT NULL,               -- for people reading the table
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE calls ADD COLUMN owner_id TEXT;   -- NULL: begun before leases, or by a tool
CREATE INDEX calls_open_by_owner ON calls (owner_id) WHERE ended_at IS NULL;

ALTER TABLE ticket_slots ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
"""

POSTGRES = """
CREATE TABLE call_owners (
    owner_id     text PRIMARY KEY,
    host         text NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

ALTER TABLE calls ADD COLUMN owner_id text;
CREATE INDEX calls_open_by_owner ON calls (owner_id) WHERE ended_at IS NULL;

ALTER TABLE ticket_slots ADD COLUMN version bigint NOT NULL DEFAULT 0;
"""
