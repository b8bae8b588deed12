"""Migration 0008 on a store that has data from before it: status notes written when the
dashboard's one note field was published move to the internal notes; the store then opens
normally on top (the runner applies only what is missing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from callbot.tickets.store.factory import open_store
from callbot.tickets.store.migrations import all_migrations


async def test_published_status_notes_become_internal(tmp_path: Path) -> None:
    path = tmp_path / "before-0008.db"
    db = sqlite3.connect(path)
    steps = [step for step in all_migrations() if step.version < 8]
    for step in steps:
        db.executescript(step.sqlite)
    # As the store's runner records steps (callbot/tickets/store/sqlite.py).
    db.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    db.executemany(
        "INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00+00:00')",
        [(step.version, step.name) for step in steps],
    )
    for notes in ("Bà Lan, 0912 345 678, 12 Lê Lợi", ""):
        db.execute(
            "INSERT INTO tickets (channel, status, status_notes, requested_datetime,"
            " updated_datetime) VALUES ('voice', 'accepted', ?, '2026-01-02', '2026-01-03')",
            (notes,),
        )
    db.commit()
    db.close()

    store = await open_store(f"sqlite:///{path}")  # applies 0008 (and any later step)
    try:
        first, second = await store.get_ticket(1), await store.get_ticket(2)
        assert first is not None and second is not None
        assert first.status_notes == "" and second.status_notes == ""
    finally:
        await store.close()
    db = sqlite3.connect(path)
    moved = db.execute("SELECT ticket_id, actor, text FROM ticket_notes").fetchall()
    db.close()
    note = "Ghi chú trạng thái trước đây: Bà Lan, 0912 345 678, 12 Lê Lợi"
    assert moved == [(1, "migration-0008", note)]
