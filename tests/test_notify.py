"""Messages to the caller (issue 18): both providers against local servers that answer as
their docs say, through the real store (SQLite and PostgreSQL) and the notification worker."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from browser import PASSWORD, live_server, seed
from hypothesis import given
from hypothesis import strategies as st
from notify_servers import FakeEsms, FakeZns
from ticket_helpers import T0, call_ticket

from callbot.config import OutboxSettings, load_settings
from callbot.tickets.model import EventKind, TicketStatus, utcnow
from callbot.tickets.notify import sms_gateway, zalo_zns
from callbot.tickets.notify.base import (
    NotificationStatus,
    NotifyChannel,
    Receipt,
    SendOutcome,
    normalise_phone,
    retry_after_s,
    template_data,
)
from callbot.tickets.notify.sms_gateway import EsmsAccount, EsmsNotifier
from callbot.tickets.notify.worker import NotificationWorker, start_notifications
from callbot.tickets.notify.zalo_zns import ZnsNotifier, ZnsTemplates
from callbot.tickets.retention import RetentionPolicy, purge
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_conversations import ConversationStore
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]

FAST = OutboxSettings(
    poll_interval_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2, lease_s=30, max_attempts=4
)
NUMBER_FORMS = ("0903456789", "84903456789", "903456789", "0903 456 789")
EXPECTED = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)  # 14:00 in Hồ Chí Minh City


@pytest.fixture
def esms() -> Iterator[FakeEsms]:
    with FakeEsms() as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def zns() -> Iterator[FakeZns]:
    with FakeZns() as running:
        yield running  # type: ignore[misc]


def sms_notifier(fake: FakeEsms, **account: object) -> EsmsNotifier:
    keys = {"api_key": fake.api_key, "secret_key": fake.secret_key, **account}
    return EsmsNotifier(EsmsAccount(**keys), url=fake.url + "/send")  # type: ignore[arg-type]


def zns_notifier(fake: FakeZns, store: SqlTicketStore) -> ZnsNotifier:
    return ZnsNotifier(
        ZnsTemplates("tpl-receipt", "tpl-resolution"),
        ConversationStore(store),
        app_id=fake.app_id,
        app_secret_key=fake.app_secret,
        first_refresh_token="refresh-0",
        url=fake.url + "/message/template",
        oauth_url=fake.url,
    )


def worker_for(store: SqlTicketStore, *notifiers: object, **settings: float) -> NotificationWorker:
    policy = OutboxSettings(**{**FAST.__dict__, **settings})
    return NotificationWorker(store, {n.channel: n for n in notifiers}, policy)  # type: ignore[attr-defined]


async def consenting_ticket(
    store: SqlTicketStore, channel: NotifyChannel = NotifyChannel.SMS, *, routed: bool = True
) -> int:
    ticket = await call_ticket(store)
    await store.set_notify_consent(ticket.id, True, channel, actor="callbot")
    if routed:
        await store.set_routing(ticket.id, "UBND Q3", "committee", EXPECTED)
    return ticket.id


async def drain(worker: NotificationWorker, store: SqlTicketStore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while await store.list_notifications(NotificationStatus.PENDING):
        assert time.monotonic() < deadline, "notifications still pending"
        if not await worker.run_once():
            await asyncio.sleep(0.02)


async def close_to_resolved(store: SqlTicketStore, ticket_id: int) -> None:
    for status in (TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
        await store.change_status(ticket_id, status, "officer")


# --- Through the store and the worker, both engines ---------------------------------------


async def test_receipt_by_sms_once_per_ticket_with_only_the_request_in_it(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    ticket_id = await consenting_ticket(store)
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.notify_consent is True
    assert ticket.notify_channel == "sms"
    # A re-route and a repeated consent queue nothing more.
    await store.set_routing(ticket_id, "UBND Q3", "committee", EXPECTED)
    await store.set_notify_consent(ticket_id, True, NotifyChannel.SMS, actor="callbot")
    assert len(await store.list_notifications(ticket_id=ticket_id)) == 1

    worker = worker_for(store, sms_notifier(esms, brandname="TD1022"))
    await drain(worker, store)
    assert len(esms.sent) == 1
    sms = esms.sent[0]
    assert sms.phone == "84903456789"
    assert sms.request_id == f"ticket-{ticket_id}/receipt"
    assert sms.brandname == "TD1022"
    assert f"số {ticket_id}" in sms.content
    assert "Lương thực, nhu yếu phẩm" in sms.content and "Quận 3" in sms.content
    assert "14:00 29/11/2026" in sms.content  # local time, not UTC
    for personal in ("Nguyễn Văn An", "12 Lê Lợi", "hết gạo", "0903456789"):
        assert personal not in sms.content
    assert esms.raw_bodies[0]["IsUnicode"] == "1" and esms.raw_bodies[0]["SmsType"] == "2"
    [row] = await store.list_notifications(ticket_id=ticket_id)
    assert row.status is NotificationStatus.SENT and row.provider_message_id == "sms-1"
    events = [e for e in await store.list_history(ticket_id) if e.kind is EventKind.NOTIFICATION]
    assert [e.data["outcome"] for e in events] == ["sent"]
    assert await worker.run_once() == []  # nothing left: no second message


async def test_resolution_notice_by_zns_once_with_a_token_refreshed(
    store: SqlTicketStore, zns: FakeZns
) -> None:
    ticket_id = await consenting_ticket(store, NotifyChannel.ZNS)
    worker = worker_for(store, zns_notifier(zns, store))
    await drain(worker, store)
    await close_to_resolved(store, ticket_id)
    await store.change_status(ticket_id, TicketStatus.CLOSED, "officer")  # resolved, then closed
    await drain(worker, store)
    assert [(m.template_id, m.tracking_id) for m in zns.sent] == [
        ("tpl-receipt", f"ticket-{ticket_id}/receipt"),
        ("tpl-resolution", f"ticket-{ticket_id}/resolution"),
    ]
    receipt, resolution = zns.sent
    assert receipt.phone == "84903456789"
    assert receipt.template_data == {
        "ticket_number": str(ticket_id),
        "case_type": "Lương thực, nhu yếu phẩm",
        "place": "Quận 3",
        "callback_by": "14:00 29/11/2026",
    }
    assert resolution.template_data == {
        "ticket_number": str(ticket_id),
        "outcome": "đã được xử lý xong",
    }
    assert zns.refreshes == 1  # the first send had no token: one refresh, kept in the store
    stored = await ConversationStore(store).load_token("zalo")
    assert stored is not None and stored.refresh_token == "refresh-1"


async def test_a_rejected_ticket_closed_is_not_called_resolved(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    ticket_id = await consenting_ticket(store)
    await store.change_status(ticket_id, TicketStatus.REJECTED, "officer", reason="trùng")
    assert [n.event for n in await store.list_notifications(ticket_id=ticket_id)] == ["receipt"]
    await store.change_status(ticket_id, TicketStatus.CLOSED, "officer")
    await drain(worker_for(store, sms_notifier(esms)), store)
    endings = sorted(s.content.endswith("đã được đóng. Xin cảm ơn.") for s in esms.sent)
    assert endings == [False, True]


async def test_no_consent_no_message_and_withdrawn_consent_cancels(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    silent = await call_ticket(store)
    await store.set_routing(silent.id, "UBND Q3", "committee", EXPECTED)
    refused = await call_ticket(store)
    await store.set_notify_consent(refused.id, False, actor="callbot")
    await store.set_routing(refused.id, "UBND Q3", "committee", EXPECTED)
    withdrawn = await consenting_ticket(store)
    await store.set_notify_consent(withdrawn, False, actor="supervisor")
    assert await store.list_notifications(NotificationStatus.PENDING) == []
    await drain(worker_for(store, sms_notifier(esms)), store)
    assert esms.sent == []
    [row] = await store.list_notifications(ticket_id=withdrawn)
    assert row.status is NotificationStatus.CANCELLED


async def test_a_permanent_provider_error_fails_at_once_and_can_be_retried(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    esms.script = [
        (200, {"CodeResult": "103", "ErrorMessage": "Balance not enough 0903456789"}, {})
    ]
    ticket_id = await consenting_ticket(store)
    worker = worker_for(store, sms_notifier(esms))
    await drain(worker, store)
    [row] = await store.list_notifications(ticket_id=ticket_id)
    assert row.status is NotificationStatus.FAILED and row.attempts == 1
    assert row.last_code == "103" and "0903456789" not in (row.last_error or "")
    assert await store.retry_notifications([row.id]) == 1
    await drain(worker, store)
    assert len(esms.sent) == 1
    [row] = await store.list_notifications(ticket_id=ticket_id)
    assert row.status is NotificationStatus.SENT


async def test_retryable_errors_back_off_and_throttling_honours_retry_after(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    esms.script = [(500, {}, {}), (429, {"message": "slow down"}, {"Retry-After": "2"})]
    ticket_id = await consenting_ticket(store)
    worker = worker_for(store, sms_notifier(esms))
    await worker.run_once()  # 500: retried after the short backoff
    await asyncio.sleep(0.3)
    before = utcnow()
    [attempt] = await worker.run_once()  # 429 with Retry-After: 2
    assert attempt.result.outcome is SendOutcome.RETRY and attempt.result.retry_after_s == 2
    [row] = await store.list_notifications(ticket_id=ticket_id)
    assert row.next_attempt_at >= before + timedelta(seconds=1.9)  # not the 0.05 s backoff
    assert await worker.run_once() == []  # not due yet
    await asyncio.sleep(2.1)
    await drain(worker, store)
    assert len(esms.sent) == 1 and esms.requests == 3


async def test_zns_token_expiry_refreshes_once_and_sends(
    store: SqlTicketStore, zns: FakeZns
) -> None:
    first = await consenting_ticket(store, NotifyChannel.ZNS)
    worker = worker_for(store, zns_notifier(zns, store))
    await drain(worker, store)
    zns.expire_tokens()  # Zalo's access tokens last ~25 h; this one just ran out
    second = await consenting_ticket(store, NotifyChannel.ZNS)
    await drain(worker, store)
    assert [m.tracking_id for m in zns.sent] == [
        f"ticket-{first}/receipt",
        f"ticket-{second}/receipt",
    ]
    assert zns.refreshes == 2
    [row] = await store.list_notifications(ticket_id=second)
    assert row.status is NotificationStatus.SENT and row.attempts == 1


async def test_zns_errors_permanent_retryable_and_throttled(
    store: SqlTicketStore, zns: FakeZns
) -> None:
    zns.script = [
        (200, {"error": -100, "message": "Unknown error"}, {}),
        (429, {"error": -1, "message": "rate limit"}, {"Retry-After": "1"}),
        (200, {"error": -118, "message": "Zalo account not existed"}, {}),
    ]
    ticket_id = await consenting_ticket(store, NotifyChannel.ZNS)
    worker = worker_for(store, zns_notifier(zns, store))
    [a] = await worker.run_once()
    assert a.result.outcome is SendOutcome.RETRY and a.result.code == "-100"
    await asyncio.sleep(0.3)
    [b] = await worker.run_once()
    assert b.result.outcome is SendOutcome.RETRY and b.result.retry_after_s == 1
    await asyncio.sleep(1.1)
    [c] = await worker.run_once()
    assert c.result.outcome is SendOutcome.FAILED and c.result.code == "-118"
    [row] = await store.list_notifications(ticket_id=ticket_id)
    assert row.status is NotificationStatus.FAILED and zns.sent == []


async def test_sms_restart_after_the_gateway_took_it_sends_exactly_one(
    store_url: str, esms: FakeEsms
) -> None:
    """The worker dies after eSMS accepted the message and before the store knew: the next
    worker's retry carries the same RequestId, eSMS answers 124, the row is sent."""
    first = await open_store(store_url)
    ticket_id = await consenting_ticket(first)
    esms.hold = held = threading.Event()
    dying = worker_for(first, sms_notifier(esms), lease_s=0.5)
    task = asyncio.create_task(dying.run_once())
    deadline = time.monotonic() + 5
    while not esms.sent:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    task.cancel()  # the process dies mid-request
    with pytest.raises(asyncio.CancelledError):
        await task
    await first.close()
    held.set()

    second = await open_store(store_url)  # the restarted process
    try:
        await asyncio.sleep(0.6)  # the dead worker's lease runs out
        await drain(worker_for(second, sms_notifier(esms)), second)
        assert len(esms.sent) == 1
        [row] = await second.list_notifications(ticket_id=ticket_id)
        assert row.status is NotificationStatus.SENT and row.last_code == "124"
        assert row.attempts == 2
    finally:
        await second.close()


async def test_zns_restart_before_sending_and_two_workers_send_exactly_one(
    store_url: str, zns: FakeZns
) -> None:
    first = await open_store(store_url)
    ids = [await consenting_ticket(first, NotifyChannel.ZNS) for _ in range(3)]
    claimed = await first.claim_notifications(limit=10, lease_s=0.5)  # then the process dies
    assert len(claimed) == 3
    await first.close()
    second = await open_store(store_url)
    try:
        a, b = (
            worker_for(second, zns_notifier(zns, second)),
            worker_for(second, zns_notifier(zns, second)),
        )
        assert await a.run_once() == []  # still leased to the dead worker
        await asyncio.sleep(0.6)
        await asyncio.gather(drain(a, second), drain(b, second))
        assert sorted(m.tracking_id for m in zns.sent) == sorted(f"ticket-{i}/receipt" for i in ids)
    finally:
        await second.close()


# --- Privacy ---------------------------------------------------------------------------------


async def test_no_number_or_message_text_reaches_the_logs(
    store: SqlTicketStore, esms: FakeEsms, zns: FakeZns, caplog: pytest.LogCaptureFixture
) -> None:
    # Ours at DEBUG; the libraries at INFO (aiosqlite's DEBUG lines echo every SQL parameter,
    # which is the driver's tracing, off in any deployment).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="callbot")
    esms.script = [(429, {}, {"Retry-After": "0"}), (200, {"CodeResult": "108"}, {})]
    sms_ticket = await consenting_ticket(store)
    zns_ticket = await consenting_ticket(store, NotifyChannel.ZNS)
    worker = worker_for(store, sms_notifier(esms), zns_notifier(zns, store))
    await worker.run_once()
    await asyncio.sleep(0.3)
    await drain(worker, store)
    await close_to_resolved(store, zns_ticket)
    await drain(worker, store)
    assert zns.sent and caplog.records
    text = caplog.text + json.dumps([str(r.args) for r in caplog.records])
    for number in NUMBER_FORMS:
        assert number not in text
    for content in ("Lương thực", "Quận 3", "Yêu cầu số", "đã được xử lý", "14:00"):
        assert content not in text
    assert f"ticket {sms_ticket} receipt by sms failed" in text  # the logs still say what happened


async def test_the_retention_job_purges_consent_and_cancels_messages(
    store: SqlTicketStore, esms: FakeEsms
) -> None:
    sent = await consenting_ticket(store)
    await drain(worker_for(store, sms_notifier(esms)), store)
    waiting = await consenting_ticket(store)  # its receipt still queued when the purge runs
    policy = RetentionPolicy(default_days=0)
    report = await purge(store, policy, recordings_dir=None, now=T0 + timedelta(days=3650))
    assert {sent, waiting} <= set(report.tickets)
    for ticket_id in (sent, waiting):
        ticket = await store.get_ticket(ticket_id)
        assert (
            ticket is not None and ticket.notify_consent is None and ticket.notify_channel is None
        )
    [queued] = await store.list_notifications(ticket_id=waiting)
    assert queued.status is NotificationStatus.CANCELLED
    [done] = await store.list_notifications(ticket_id=sent)
    assert done.provider_message_id is None and done.last_error is None
    await drain(worker_for(store, sms_notifier(esms)), store)
    assert len(esms.sent) == 1
    # A status change after the purge sends nothing: the consent went with the personal data.
    await close_to_resolved(store, sent)
    assert await store.list_notifications(NotificationStatus.PENDING) == []


# --- Sans-IO parsing and outside input (no server) ---------------------------------------


def test_phone_numbers_normalised_to_84() -> None:
    assert {normalise_phone(n) for n in (*NUMBER_FORMS[:2], "+84 903 456 789", "0903.456.789")} == {
        "84903456789"
    }
    for bad in ("0281234567", "1022", "+1 415 555 0100", "09034567890", "", None, "090345678x"):
        assert normalise_phone(bad) is None


@given(st.text(max_size=30))
def test_normalise_phone_never_raises(text: str) -> None:
    result = normalise_phone(text)
    assert result is None or (len(result) == 11 and result.startswith("84") and result.isdigit())


@given(st.integers(100, 599), st.binary(max_size=200), st.text(max_size=40))
def test_provider_answers_never_raise(status: int, body: bytes, retry_after: str) -> None:
    headers = {"retry-after": retry_after}
    for parse in (sms_gateway.parse_response, zalo_zns.parse_response):
        result = parse(status, headers, body)
        assert result.outcome in SendOutcome
        assert result.retry_after_s is None or 0 <= result.retry_after_s <= 86_400


@given(
    st.dictionaries(
        st.sampled_from(["CodeResult", "SMSID", "error", "data"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=10)),
    )
)
def test_json_answers_of_any_shape_never_raise(data: dict[str, object]) -> None:
    body = json.dumps(data).encode()
    assert sms_gateway.parse_response(200, {}, body).outcome in SendOutcome
    assert zalo_zns.parse_response(200, {}, body).outcome in SendOutcome


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert retry_after_s("120") == 120
    assert retry_after_s("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30
    assert retry_after_s("soon") is None and retry_after_s(None) is None


def test_esms_codes() -> None:
    def code(c: str) -> SendOutcome:
        return sms_gateway.parse_response(200, {}, json.dumps({"CodeResult": c}).encode()).outcome

    assert code("100") is SendOutcome.SENT and code("124") is SendOutcome.SENT
    assert all(code(c) is SendOutcome.FAILED for c in ("99", "101", "103", "104", "108", "146"))
    body = sms_gateway.build_request(
        EsmsAccount("k", "s", sandbox=True),
        "84903456789",
        Receipt(7, "Khác", "Quận 1", "x"),
        "ticket-7/receipt",
    )
    assert (
        body["Sandbox"] == "1"
        and body["RequestId"] == "ticket-7/receipt"
        and "Brandname" not in body
    )


def test_settings_secrets_only_from_the_environment() -> None:
    env = {
        "CALLBOT_NOTIFY_SMS_API_KEY": "k",
        "CALLBOT_NOTIFY_SMS_SECRET_KEY": "s",
        "CALLBOT_NOTIFY_ENABLED": "true",
    }
    settings = load_settings(env=env)
    assert settings.notify.enabled and not hasattr(settings.notify, "sms_api_key")


async def test_operators_list_and_retry_failed_messages_from_the_cli(
    tmp_path: object, esms: FakeEsms
) -> None:
    url = f"sqlite:///{tmp_path}/tickets.db"
    store = await open_store(url)
    try:
        esms.script = [(200, {"CodeResult": "101"}, {})]
        ticket_id = await consenting_ticket(store)
        await drain(worker_for(store, sms_notifier(esms)), store)
    finally:
        await store.close()
    env = {**os.environ, "CALLBOT_STORE_URL": url}
    cli = [sys.executable, "-m", "callbot", "outbox"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=60)

    listed = run("messages", "--status", "failed")
    assert listed.returncode == 0, listed.stderr
    assert f"#{ticket_id}" in listed.stdout and "101 wrong ApiKey" in listed.stdout
    assert "903456789" not in listed.stdout + listed.stderr
    assert run("list", "--status", "sent").returncode == 2  # a message status, clearly refused
    retried = run("retry-messages", "--failed")
    assert retried.returncode == 0 and "1 messages queued again" in retried.stdout


async def test_serve_starts_the_channels_the_settings_name(store: SqlTicketStore) -> None:
    off = await start_notifications(store, load_settings(env={}))
    assert off is None  # [notify] enabled = false by default
    env = {
        "CALLBOT_NOTIFY_ENABLED": "true",
        "CALLBOT_NOTIFY_ZNS_RECEIPT_TEMPLATE": "r",
        "CALLBOT_NOTIFY_ZNS_RESOLUTION_TEMPLATE": "s",
    }
    worker = await start_notifications(store, load_settings(env=env), env={})
    assert worker is not None
    try:
        assert set(worker.notifiers) == {NotifyChannel.SMS, NotifyChannel.ZNS}
        # Without its keys the SMS channel waits, naming the variable; it sends nothing.
        result = await worker.notifiers[NotifyChannel.SMS].send("84903456789", RECEIPT, "k")
        assert result.outcome is SendOutcome.RETRY and "CALLBOT_NOTIFY_SMS_API_KEY" in (
            result.error or ""
        )
    finally:
        await worker.stop()


RECEIPT = Receipt(7, "Khác", "Quận 1", "14:00 29/11/2026")


@given(st.text(max_size=300), st.text(max_size=300), st.integers(1, 10**12))
def test_zns_parameters_fit_zalo_limits(case_type: str, place: str, number: int) -> None:
    data = template_data(Receipt(number, case_type, place, "14:00 29/11/2026"))
    assert len(data["case_type"]) <= 30 and len(data["place"]) <= 200
    assert all(len(v) <= 200 for v in data.values())


def test_a_status_closed_on_the_dashboard_sends_the_notice(tmp_path: Path, esms: FakeEsms) -> None:
    """The real dashboard (uvicorn, SQLite): a supervisor resolves a consenting caller's
    ticket through the status form; the worker sends the receipt and the notice, once."""

    async def seeder(store: SqlTicketStore, now: datetime) -> object:
        seeded = await seed(store, now)
        await store.set_notify_consent(seeded.ids["quan3"], True, actor="callbot")
        return seeded

    with live_server(tmp_path, seeder=seeder) as server:
        ticket_id = server.seeded.ids["quan3"]
        client = httpx.Client(base_url=server.url)
        form = client.get("/dashboard/login")
        client.post(
            "/dashboard/login",
            data={"csrf_token": csrf(form.text), "login": "giamsat", "password": PASSWORD},
        )
        for status in ("accepted", "in_progress", "resolved", "closed"):
            page = client.get(f"/dashboard/tickets/{ticket_id}")
            answer = client.post(
                f"/dashboard/tickets/{ticket_id}/status",
                data={"csrf_token": csrf(page.text), "status": status},
            )
            assert answer.status_code in (200, 303)
        client.close()
        store = server.app.state.store
        worker = worker_for(store, sms_notifier(esms))
        server.call(drain(worker, store))
        rows = server.call(store.list_notifications(ticket_id=ticket_id))
    assert sorted(n.event for n in rows) == ["receipt", "resolution"]
    sent = {s.request_id: s.content for s in esms.sent}
    assert len(esms.sent) == 2
    assert sent[f"ticket-{ticket_id}/resolution"].endswith("đã được xử lý xong. Xin cảm ơn.")
    assert f"ticket-{ticket_id}/receipt" in sent


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF field"
    return match.group(1)
