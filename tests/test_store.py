"""The ticket store contract, run against SQLite and PostgreSQL alike (see conftest_store)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from callbot.tickets.model import (
    STATUS_TRANSITIONS,
    CallEndReason,
    CallRecord,
    EventKind,
    SlotSource,
    SlotValue,
    Speaker,
    TicketStatus,
    Turn,
    TurnKind,
)
from callbot.tickets.store.base import NotFoundError, StoreError, TicketFilter, TransitionError
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.migrations import all_migrations
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.tickets.store.sqlite import SqliteTicketStore, split_statements

# The store and store_url fixtures (each test runs once per engine).
pytest_plugins = ["conftest_store"]


_T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def call_record(n: int = 0, **fields: object) -> CallRecord:
    """A call started n minutes after 08:00 UTC on 2026-11-28, with a unique id."""
    values: dict[str, object] = {
        "call_id": str(uuid.uuid4()),
        "started_at": _T0 + timedelta(minutes=n),
    }
    values.update(fields)
    return CallRecord(**values)  # type: ignore[arg-type]


def turn(call_id: str, seq: int, text: str = "", **fields: object) -> Turn:
    at = datetime(2026, 11, 28, 8, 0, tzinfo=UTC) + timedelta(seconds=seq)
    speaker = Speaker.BOT if seq % 2 == 0 else Speaker.CALLER
    kind = TurnKind.PROMPT if seq % 2 == 0 else TurnKind.SPEECH
    return Turn(call_id, seq, at, speaker, kind, text or f"lượt {seq}", **fields)  # type: ignore[arg-type]


def slot(name: str, value: str, confidence: float = 0.9, heard: str = "") -> SlotValue:
    return SlotValue(name, value, SlotSource.SPEECH, confidence, heard or value)


async def test_call_lifecycle_files_a_complete_ticket(store: SqlTicketStore) -> None:
    call = call_record(recording_path="2026/11/28/a.wav")
    ticket = await store.begin_call(call)
    assert ticket.id >= 1
    assert ticket.call_id == call.call_id
    assert ticket.status is TicketStatus.NEW
    assert not ticket.complete and not ticket.needs_callback
    assert ticket.requested_datetime == call.started_at
    assert ticket.recording_path == "2026/11/28/a.wav"

    await store.set_call_info(call.call_id, caller_number="0903456789", channel_name="PJSIP/1")
    await store.set_call_info(call.call_id, caller_number=None, channel_name="PJSIP/1-b")
    await store.set_slot(call.call_id, slot("case_type", "essentials", heard="xin gạo"))
    await store.set_slot(call.call_id, slot("place", "Quận 3", heard="quận ba"))
    await store.set_slot(call.call_id, slot("callback_number", "0912345678"))
    await store.set_slot(call.call_id, slot("description", "cần gạo và mì"))
    await store.set_slot(call.call_id, slot("household_size", "4"))
    ended = await store.end_call(
        call.call_id,
        ended_at=call.started_at + timedelta(minutes=2),
        reason=CallEndReason.COMPLETED,
        complete=True,
    )

    assert ended.status is TicketStatus.NEW  # routing is another module's job
    assert ended.complete and not ended.needs_callback
    assert ended.end_reason is CallEndReason.COMPLETED
    assert ended.caller_number == "0903456789"  # a None did not erase it
    assert (ended.service_code, ended.admin_unit) == ("essentials", "Quận 3")
    assert (ended.callback_number, ended.description) == ("0912345678", "cần gạo và mì")
    assert ended.slots["place"] == slot("place", "Quận 3", heard="quận ba")
    assert ended.slots["household_size"].value == "4"
    assert await store.get_ticket(ticket.id) == ended
    assert await store.get_ticket_for_call(call.call_id) == ended
    assert await store.get_ticket(ticket.id + 1000) is None
    assert await store.get_ticket_for_call("no-such-call") is None


async def test_history_records_every_step_in_order(store: SqlTicketStore) -> None:
    call = call_record()
    ticket = await store.begin_call(call)
    await store.set_call_info(call.call_id, caller_number="0903456789", channel_name=None)
    await store.set_slot(call.call_id, slot("case_type", "policy"))
    await store.end_call(
        call.call_id, ended_at=call.started_at, reason=CallEndReason.COMPLETED, complete=True
    )
    history = await store.list_history(ticket.id)
    assert [event.kind for event in history] == [
        EventKind.CREATED,
        EventKind.CALL_INFO,
        EventKind.SLOT_SET,
        EventKind.CALL_ENDED,
    ]
    assert history[1].data == {"caller_number": "0903456789"}
    assert history[3].data == {"reason": "completed", "complete": True, "needs_callback": False}
    assert all(event.actor == "callbot" and event.ticket_id == ticket.id for event in history)
    with pytest.raises(NotFoundError):
        await store.list_history(ticket.id + 1000)


async def test_turns_come_back_in_seq_order_with_all_fields(store: SqlTicketStore) -> None:
    call = call_record()
    await store.begin_call(call)
    order = [3, 0, 2, 1, 4]
    for seq in order:
        await store.append_turn(
            turn(
                call.call_id,
                seq,
                confidence=0.5 if seq % 2 else None,
                start_ms=seq * 1000,
                end_ms=seq * 1000 + 900,
                slot_updates={"place": "Quận 3"} if seq == 3 else {},
            )
        )
    turns = await store.list_turns(call.call_id)
    assert [t.seq for t in turns] == [0, 1, 2, 3, 4]
    assert turns[3] == turn(
        call.call_id,
        3,
        confidence=0.5,
        start_ms=3000,
        end_ms=3900,
        slot_updates={"place": "Quận 3"},
    )
    assert turns[0].at.tzinfo is not None
    assert await store.list_turns("no-such-call") == []


async def test_a_repeated_turn_or_unknown_call_is_refused(store: SqlTicketStore) -> None:
    call = call_record()
    await store.begin_call(call)
    await store.append_turn(turn(call.call_id, 0))
    with pytest.raises(StoreError, match="already stored"):
        await store.append_turn(turn(call.call_id, 0, "lần nữa"))
    with pytest.raises(NotFoundError):
        await store.append_turn(turn("no-such-call", 0))
    with pytest.raises(NotFoundError):
        await store.set_slot("no-such-call", slot("place", "Quận 1"))
    with pytest.raises(NotFoundError):
        await store.end_call(
            "no-such-call", ended_at=call.started_at, reason=CallEndReason.COMPLETED, complete=True
        )
    with pytest.raises(StoreError):
        await store.begin_call(call)  # the same call id twice
    assert [t.text for t in await store.list_turns(call.call_id)] == ["lượt 0"]


async def test_replacing_a_slot_keeps_the_old_value_in_history(store: SqlTicketStore) -> None:
    call = call_record()
    ticket = await store.begin_call(call)
    await store.set_slot(call.call_id, slot("place", "Quận 3", 0.6, "quận ba"))
    await store.set_slot(call.call_id, slot("place", "Quận 5", 0.95, "quận năm"))
    correction = SlotValue("place", "Phường Chợ Quán", SlotSource.SUPERVISOR, 1.0)
    await store.set_slot(call.call_id, correction, actor="giam_sat_01")

    current = await store.get_ticket(ticket.id)
    assert current is not None
    assert current.slots == {"place": correction}
    assert current.admin_unit == "Phường Chợ Quán"

    sets = [e for e in await store.list_history(ticket.id) if e.kind is EventKind.SLOT_SET]
    assert [e.data["value"] for e in sets] == ["Quận 3", "Quận 5", "Phường Chợ Quán"]
    assert sets[0].data["old"] is None
    assert sets[1].data["old"] == {
        "value": "Quận 3",
        "source": "speech",
        "confidence": 0.6,
        "heard": "quận ba",
    }
    assert sets[2].data["old"]["value"] == "Quận 5"  # type: ignore[index]
    assert [e.actor for e in sets] == ["callbot", "callbot", "giam_sat_01"]


async def test_early_hangup_leaves_an_incomplete_ticket_in_the_callback_queue(
    store: SqlTicketStore,
) -> None:
    done, dropped = call_record(0), call_record(1)
    await store.begin_call(done)
    await store.end_call(
        done.call_id, ended_at=done.started_at, reason=CallEndReason.COMPLETED, complete=True
    )
    await store.begin_call(dropped)
    await store.append_turn(turn(dropped.call_id, 0, "Xin chào"))
    await store.set_slot(dropped.call_id, slot("case_type", "essentials"))
    ended = await store.end_call(
        dropped.call_id,
        ended_at=dropped.started_at + timedelta(seconds=20),
        reason=CallEndReason.CALLER_HANGUP,
        complete=False,
    )
    assert ended.status is TicketStatus.NEW
    assert not ended.complete and ended.needs_callback
    assert ended.end_reason is CallEndReason.CALLER_HANGUP
    assert ended.service_code == "essentials"  # what was heard is kept

    queue = await store.list_tickets(TicketFilter(needs_callback=True))
    assert [t.call_id for t in queue] == [dropped.call_id]

    called_back = await store.resolve_callback(ended.id, "operator_7", complete=True, note="ok")
    assert called_back.complete and not called_back.needs_callback
    assert await store.list_tickets(TicketFilter(needs_callback=True)) == []
    last = (await store.list_history(ended.id))[-1]
    assert (last.kind, last.actor, last.data) == (
        EventKind.CALLBACK_DONE,
        "operator_7",
        {"complete": True, "note": "ok"},
    )


async def test_calls_left_open_by_a_dead_process_are_ended(store: SqlTicketStore) -> None:
    old, live = call_record(0), call_record(30)
    old_ticket = await store.begin_call(old)
    await store.begin_call(live)
    ended = await store.end_stale_calls(started_before=old.started_at + timedelta(minutes=10))
    assert ended == [old_ticket.id]
    recovered = await store.get_ticket(old_ticket.id)
    assert recovered is not None
    assert recovered.needs_callback and recovered.end_reason is CallEndReason.SERVER_ERROR
    still_up = await store.get_ticket_for_call(live.call_id)
    assert still_up is not None and still_up.end_reason is None
    assert await store.end_stale_calls(started_before=old.started_at + timedelta(minutes=10)) == []


async def test_list_filters_and_pagination(store: SqlTicketStore) -> None:
    made = []
    for n in range(12):
        call = call_record(n)
        made.append(await store.begin_call(call))
        await store.set_slot(call.call_id, slot("case_type", "essentials" if n % 3 else "policy"))
        await store.end_call(
            call.call_id,
            ended_at=call.started_at,
            reason=CallEndReason.COMPLETED if n % 2 else CallEndReason.CALLER_HANGUP,
            complete=bool(n % 2),
        )
    newest_first = [t.id for t in reversed(made)]

    everything = await store.list_tickets()
    assert [t.id for t in everything] == newest_first
    pages = [await store.list_tickets(limit=5, offset=offset) for offset in (0, 5, 10, 15)]
    assert [len(page) for page in pages] == [5, 5, 2, 0]
    assert [t.id for page in pages for t in page] == newest_first

    complete = await store.list_tickets(TicketFilter(complete=True))
    assert [t.id for t in complete] == [made[n].id for n in (11, 9, 7, 5, 3, 1)]
    policy = await store.list_tickets(TicketFilter(service_code="policy"))
    assert [t.id for t in policy] == [made[n].id for n in (9, 6, 3, 0)]
    assert all(t.slots["case_type"].value == "policy" for t in policy)
    both = await store.list_tickets(TicketFilter(service_code="policy", complete=False))
    assert [t.id for t in both] == [made[6].id, made[0].id]

    since, until = made[3].requested_datetime, made[7].requested_datetime
    window = await store.list_tickets(TicketFilter(since=since, until=until))
    assert [t.id for t in window] == [made[n].id for n in (6, 5, 4, 3)]
    # A non-UTC bound means the same instant.
    saigon = since.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    assert await store.list_tickets(TicketFilter(since=saigon, until=until)) == window

    await store.set_routing(made[2].id, "UBND Quận 3", "place", None)
    routed = await store.list_tickets(TicketFilter(status=TicketStatus.ROUTED))
    assert [t.id for t in routed] == [made[2].id]
    by_agency = await store.list_tickets(TicketFilter(agency_responsible="UBND Quận 3"))
    assert by_agency == routed
    assert await store.list_tickets(TicketFilter(status=TicketStatus.CLOSED)) == []


async def test_fifty_concurrent_calls_lose_no_turn(store: SqlTicketStore) -> None:
    calls = [call_record(n) for n in range(50)]

    async def one_call(n: int) -> None:
        call = calls[n]
        await store.begin_call(call)
        for seq in range(20):
            await store.append_turn(turn(call.call_id, seq, f"cuộc {n} lượt {seq}"))
            if seq % 5 == 4:
                await store.set_slot(call.call_id, slot("place", f"Quận {seq}"))
        await store.end_call(
            call.call_id, ended_at=call.started_at, reason=CallEndReason.COMPLETED, complete=True
        )

    await asyncio.gather(*(one_call(n) for n in range(50)))

    tickets = await store.list_tickets(limit=100)
    assert len(tickets) == 50 and len({t.id for t in tickets}) == 50
    for n, call in enumerate(calls):
        turns = await store.list_turns(call.call_id)
        assert [t.text for t in turns] == [f"cuộc {n} lượt {seq}" for seq in range(20)]
        ticket = await store.get_ticket_for_call(call.call_id)
        assert ticket is not None and ticket.complete and ticket.admin_unit == "Quận 19"


async def test_calls_cancelled_mid_write_leave_the_store_usable(store: SqlTicketStore) -> None:
    # A hang-up cancels the call's task wherever it is, possibly inside a transaction.
    calls = [call_record(n) for n in range(20)]

    async def busy_call(call: CallRecord) -> None:
        await store.begin_call(call)
        for seq in range(1000):
            await store.set_slot(call.call_id, slot("place", f"Quận {seq}"))
            await store.append_turn(turn(call.call_id, seq))

    tasks = [asyncio.create_task(busy_call(call)) for call in calls]
    await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    later = call_record(99)
    await store.begin_call(later)
    await store.append_turn(turn(later.call_id, 0))
    for call in calls:
        ticket = await store.get_ticket_for_call(call.call_id)
        if ticket is None:
            continue  # cancelled before begin_call committed: nothing half-written
        turns = await store.list_turns(call.call_id)
        assert [t.seq for t in turns] == list(range(len(turns)))
        place = ticket.slots.get("place")
        assert place is None or place.value == ticket.admin_unit


async def test_reopening_applies_each_migration_once(store_url: str) -> None:
    first = await open_store(store_url)
    call = call_record()
    ticket = await first.begin_call(call)
    await first.open()  # opening an open store is harmless
    await first.close()
    async with open_store(store_url) as second, open_store(store_url) as third:
        assert await second.get_ticket(ticket.id) == ticket
        assert await third.get_ticket(ticket.id) == ticket
        async with second._transaction("test", write=False) as tx:  # type: ignore[attr-defined]
            rows = await tx.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [
        (m.version, m.name) for m in all_migrations()
    ]


async def test_status_lifecycle_with_history(store: SqlTicketStore) -> None:
    call = call_record()
    ticket = await store.begin_call(call)
    expected = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    routed = await store.set_routing(ticket.id, "UBND Phường Bàn Cờ", "place→ward", expected)
    assert routed.status is TicketStatus.ROUTED
    assert (routed.agency_responsible, routed.routing_rule) == ("UBND Phường Bàn Cờ", "place→ward")
    assert routed.expected_datetime == expected
    rerouted = await store.set_routing(ticket.id, "Sở LĐ-TB&XH", "case_type→policy", None)
    assert rerouted.agency_responsible == "Sở LĐ-TB&XH" and rerouted.expected_datetime is None

    for status in (TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
        moved = await store.change_status(ticket.id, status, "can_bo_12", f"→ {status}")
        assert moved.status is status and moved.status_notes == f"→ {status}"
    closed = await store.change_status(ticket.id, TicketStatus.CLOSED, "giam_sat_01")
    assert closed.status is TicketStatus.CLOSED

    with pytest.raises(TransitionError):
        await store.change_status(ticket.id, TicketStatus.IN_PROGRESS, "can_bo_12")
    with pytest.raises(TransitionError):
        await store.set_routing(ticket.id, "UBND Quận 1", "place", None)
    with pytest.raises(NotFoundError):
        await store.change_status(ticket.id + 1000, TicketStatus.ROUTED, "can_bo_12")

    changes = [
        (e.data["from"], e.data["to"], e.actor)
        for e in await store.list_history(ticket.id)
        if e.kind is EventKind.STATUS_CHANGED
    ]
    assert changes == [
        ("new", "routed", "router"),
        ("routed", "accepted", "can_bo_12"),
        ("accepted", "in_progress", "can_bo_12"),
        ("in_progress", "resolved", "can_bo_12"),
        ("resolved", "closed", "giam_sat_01"),
    ]
    routings = [e for e in await store.list_history(ticket.id) if e.kind is EventKind.ROUTED]
    assert [e.data["agency"] for e in routings] == ["UBND Phường Bàn Cờ", "Sở LĐ-TB&XH"]
    assert routings[0].data["expected_datetime"] == "2026-11-30T17:00:00+00:00"


async def test_rejecting_needs_a_reason_and_is_recorded(store: SqlTicketStore) -> None:
    ticket = await store.begin_call(call_record())
    with pytest.raises(TransitionError, match="reason"):
        await store.change_status(ticket.id, TicketStatus.REJECTED, "can_bo_12")
    with pytest.raises(TransitionError, match="not allowed"):
        await store.change_status(ticket.id, TicketStatus.RESOLVED, "can_bo_12")
    rejected = await store.change_status(
        ticket.id, TicketStatus.REJECTED, "can_bo_12", "gọi lại 2 lần", reason="duplicate"
    )
    assert rejected.status is TicketStatus.REJECTED
    last = (await store.list_history(ticket.id))[-1]
    assert (last.kind, last.reason) == (EventKind.STATUS_CHANGED, "duplicate")
    assert (await store.get_ticket(ticket.id)).status is TicketStatus.REJECTED  # type: ignore[union-attr]


def test_every_status_has_its_transitions_written_down() -> None:
    assert set(STATUS_TRANSITIONS) == set(TicketStatus)
    assert STATUS_TRANSITIONS[TicketStatus.CLOSED] == frozenset()
    # Everything can end up closed.
    for status in TicketStatus:
        seen, frontier = {status}, [status]
        while frontier:
            for following in STATUS_TRANSITIONS[frontier.pop()]:
                if following not in seen:
                    seen.add(following)
                    frontier.append(following)
        assert TicketStatus.CLOSED in seen


# --- Failures become StoreError ---------------------------------------------------------


async def test_a_full_sqlite_disk_raises_store_error(tmp_path: Path) -> None:
    async with SqliteTicketStore(tmp_path / "full.db") as store:
        call = call_record()
        ticket = await store.begin_call(call)
        # A real SQLITE_FULL: forbid the file from growing past its current size.
        writer = store._writer
        assert writer is not None
        (pages,) = (await writer.execute_fetchall("PRAGMA page_count"))[0]
        await writer.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="full") as caught:
            for seq in range(1000):
                await store.append_turn(turn(call.call_id, seq, "x" * 4000))
        assert "append_turn" in str(caught.value)
        with pytest.raises(StoreError, match="full"):
            for n in range(1000):
                await store.begin_call(call_record(n))
        # What was committed before is still there and the store still reads.
        assert (await store.get_ticket(ticket.id)) == ticket
        assert len(await store.list_turns(call.call_id)) < 1000


async def test_an_unwritable_sqlite_path_raises_store_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "plain-file"
    not_a_dir.write_text("")
    with pytest.raises(StoreError, match="cannot open"):
        await open_store(f"sqlite:///{not_a_dir / 'sub' / 'tickets.db'}")


async def test_a_read_only_sqlite_database_raises_store_error(tmp_path: Path) -> None:
    # chmod is no test when the suite runs as root, so make the connection itself read-only.
    async with SqliteTicketStore(tmp_path / "ro.db") as store:
        call = call_record()
        await store.begin_call(call)
        assert store._writer is not None
        await store._writer.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreError, match=r"readonly|read-only|read only"):
            await store.append_turn(turn(call.call_id, 0))
        with pytest.raises(StoreError, match="set_slot"):
            await store.set_slot(call.call_id, slot("place", "Quận 1"))


async def test_a_closed_store_raises_store_error(store: SqlTicketStore) -> None:
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.begin_call(call_record())


async def test_an_unreachable_postgres_raises_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open PostgreSQL"):
        await open_store("postgresql://postgres@127.0.0.1:1/test?pool_min=1")


async def test_a_lost_postgres_connection_raises_store_error_then_recovers(
    pg_store_url: str,
) -> None:
    import asyncpg
    from conftest_store import PG_URL

    async with open_store(pg_store_url) as store:
        call = call_record()
        await store.begin_call(call)
        # What a server restart or a network cut does to the pool's connections.
        application_name = dict(parse_qsl(urlsplit(pg_store_url).query))["application_name"]
        admin = await asyncpg.connect(PG_URL)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1",
                application_name,
            )
        finally:
            await admin.close()
        assert killed >= 1
        outcomes = []
        for seq in range(killed + 1):
            try:
                await store.append_turn(turn(call.call_id, seq))
                outcomes.append("ok")
            except StoreError as error:  # never a raw asyncpg error
                assert "append_turn" in str(error)
                outcomes.append("error")
        # A connection the pool sees closed is replaced unnoticed; one it does not fails
        # that one write. Either way the store carries on.
        assert outcomes[-1] == "ok"
        # The pool reconnected: everything written after the cut is there.
        stored = [t.seq for t in await store.list_turns(call.call_id)]
        assert stored == [seq for seq, outcome in enumerate(outcomes) if outcome == "ok"]


def test_sqlite_scripts_split_where_sqlite_says() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- note\nCREATE INDEX i ON a (x);\n"
    assert split_statements(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "-- note\nCREATE INDEX i ON a (x);",
    ]
    for step in all_migrations():
        assert split_statements(step.sqlite)


def test_store_urls() -> None:
    from callbot.tickets.store.factory import open_store as from_url

    assert isinstance(from_url("sqlite:///var/callbot.db"), SqliteTicketStore)
    assert from_url("sqlite:///var/callbot.db").path == Path("var/callbot.db")  # type: ignore[attr-defined]
    assert from_url("sqlite:////srv/t.db").path == Path("/srv/t.db")  # type: ignore[attr-defined]
    assert from_url().path == Path("var/callbot.db")  # type: ignore[attr-defined]
    for bad in ("mysql://x/y", "sqlite://host/x.db", "sqlite:///"):
        with pytest.raises(StoreError):
            from_url(bad)
