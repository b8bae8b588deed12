"""Text conversations (issue 19): web chat and the Zalo Official Account.

- ``conversations``: one row per (channel, user): the dialog's state as JSON, the call and
  ticket it files, and a version that each save bumps (two processes answering one user at
  once: the second save is refused and retried, never lost). A finished conversation keeps
  its row (``done``) until the user writes again, which starts a new ticket.
- ``channel_events``: the event ids a channel delivered (Zalo's ``msg_id``), so an event
  the OA sends twice is handled once.
- ``channel_tokens``: the OA's access token and its refresh token. Zalo's refresh tokens are
  single use, so the newest pair must outlive a restart; the first comes from the
  environment.
"""

SQLITE = """
CREATE TABLE conversations (
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    call_id    TEXT NOT NULL REFERENCES calls (call_id),
    ticket_id  INTEGER NOT NULL,
    state      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX conversations_by_call ON conversations (call_id);
CREATE INDEX conversations_open_by_age ON conversations (done, updated_at);

CREATE TABLE channel_events (
    channel     TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (channel, event_id)
);

CREATE TABLE channel_tokens (
    channel       TEXT PRIMARY KEY,
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
"""

POSTGRES = """
CREATE TABLE conversations (
    channel    text NOT NULL,
    user_id    text NOT NULL,
    call_id    text NOT NULL REFERENCES calls (call_id),
    ticket_id  bigint NOT NULL,
    state      text NOT NULL,
    version    bigint NOT NULL,
    done       boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX conversations_by_call ON conversations (call_id);
CREATE INDEX conversations_open_by_age ON conversations (done, updated_at);

CREATE TABLE channel_events (
    channel     text NOT NULL,
    event_id    text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (channel, event_id)
);

CREATE TABLE channel_tokens (
    channel       text PRIMARY KEY,
    access_token  text NOT NULL,
    refresh_token text NOT NULL,
    expires_at    timestamptz NOT NULL
);
"""
