"""The outbox against a real HTTP receiver and real stores (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from ticket_helpers import call_ticket
from webhook_receiver import WebhookReceiver

from callbot.config import OutboxSettings
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.model import EventKind, utcnow
from callbot.tickets.outbox import OutboxWorker, backoff_s, sign, verify_signature
from callbot.tickets.routing import RoutingRules, TicketPipeline, parse_rules, route_ticket
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]

ENV = {"SECRET_UBND": "test-secret", "SECRET_SNV": "test-secret"}
FAST = OutboxSettings(
    poll_interval_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2, lease_s=30, max_attempts=5
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def rules_for(receiver: WebhookReceiver) -> RoutingRules:
    return parse_rules(
        {
            "committees": {"endpoint": receiver.url + "/{code}", "secret_env": "SECRET_UBND"},
            "case_agencies": {"support_policy": ["so-noi-vu"]},
            "sla_hours": {"support_policy": 72},
            "agencies": {
                "so-noi-vu": {
                    "name": "Sở Nội vụ",
                    "endpoint": receiver.url + "/snv",
                    "secret_env": "SECRET_SNV",
                }
            },
            # The tickets here are one household calling again and again (call_ticket's
            # slots); these tests are about deliveries, so every ticket is its own case.
            "household_window_days": 0,
        }
    )


async def routed_ticket(store: SqlTicketStore, rules: RoutingRules, **fields: object) -> int:
    t = await call_ticket(store, **fields)  # type: ignore[arg-type]
    assert await route_ticket(store, t.id, rules) is not None
    return t.id


async def drain(worker: OutboxWorker, store: SqlTicketStore, timeout: float = 10.0) -> None:
    """Run attempts until nothing is pending (as the loop would, without its timing)."""
    deadline = time.monotonic() + timeout
    while await store.list_deliveries(DeliveryStatus.PENDING):
        assert time.monotonic() < deadline, "deliveries still pending"
        if not await worker.run_once():
            await asyncio.sleep(0.02)


async def test_delivers_signed_idempotent_json_to_every_agency(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    rules = rules_for(receiver)
    ticket_id = await routed_ticket(store, rules, case_type="support_policy")
    worker = OutboxWorker(store, rules, FAST, env=ENV)
    await worker.start()
    try:
        accepted = await asyncio.to_thread(receiver.wait_accepted, 2)
    finally:
        await worker.stop()
    committee = accepted[f"ticket-{ticket_id}/ubnd-770/v1"]
    policy = accepted[f"ticket-{ticket_id}/so-noi-vu/v1"]
    assert committee.path == "/inbox/770" and policy.path == "/inbox/snv"
    assert committee.signature_ok and committee.attempt == "1"
    body = committee.body
    # Open311 fields, then what only the agency sees.
    assert body["service_request_id"] == str(ticket_id)
    assert body["service_code"] == "support_policy" and body["status"] == "open"
    assert body["agency_responsible"] == "Ủy ban nhân dân Quận 3"
    assert body["phone"] == "0903456789" and body["description"] == "nhà hết gạo"
    ours = body["callbot"]
    assert ours["name"] == "Nguyễn Văn An" and ours["household_size"] == "5"
    assert (
        ours["delivery"]["primary"] is True
        and policy.body["callbot"]["delivery"]["primary"] is False
    )
    assert ours["place_scheme"] == "district_2021" and "Phường Bàn Cờ" in ours["wards_2025"]
    deliveries = await store.list_deliveries(ticket_id=ticket_id)
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    events = [e for e in await store.list_history(ticket_id) if e.kind is EventKind.DELIVERY]
    assert sorted(e.data["agency_id"] for e in events) == ["so-noi-vu", "ubnd-770"]


async def test_retries_with_backoff_until_the_receiver_recovers(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 2
    rules = rules_for(receiver)
    ticket_id = await routed_ticket(store, rules)
    worker = OutboxWorker(store, rules, FAST, env=ENV)
    await worker.start()
    try:
        accepted = await asyncio.to_thread(receiver.wait_accepted, 1)
    finally:
        await worker.stop()
    assert accepted[f"ticket-{ticket_id}/ubnd-770/v1"].attempt == "3"
    assert [r.status for r in receiver.requests] == [503, 503, 200]
    assert {r.key for r in receiver.requests} == {f"ticket-{ticket_id}/ubnd-770/v1"}
    [delivery] = await store.list_deliveries(ticket_id=ticket_id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 3


async def test_a_new_worker_after_a_restart_picks_up_pending_rows(
    store_url: str, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 1
    rules = rules_for(receiver)
    slow = OutboxSettings(**{**FAST.__dict__, "backoff_base_s": 0.3, "backoff_max_s": 0.3})
    first_store = await open_store(store_url)
    ticket_id = await routed_ticket(first_store, rules)  # type: ignore[arg-type]
    first = OutboxWorker(first_store, rules, slow, env=ENV)  # type: ignore[arg-type]
    await first.start()
    try:
        await first.run_once()  # 503: the row waits for its retry, persisted
    finally:
        await first.stop()
    [waiting] = await first_store.list_deliveries(DeliveryStatus.PENDING)
    assert waiting.attempts == 1 and waiting.last_status == 503
    assert waiting.next_attempt_at > utcnow()  # the backoff is in the store
    await first_store.close()

    second_store = await open_store(store_url)  # "the process restarted"
    second = OutboxWorker(second_store, rules, slow, env=ENV)  # type: ignore[arg-type]
    await second.start()
    try:
        await asyncio.to_thread(receiver.wait_accepted, 1)
    finally:
        await second.stop()
        [done] = await second_store.list_deliveries(ticket_id=ticket_id)
        await second_store.close()
    assert done.status is DeliveryStatus.DELIVERED and done.attempts == 2


async def test_gives_up_after_max_attempts_and_an_operator_can_retry(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 3
    rules = rules_for(receiver)
    ticket_id = await routed_ticket(store, rules)
    worker = OutboxWorker(store, rules, OutboxSettings(**{**FAST.__dict__, "max_attempts": 3}))
    worker.env = ENV
    await worker.start()
    await drain(worker, store)
    [failed] = await store.list_deliveries(DeliveryStatus.FAILED)
    assert failed.ticket_id == ticket_id and failed.attempts == 3
    assert failed.last_status == 503 and "gave up after 3 attempts" in (failed.last_error or "")
    [event] = [e for e in await store.list_history(ticket_id) if e.kind is EventKind.DELIVERY]
    assert event.data["outcome"] == "failed"
    assert await store.retry_deliveries([failed.id]) == 1  # the receiver works again now
    await drain(worker, store)
    await worker.stop()
    [delivered] = await store.list_deliveries(ticket_id=ticket_id)
    assert delivered.status is DeliveryStatus.DELIVERED
    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]


async def test_an_answer_retrying_cannot_fix_fails_at_once(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    receiver.fail_first, receiver.fail_status = 99, 422
    rules = rules_for(receiver)
    await routed_ticket(store, rules)
    worker = OutboxWorker(store, rules, FAST, env=ENV)
    await worker.start()
    await drain(worker, store)
    await worker.stop()
    [failed] = await store.list_deliveries(DeliveryStatus.FAILED)
    assert failed.attempts == 1 and failed.last_error == "HTTP 422 Unprocessable Entity"


async def test_nothing_is_sent_unsigned(store: SqlTicketStore, receiver: WebhookReceiver) -> None:
    rules = rules_for(receiver)
    await routed_ticket(store, rules)
    worker = OutboxWorker(store, rules, FAST, env={})
    await worker.start()
    try:
        [outcome] = await worker.run_once()
    finally:
        await worker.stop()
    assert outcome.result == "retry" and "SECRET_UBND" in (outcome.error or "")
    assert receiver.requests == []


async def test_two_workers_never_send_one_attempt_twice(
    store_url: str, receiver: WebhookReceiver
) -> None:
    rules = rules_for(receiver)
    stores = [await open_store(store_url), await open_store(store_url)]
    try:
        ids = [await routed_ticket(stores[0], rules) for _ in range(12)]  # type: ignore[arg-type]
        workers = [OutboxWorker(s, rules, FAST, env=ENV) for s in stores]  # type: ignore[arg-type]
        for worker in workers:
            await worker.start()
        try:
            await asyncio.to_thread(receiver.wait_accepted, len(ids))
        finally:
            for worker in workers:
                await worker.stop()
    finally:
        for s in stores:
            await s.close()
    assert len(receiver.requests) == len(ids)  # each delivery POSTed exactly once


async def test_a_worker_that_died_mid_post_is_retried_after_its_lease(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    rules = rules_for(receiver)
    await routed_ticket(store, rules)
    [claimed] = await store.claim_deliveries(limit=10, lease_s=0.3)  # …and the worker died
    assert await store.claim_deliveries(limit=10, lease_s=0.3) == []  # leased
    await asyncio.sleep(0.35)
    worker = OutboxWorker(store, rules, FAST, env=ENV)
    await worker.start()
    try:
        await asyncio.to_thread(receiver.wait_accepted, 1)
    finally:
        await worker.stop()
    # The dead worker's late answer cannot undo the delivery.
    await store.mark_retry(claimed, next_attempt_at=utcnow(), status_code=None, error="late")
    [delivered] = await store.list_deliveries()
    assert delivered.status is DeliveryStatus.DELIVERED and delivered.attempts == 2


async def test_the_worker_sweeps_tickets_left_unrouted(
    store: SqlTicketStore, receiver: WebhookReceiver
) -> None:
    rules = rules_for(receiver)
    t = await call_ticket(store)  # the process died before routing it
    worker = OutboxWorker(store, rules, FAST, env=ENV, pipeline=TicketPipeline(store, rules))
    await worker.start()
    try:
        accepted = await asyncio.to_thread(receiver.wait_accepted, 1)
    finally:
        await worker.stop()
    assert list(accepted) == [f"ticket-{t.id}/ubnd-770/v1"]


def test_signature_checks_body_and_age() -> None:
    body = json.dumps({"a": 1}).encode()
    now = int(time.time())
    header = sign("s3cret", body, now)
    assert verify_signature("s3cret", header, body)
    assert not verify_signature("s3cret", header, body + b" ")
    assert not verify_signature("other", header, body)
    assert not verify_signature("s3cret", sign("s3cret", body, now - 3600), body)
    assert not verify_signature("s3cret", "garbage", body)


def test_backoff_doubles_and_is_capped() -> None:
    settings = OutboxSettings(backoff_base_s=30, backoff_max_s=3600)
    delays = [backoff_s(n, settings) for n in range(1, 10)]
    assert 24 <= delays[0] <= 36 and 48 <= delays[1] <= 72
    assert max(delays) <= 3600 * 1.2
    assert timedelta(seconds=delays[-1]) >= timedelta(minutes=48)
