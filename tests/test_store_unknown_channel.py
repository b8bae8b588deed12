"""A ticket whose stored channel the code does not know (a newer version wrote it, a deploy
was rolled back, someone edited the row) reads with its raw text instead of failing the row:
on both engines, and through the dashboard, which answers its pages rather than a 500."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

try:
    from browser import PASSWORD, LiveServer, seed, write_wav
except ImportError:
    from tests.browser import PASSWORD, LiveServer, seed, write_wav

from callbot.tickets.model import CallRecord, Channel
from callbot.tickets.store.base import TicketFilter
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]


async def _set_channel(store: SqlTicketStore, ticket_id: int, channel: str) -> None:
    """By raw SQL, as another program would: the store's own writes only take a Channel."""
    async with store._transaction("test", write=True) as tx:  # type: ignore[attr-defined]
        await tx.fetch("UPDATE tickets SET channel = ? WHERE id = ?", channel, ticket_id)


async def test_an_unknown_channel_reads_as_its_raw_text(
    store: SqlTicketStore, caplog: pytest.LogCaptureFixture
) -> None:
    started = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    odd = await store.begin_call(CallRecord(str(uuid.uuid4()), started))
    known = await store.begin_call(CallRecord(str(uuid.uuid4()), started))
    await _set_channel(store, odd.id, "fax_2031")
    with caplog.at_level(logging.WARNING, logger="callbot.tickets.store.sql_base"):
        read = await store.get_ticket(odd.id)
        listed = await store.list_tickets(TicketFilter())
    assert read is not None and read.channel == "fax_2031"
    assert str(read.channel) == "fax_2031"  # what Open311 and the labels print
    assert {t.id: t.channel for t in listed} == {odd.id: "fax_2031", known.id: Channel.VOICE}
    assert sum("fax_2031" in r.getMessage() for r in caplog.records) <= 1  # once, not per row
    # Known values still read as the enum, and writing one still stores its value.
    other = await store.get_ticket(known.id)
    assert other is not None and type(other.channel) is Channel
    async with store._transaction("test", write=False) as tx:  # type: ignore[attr-defined]
        rows = await tx.fetch("SELECT channel FROM tickets WHERE id = ?", known.id)
    assert rows[0]["channel"] == "voice"
    # Reading did not rewrite the odd row.
    async with store._transaction("test", write=False) as tx:  # type: ignore[attr-defined]
        rows = await tx.fetch("SELECT channel FROM tickets WHERE id = ?", odd.id)
    assert rows[0]["channel"] == "fax_2031"


async def test_the_unknown_channel_survives_a_reopen(store_url: str) -> None:
    async with open_store(store_url) as first:
        ticket = await first.begin_call(CallRecord(str(uuid.uuid4()), datetime.now(UTC)))
        await _set_channel(first, ticket.id, "kiosk")
    async with open_store(store_url) as second:
        read = await second.get_ticket(ticket.id)
    assert read is not None and read.channel == "kiosk"


async def _seed_with_an_odd_channel(store: SqlTicketStore, now: datetime) -> Any:
    seeded = await seed(store, now)
    await _set_channel(store, seeded.ids["quan3"], "fax_2031")
    return seeded


def test_the_dashboard_shows_the_unknown_channel(tmp_path: Path) -> None:
    write_wav(tmp_path / "recordings" / "2026" / "01" / "quan3.wav")
    server = LiveServer(tmp_path, seeder=_seed_with_an_odd_channel).start()
    try:
        client = httpx.Client(base_url=server.url)
        form = client.get("/dashboard/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        client.post(
            "/dashboard/login",
            data={"csrf_token": token.group(1), "login": "giamsat", "password": PASSWORD},
        )
        ticket_id = server.seeded.ids["quan3"]
        listing = client.get("/dashboard/")
        assert listing.status_code == 200 and f"#{ticket_id}" in listing.text
        page = client.get(f"/dashboard/tickets/{ticket_id}")
        assert page.status_code == 200
        assert "Kênh khác (fax_2031)" in page.text  # labels.channel's fallback
        assert client.get("/dashboard/export.csv").status_code == 200
        overview = client.get("/dashboard/overview")  # counted per channel, the odd one too
        assert overview.status_code == 200 and "Kênh khác (fax_2031)" in overview.text
    finally:
        server.stop()
