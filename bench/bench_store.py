"""Ticket store write throughput and latency under many calls writing at once.

Each simulated call does what the call session does: ``begin_call``, ~20 turns with a
``set_slot`` after every few, then ``end_call`` (28 writes). All calls start together and
write as fast as the store answers, a harsher burst than real calls, which pause seconds
between turns. Prints writes/s and per-write latency (p50/p95/p99) for each store.

    .venv/bin/python bench/bench_store.py                       # both stores, 200 calls
    .venv/bin/python bench/bench_store.py --engine sqlite --calls 50
    CALLBOT_BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python …

PostgreSQL runs in a throw-away schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    SlotSource,
    SlotValue,
    Speaker,
    Turn,
    TurnKind,
)
from callbot.tickets.store.base import TicketStore
from callbot.tickets.store.factory import open_store

PG_URL = os.environ.get("CALLBOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SLOTS = ["case_type", "subject", "place", "household_size", "callback_number", "description"]


class Timings:
    by_op: dict[str, list[float]]

    def __init__(self, pace_s: float) -> None:
        self.by_op = defaultdict(list)
        self.pace_s = pace_s

    async def timed(self, op: str, write: Callable[[], Awaitable[object]]) -> None:
        start = time.perf_counter()
        await write()
        self.by_op[op].append(time.perf_counter() - start)
        if self.pace_s:
            # Jittered so that paced calls do not all write in the same instant.
            await asyncio.sleep(self.pace_s * random.uniform(0.5, 1.5))

    def all(self) -> list[float]:
        return [t for times in self.by_op.values() for t in times]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def one_call(store: TicketStore, n: int, turns: int, timings: Timings) -> str:
    call_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    call = CallRecord(call_id, started, caller_number=f"09{n:08d}")
    await timings.timed("begin_call", lambda: store.begin_call(call))
    every = max(1, turns // len(SLOTS))
    slots = iter(SLOTS)
    for seq in range(turns):
        speaker, kind = (
            (Speaker.BOT, TurnKind.PROMPT)
            if seq % 2 == 0
            else (
                Speaker.CALLER,
                TurnKind.SPEECH,
            )
        )
        turn = Turn(
            call_id,
            seq,
            started + timedelta(seconds=seq * 3),
            speaker,
            kind,
            "Dạ, nhà tôi ở phường Bàn Cờ, cần hỗ trợ gạo và mì cho bốn người ạ.",
            confidence=0.8,
            start_ms=seq * 3000,
            end_ms=seq * 3000 + 2500,
        )
        await timings.timed("append_turn", lambda turn=turn: store.append_turn(turn))
        if seq % every == every - 1:
            name = next(slots, None)
            if name is not None:
                slot = SlotValue(name, f"giá trị {name}", SlotSource.SPEECH, 0.9, "nghe được")
                await timings.timed("set_slot", lambda slot=slot: store.set_slot(call_id, slot))
    await timings.timed(
        "end_call",
        lambda: store.end_call(
            call_id, ended_at=datetime.now(UTC), reason=CallEndReason.COMPLETED, complete=True
        ),
    )
    return call_id


async def bench(url: str, label: str, calls: int, turns: int, pace_s: float) -> dict[str, object]:
    store = await open_store(url)
    timings = Timings(pace_s)
    try:
        start = time.perf_counter()
        call_ids = await asyncio.gather(*(one_call(store, n, turns, timings) for n in range(calls)))
        wall = time.perf_counter() - start
        # Nothing lost: every ticket and every turn is there.
        stored = len(await store.list_tickets(limit=calls + 1))
        stored_turns = sum([len(await store.list_turns(call_id)) for call_id in call_ids])
    finally:
        await store.close()
    assert stored == calls, f"{label}: {stored} tickets for {calls} calls"
    assert stored_turns == calls * turns, f"{label}: {stored_turns} turns stored"
    writes = timings.all()
    result: dict[str, object] = {
        "store": label,
        "calls": calls,
        "writes": len(writes),
        "wall_s": wall,
        "writes_per_s": len(writes) / wall,
        "p50_ms": percentile(writes, 50) * 1000,
        "p95_ms": percentile(writes, 95) * 1000,
        "p99_ms": percentile(writes, 99) * 1000,
    }
    for op, times in timings.by_op.items():
        result[f"{op}_p95_ms"] = percentile(times, 95) * 1000
    return result


async def bench_postgres(calls: int, turns: int, pace_s: float) -> dict[str, object]:
    import asyncpg

    schema = f"bench_store_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        return await bench(
            f"{PG_URL}?schema={schema}&pool_max=20", "postgresql", calls, turns, pace_s
        )
    finally:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument(
        "--pace-ms",
        type=float,
        default=0,
        help="mean pause after each write of a call (0: burst, as fast as the store answers)",
    )
    args = parser.parse_args()

    print(
        f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{args.calls} calls at once, each begin_call + {args.turns} turns + "
        f"{len(SLOTS)} set_slot + end_call; "
        + (f"~{args.pace_ms:g} ms between a call's writes" if args.pace_ms else "burst")
    )
    pace_s = args.pace_ms / 1000
    results = []
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            results.append(
                await bench(url, "sqlite (WAL, synchronous=NORMAL)", args.calls, args.turns, pace_s)
            )
    if args.engine in ("postgresql", "both"):
        results.append(await bench_postgres(args.calls, args.turns, pace_s))

    header = "| store | writes | wall s | writes/s | p50 ms | p95 ms | p99 ms |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['store']} | {r['writes']} | {r['wall_s']:.2f} | {r['writes_per_s']:.0f} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"
        )
    print()
    print("p95 ms by operation:")
    for r in results:
        ops = ", ".join(
            f"{key.removesuffix('_p95_ms')} {value:.1f}"
            for key, value in r.items()
            if key.endswith("_p95_ms")
        )
        print(f"- {r['store']}: {ops}")


if __name__ == "__main__":
    asyncio.run(main())
