"""The supervisors' live view (issue 17, item 5): "hand back now" requests.

- ``handback_requests``: one row per call a supervisor asked to give back to the operators.
  The dashboard may run on another machine than the call, so the request goes through the
  store: the call's session polls for a pending row about once a second
  (``callbot/call/call_ending.py``) and marks it ``done`` (handed back) or ``failed`` (AMI
  could not mark the channel; the call goes on and the supervisor may ask again). The row
  names the supervisor by login; the ticket's history holds the same fact.
- ``calls_live``: a partial index over the calls still up, so the live view's once-a-second
  query reads only those, not the whole table.
"""

SQLITE = """
CREATE TABLE handback_requests (
    call_id      TEXT PRIMARY KEY REFERENCES calls (call_id),
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id),
    requested_by TEXT NOT NULL,                -- the supervisor's login
    requested_at TEXT NOT NULL,
    status       TEXT NOT NULL,                -- pending / done / failed
    finished_at  TEXT
);
CREATE INDEX calls_live ON calls (started_at) WHERE ended_at IS NULL;
"""

POSTGRES = """
CREATE TABLE handback_requests (
    call_id      text PRIMARY KEY REFERENCES calls (call_id),
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    status       text NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX calls_live ON calls (started_at) WHERE ended_at IS NULL;
"""
