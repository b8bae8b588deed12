"""Web hardening (issue 15): sign-in limits that hold under parallel attempts, the agencies a
ticket is delivered to, and status notes that were published by mistake.

- ``dashboard_sign_in_limits``: one counter row per key ("pair <login> <address>",
  "address <address>", "login <login>", "all"), bumped by one atomic upsert per attempt
  *before* the password is checked (``AccountStore.reserve_attempt``). It replaces
  ``dashboard_login_failures``, whose count-then-insert let 30 parallel attempts all pass.
- ``outbox_by_agency``: an officer of a second agency (Sở Nội vụ on a support-policy ticket)
  sees the tickets delivered to it; the list finds them by agency name through this index.
- Status notes: before this step the dashboard had one note field, and it became Open311's
  public ``status_notes`` (a supervisor's note with a caller's name, phone and address was
  measured there). Every such note moves to the internal notes, and ``status_notes`` is
  emptied; from now on only the form's explicit public note is published.
"""

SQLITE = """
CREATE TABLE dashboard_sign_in_limits (
    key          TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    attempts     INTEGER NOT NULL
);
DROP TABLE dashboard_login_failures;

CREATE INDEX outbox_by_agency ON outbox (agency_name, ticket_id);

INSERT INTO ticket_notes (ticket_id, at, actor, text)
SELECT id, updated_datetime, 'migration-0008', 'Ghi chú trạng thái trước đây: ' || status_notes
FROM tickets WHERE status_notes <> '';
UPDATE tickets SET status_notes = '' WHERE status_notes <> '';
"""

POSTGRES = """
CREATE TABLE dashboard_sign_in_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL
);
DROP TABLE dashboard_login_failures;

CREATE INDEX outbox_by_agency ON outbox (agency_name, ticket_id);

INSERT INTO ticket_notes (ticket_id, at, actor, text)
SELECT id, updated_datetime, 'migration-0008', 'Ghi chú trạng thái trước đây: ' || status_notes
FROM tickets WHERE status_notes <> '';
UPDATE tickets SET status_notes = '' WHERE status_notes <> '';
"""
