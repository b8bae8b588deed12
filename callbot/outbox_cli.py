"""Agency deliveries: run the outbox worker on its own, list deliveries, retry failed ones,
route a ticket by hand.

  callbot outbox run                      deliver until SIGINT/SIGTERM (beside or instead of
                                          the worker inside `callbot serve`)
  callbot outbox list [--status failed]   newest first
  callbot outbox retry ID … | --failed    put failed deliveries back in the queue
  callbot outbox route TICKET [--force]   route one ticket now (--force: even incomplete)
  callbot outbox messages [--status failed]         messages to callers (issue 18)
  callbot outbox retry-messages ID … | --failed     put failed messages back in the queue
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from callbot.config import Settings
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.notify.base import NotificationStatus

if TYPE_CHECKING:  # heavy imports stay inside run(), as cli.py asks of subcommands
    from callbot.tickets.routing import RoutingRules
    from callbot.tickets.store.sql_store import SqlTicketStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "action", choices=["run", "list", "retry", "route", "messages", "retry-messages"]
    )
    parser.add_argument("ids", nargs="*", type=int, help="delivery ids (retry), ticket (route)")
    statuses = {str(s) for s in DeliveryStatus} | {str(s) for s in NotificationStatus}
    parser.add_argument("--status", choices=sorted(statuses))
    parser.add_argument("--ticket", type=int, help="list: only this ticket's deliveries")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--failed", action="store_true", help="retry: every failed delivery")
    parser.add_argument("--force", action="store_true", help="route: even an incomplete ticket")


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_main(args, settings))


async def _main(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.cli import open_existing_store
    from callbot.tickets.routing import RulesError, load_rules

    try:
        rules = load_rules(settings.routing.rules_file)
    except RulesError as error:
        print(f"callbot outbox: {error}", file=sys.stderr)
        return 2
    if args.status and args.action == "list" and args.status not in set(DeliveryStatus):
        print(f"callbot outbox list: {args.status} is a message status", file=sys.stderr)
        return 2
    if args.action == "run":
        # The worker is a service beside `callbot serve` (systemd starts both, in either
        # order): like serve it opens the store, creating and migrating it if need be.
        from callbot.tickets.store.factory import open_store

        store: SqlTicketStore = open_store(settings.store.url)  # type: ignore[assignment]
        await store.open()
    else:
        # The other actions work on deliveries already filed: never create a store for them.
        store = await open_existing_store(settings)  # type: ignore[assignment]
    try:
        match args.action:
            case "run":
                return await _run_worker(store, rules, settings)
            case "list":
                return await _list(store, args)
            case "retry":
                return await _retry(store, args)
            case "route":
                return await _route(store, rules, args)
            case "messages" | "retry-messages":
                return await _messages(store, args)
    finally:
        await store.close()
    return 2


async def _run_worker(store: SqlTicketStore, rules: RoutingRules, settings: Settings) -> int:
    from callbot.tickets.notify.worker import start_notifications
    from callbot.tickets.outbox import OutboxWorker
    from callbot.tickets.routing import TicketPipeline

    pipeline = TicketPipeline(store, rules)
    worker = OutboxWorker(store, rules, settings.outbox, pipeline=pipeline)
    pipeline.notify = worker.wake
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.start()
    notifications = await start_notifications(store, settings)  # issue 18, [notify] enabled
    print("callbot outbox: worker running", flush=True)
    await stop.wait()
    await worker.stop()
    if notifications is not None:
        await notifications.stop()
    return 0


async def _list(store: SqlTicketStore, args: argparse.Namespace) -> int:
    status = DeliveryStatus(args.status) if args.status else None
    deliveries = await store.list_deliveries(status, ticket_id=args.ticket, limit=args.limit)
    for d in deliveries:
        when = d.delivered_at or d.next_attempt_at
        print(
            f"{d.id:<6} #{d.ticket_id:<6} v{d.routing_version} {d.agency_id:<12} "
            f"{d.status:<10} attempts={d.attempts:<2} "
            f"{f'{when:%Y-%m-%d %H:%M:%S}' if when else '-':<19} {d.last_error or ''}"
        )
    print(f"{len(deliveries)} deliveries")
    return 0


async def _retry(store: SqlTicketStore, args: argparse.Namespace) -> int:
    ids = list(args.ids)
    if args.failed:
        ids += [d.id for d in await store.list_deliveries(DeliveryStatus.FAILED, limit=100_000)]
    if not ids:
        print("callbot outbox retry: name delivery ids or --failed", file=sys.stderr)
        return 2
    print(f"{await store.retry_deliveries(ids)} deliveries queued again")
    return 0


async def _route(store: SqlTicketStore, rules: RoutingRules, args: argparse.Namespace) -> int:
    from callbot.tickets.routing import route_ticket

    if len(args.ids) != 1:
        print("callbot outbox route: name one ticket", file=sys.stderr)
        return 2
    routed = await route_ticket(store, args.ids[0], rules, actor="operator", force=args.force)
    if routed is None:
        print(f"ticket {args.ids[0]} not routed (unknown, not new/routed, incomplete, or no place)")
        return 1
    print(f"ticket {routed.ticket.id}: {routed.decision.rule}")
    for d in routed.deliveries:
        print(f"  {d.idempotency_key} {d.status}")
    return 0


async def _messages(store: SqlTicketStore, args: argparse.Namespace) -> int:
    """Issue 18: the caller's messages (no number, no text: the rows hold neither)."""
    if args.action == "retry-messages":
        ids = list(args.ids)
        if args.failed:
            failed = await store.list_notifications(NotificationStatus.FAILED, limit=100_000)
            ids += [n.id for n in failed]
        if not ids:
            print("callbot outbox retry-messages: name message ids or --failed", file=sys.stderr)
            return 2
        print(f"{await store.retry_notifications(ids)} messages queued again")
        return 0
    status = NotificationStatus(args.status) if args.status in set(NotificationStatus) else None
    found = await store.list_notifications(status, ticket_id=args.ticket, limit=args.limit)
    for n in found:
        when = n.sent_at or n.next_attempt_at
        print(
            f"{n.id:<6} #{n.ticket_id:<6} {n.event:<10} {n.channel:<4} {n.status:<9} "
            f"attempts={n.attempts:<2} {when:%Y-%m-%d %H:%M:%S} {n.last_code or ''} "
            f"{n.last_error or ''}"
        )
    print(f"{len(found)} messages")
    return 0
