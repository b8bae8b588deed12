"""One watcher per process for a supervisor's "hand back now" (callbot/call/handback_watch.py)
on a real SQLite file and a real PostgreSQL schema: one query per poll whatever the number
of calls, only this process's calls told, each once; none polled when no call is up; a
call watched again after a failed hand-back fires only on a new request; an outage warned
about once."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callbot.call.handback_watch import HandbackWatch
from callbot.tickets.model import CallRecord
from callbot.tickets.store.sql_store import SqlTicketStore

try:
    from live_calls import FIRE_CALL, FLOOD_CALL, seed_live
except ImportError:
    from tests.live_calls import FIRE_CALL, FLOOD_CALL, seed_live

pytest_plugins = ["conftest_store"]

POLL_S = 0.05


Statement = tuple[str, tuple[Any, ...]]


class _CountingTx:
    def __init__(self, tx: Any, op: str, counts: Counter[str], ran: list[Statement]) -> None:
        self.tx, self.op, self.counts, self.ran = tx, op, counts, ran

    async def fetch(self, sql: str, *args: Any) -> Sequence[Any]:
        self.counts[self.op] += 1
        self.ran.append((sql, args))
        return await self.tx.fetch(sql, *args)


def count_statements(store: SqlTicketStore, ran: list[Statement] | None = None) -> Counter[str]:
    """The SQL statements the store runs from now on, by operation: the real store's own
    transactions, each statement counted on its way to the database (and kept in ``ran``,
    SQL and arguments, when given)."""
    counts: Counter[str] = Counter()
    kept: list[Statement] = [] if ran is None else ran
    inner = store._transaction

    @asynccontextmanager
    async def counted(op: str, *, write: bool) -> AsyncIterator[Any]:
        async with inner(op, write=write) as tx:
            yield _CountingTx(tx, op, counts, kept)

    store._transaction = counted  # type: ignore[method-assign]
    return counts


class Told:
    """What the watcher delivered, by call id."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def to(self, call_id: str):
        return lambda: self.calls.append(call_id)


async def ticket_of(store: SqlTicketStore, call_id: str) -> int:
    ticket = await store.get_ticket_for_call(call_id)
    assert ticket is not None
    return ticket.id


async def test_pending_handbacks_names_only_the_requests_not_acted_on(
    store: SqlTicketStore,
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    assert await store.pending_handbacks() == set()
    await store.request_handback(ids["fire"], actor="giamsat")
    assert await store.pending_handbacks() == {FIRE_CALL}
    await store.request_handback(ids["flood"], actor="giamsat")
    assert await store.pending_handbacks() == {FIRE_CALL, FLOOD_CALL}
    await store.finish_handback(FIRE_CALL, handed_back=False)
    await store.finish_handback(FLOOD_CALL, handed_back=True)
    assert await store.pending_handbacks() == set()
    await store.request_handback(ids["fire"], actor="giamsat")  # asked again after a failure
    assert await store.pending_handbacks() == {FIRE_CALL}


@pytest.mark.parametrize("watched_calls", [1, 40])
async def test_one_query_per_poll_whatever_the_number_of_calls(
    store: SqlTicketStore, watched_calls: int
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    others = [f"22222222-0000-4000-8000-{n:012d}" for n in range(watched_calls - 1)]
    start = datetime.now(UTC) - timedelta(minutes=1)
    for call_id in others:
        await store.begin_call(CallRecord(call_id, start), owner="test-owner")
    # FLOOD_CALL runs on another machine: its request is not this process's to act on.
    await store.request_handback(ids["fire"], actor="giamsat")
    await store.request_handback(ids["flood"], actor="giamsat")
    counts = count_statements(store)
    watch, told = HandbackWatch(store, poll_s=POLL_S), Told()
    for call_id in [FIRE_CALL, *others]:
        watch.watch(call_id, told.to(call_id))
    for _ in range(3):
        await watch.poll_once()
    await watch.close()
    assert counts == Counter({"pending_handbacks": 3})  # one statement per poll, no more
    assert told.calls == [FIRE_CALL]  # once, though still pending at the next two polls
    assert FLOOD_CALL not in told.calls
    assert await store.pending_handbacks() == {FIRE_CALL, FLOOD_CALL}  # the watcher only reads


async def test_no_query_while_no_call_is_up_and_none_after_the_last_ends(
    store: SqlTicketStore,
) -> None:
    await seed_live(store, datetime.now(UTC))
    counts = count_statements(store)
    watch, told = HandbackWatch(store, poll_s=POLL_S), Told()
    await asyncio.sleep(6 * POLL_S)
    assert counts["pending_handbacks"] == 0 and not watch.polling

    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    watch.watch(FLOOD_CALL, told.to(FLOOD_CALL))
    await asyncio.sleep(8 * POLL_S)
    polled = counts["pending_handbacks"]
    assert polled >= 3 and watch.polling

    watch.unwatch(FIRE_CALL)
    watch.unwatch(FLOOD_CALL)  # the last call ended
    await asyncio.sleep(3 * POLL_S)
    assert not watch.polling
    stopped_at = counts["pending_handbacks"]
    assert stopped_at <= polled + 1  # at most the query already under way
    await asyncio.sleep(6 * POLL_S)
    assert counts["pending_handbacks"] == stopped_at

    # A new call starts the watcher again, and a request reaches it within a poll or two.
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    await store.request_handback(await ticket_of(store, FIRE_CALL), actor="giamsat")
    for _ in range(40):
        if told.calls:
            break
        await asyncio.sleep(POLL_S)
    assert told.calls == [FIRE_CALL]
    await watch.close()
    assert not watch.polling


async def test_watched_again_after_a_failed_hand_back_fires_only_on_a_new_request(
    store: SqlTicketStore,
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    watch, told = HandbackWatch(store, poll_s=POLL_S), Told()
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    await store.request_handback(ids["fire"], actor="giamsat")
    await watch.poll_once()
    assert told.calls == [FIRE_CALL]
    # AMI could not mark the channel: the outcome is stored, the call watched again.
    await store.finish_handback(FIRE_CALL, handed_back=False)
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    await watch.poll_once()
    await watch.poll_once()
    assert told.calls == [FIRE_CALL]
    await store.request_handback(ids["fire"], actor="giamsat2")  # the supervisor asks again
    await watch.poll_once()
    assert told.calls == [FIRE_CALL, FIRE_CALL]
    await watch.close()


class HeldRead:
    """The real store, whose read of pending requests is held after the database answered:
    what a call does meanwhile happens while the query is under way."""

    def __init__(self, store: SqlTicketStore) -> None:
        self.store = store
        self.answered = asyncio.Event()
        self.release = asyncio.Event()

    async def pending_handbacks(self) -> set[str]:
        pending = await self.store.pending_handbacks()
        self.answered.set()
        await self.release.wait()
        return pending


async def test_a_read_taken_before_the_call_was_watched_again_does_not_fire_it(
    store: SqlTicketStore,
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    held = HeldRead(store)
    watch, told = HandbackWatch(held, poll_s=POLL_S), Told()
    await store.request_handback(ids["fire"], actor="giamsat")
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    held.release.set()
    await watch.poll_once()
    assert told.calls == [FIRE_CALL]
    # The next read sees the request still pending; before it returns, the call's hand-back
    # fails, is stored as failed, and the call is watched again.
    held.release.clear()
    held.answered.clear()
    reading = asyncio.create_task(watch.poll_once())
    await held.answered.wait()
    await store.finish_handback(FIRE_CALL, handed_back=False)
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    held.release.set()
    await reading
    assert told.calls == [FIRE_CALL]  # the stale "pending" did not fire it again
    await watch.poll_once()
    assert told.calls == [FIRE_CALL]
    assert watch.watched == 1
    await watch.close()


async def test_an_outage_is_warned_about_once_and_the_request_arrives_after_it(
    store: SqlTicketStore, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    watch, told = HandbackWatch(store, poll_s=POLL_S), Told()
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    await store.request_handback(ids["fire"], actor="giamsat")
    await store.close()  # the database is gone
    with caplog.at_level(logging.INFO, logger="callbot.call.handback_watch"):
        for _ in range(4):
            await watch.poll_once()
        assert told.calls == []
        await store.open()
        await watch.poll_once()
    mine = [r for r in caplog.records if r.name == "callbot.call.handback_watch"]
    warnings = [r for r in mine if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "cannot read hand-back requests" in warnings[0].getMessage()
    assert any("readable again" in r.getMessage() for r in mine)
    assert told.calls == [FIRE_CALL]
    await watch.close()


async def test_an_unwatched_call_is_never_told(store: SqlTicketStore) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    watch, told = HandbackWatch(store, poll_s=POLL_S), Told()
    watch.watch(FIRE_CALL, told.to(FIRE_CALL))
    watch.watch(FLOOD_CALL, told.to(FLOOD_CALL))
    watch.unwatch(FIRE_CALL)  # the call ended before the request was read
    await store.request_handback(ids["fire"], actor="giamsat")
    await store.request_handback(ids["flood"], actor="giamsat")
    await watch.poll_once()
    assert told.calls == [FLOOD_CALL]
    await watch.close()


async def test_the_watchers_query_reads_an_index_not_the_whole_table(
    store: SqlTicketStore, store_url: str
) -> None:
    # handback_requests keeps every hand-back ever asked; the once-a-second query must not
    # scan it (migration 0015). The statement checked is the one the store really runs.
    ran: list[Statement] = []
    count_statements(store, ran)
    await store.pending_handbacks()
    [(sql, args)] = ran
    async with store._transaction("explain", write=False) as tx:
        if store_url.startswith("sqlite"):
            plan = " ".join(
                str(row["detail"]) for row in await tx.fetch(f"EXPLAIN QUERY PLAN {sql}", *args)
            )
        else:
            # A table of a few rows is cheaper to scan: ask whether the index can be used.
            await tx.fetch("SET LOCAL enable_seqscan = off")
            plan = " ".join(
                str(row["QUERY PLAN"]) for row in await tx.fetch(f"EXPLAIN {sql}", *args)
            )
    assert "handback_requests_status" in plan, plan
