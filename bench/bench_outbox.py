"""Routing and agency delivery figures: how long a routing decision takes, and how many
deliveries a second one outbox worker gets through to a local webhook.

    .venv/bin/python bench/bench_outbox.py                      # both stores, 500 tickets
    .venv/bin/python bench/bench_outbox.py --engine sqlite --tickets 200

The webhook is the tests' stdlib receiver (tests/webhook_receiver.py, one thread per
request) on loopback, so the delivery rate is the worker's and the store's cost, not a
network's. PostgreSQL runs in a throw-away schema (CALLBOT_BENCH_PG_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from ticket_helpers import call_ticket  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

from callbot.config import OutboxSettings  # noqa: E402
from callbot.nlu.admin_units import districts_2021, wards_2025  # noqa: E402
from callbot.tickets.deliveries import DeliveryStatus  # noqa: E402
from callbot.tickets.model import Channel, Ticket, TicketStatus  # noqa: E402
from callbot.tickets.outbox import OutboxWorker  # noqa: E402
from callbot.tickets.routing import parse_rules, route, route_ticket  # noqa: E402
from callbot.tickets.store.factory import open_store  # noqa: E402

PG_URL = os.environ.get("CALLBOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def bench_route() -> None:
    rules = parse_rules({"case_agencies": {}, "sla_hours": {"essentials": 24}})
    units = [u.name for u in (*districts_2021(), *wards_2025())]
    tickets = [
        Ticket(1, None, Channel.VOICE, TicketStatus.NEW, True, "essentials", admin_unit=u)
        for u in units
    ]
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        for ticket in tickets:
            route(ticket, rules)
    per = (time.perf_counter() - started) / (rounds * len(tickets))
    print(f"route(): {per * 1e6:.1f} µs per decision over {len(units)} units")


async def bench_delivery(url: str, label: str, count: int) -> None:
    with WebhookReceiver() as receiver:
        rules = parse_rules(
            {"committees": {"endpoint": receiver.url + "/{code}", "secret_env": "BENCH_SECRET"}}
        )
        store = await open_store(url)
        try:
            started = time.perf_counter()
            for n in range(count):
                ticket = await call_ticket(store, place="Quận 3" if n % 2 else "Phường Bến Thành")
                await route_ticket(store, ticket.id, rules)
            routed = time.perf_counter() - started
            settings = OutboxSettings(poll_interval_s=0.05, batch=50, concurrency=16)
            worker = OutboxWorker(store, rules, settings, env={"BENCH_SECRET": receiver.secret})
            started = time.perf_counter()
            await worker.start()
            await asyncio.to_thread(receiver.wait_accepted, count, 300.0)
            await worker.stop()
            delivered = time.perf_counter() - started
            done = await store.list_deliveries(DeliveryStatus.DELIVERED, limit=count)
            assert len(done) == count
        finally:
            await store.close()
    print(
        f"{label}: file+route+enqueue {routed / count * 1e3:.1f} ms per call ticket; "
        f"delivered {count} in {delivered:.2f} s = {count / delivered:.0f} deliveries/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=500)
    args = parser.parse_args()
    bench_route()
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench_delivery(f"sqlite:///{tmp}/bench.db", "SQLite", args.tickets)
    if args.engine in ("postgres", "both"):
        schema = f"bench_outbox_{uuid.uuid4().hex[:8]}"
        try:
            await bench_delivery(f"{PG_URL}?schema={schema}", "PostgreSQL", args.tickets)
        finally:
            conn = await asyncpg.connect(PG_URL)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
