"""The hand-back watcher's query reads an index, not the whole table (issue 14).

Every server process asks once a second which calls a supervisor wants handed back
(``pending_handbacks``: ``WHERE status = 'pending'``, callbot/call/handback_watch.py —
one query per process, no longer the per-call poll 0012 describes). ``handback_requests``
keeps a row for every hand-back ever asked, so without an index that query scans a table
that only grows. A plain index on ``status``, not a partial one: the query binds the status
as a parameter, and neither SQLite nor PostgreSQL's generic plans use a partial index
whose condition they cannot prove from a bound value.
"""

SQLITE = """
CREATE INDEX handback_requests_status ON handback_requests (status);
"""

POSTGRES = """
CREATE INDEX handback_requests_status ON handback_requests (status);
"""
