"""Surge mode (issue 17 item 4): the supervisor's switch and every change, in the store.

The dashboard may run in another process than the calls, so the switch is a row the call
server reads (at most once a second, at new calls): ``surge_switch`` holds one row per
name (``surge``), its value ``auto``, ``on`` or ``off``, who set it and when.
``surge_changes`` keeps every change, the supervisor's and the automatic rule's, for the
dashboard; no column holds anything about a caller (``reason`` is "auto: 6 of 6 calls" or
"supervisor <login>: on"). Independent of every other step's tables.
"""

SQLITE = """
CREATE TABLE surge_switch (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE surge_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    surge_on INTEGER,
    reason TEXT NOT NULL,
    calls INTEGER
);
CREATE INDEX surge_changes_at ON surge_changes (at);
"""

POSTGRES = """
CREATE TABLE surge_switch (
    name text PRIMARY KEY,
    value text NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL
);
CREATE TABLE surge_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    surge_on boolean,
    reason text NOT NULL,
    calls integer
);
CREATE INDEX surge_changes_at ON surge_changes (at);
"""
