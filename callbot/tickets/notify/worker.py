"""Sending the caller's messages: claim due notifications, build each from its ticket, hand it
to the channel's notifier, record the outcome — the agency outbox's loop, for messages.

Retries, backoff, leases and attempt limits are the ``[outbox]`` settings (one policy for
everything the callbot sends out). A provider's ``Retry-After`` is honoured when it asks
for a longer pause than the backoff. The message text and the number are built here, at
send time, from the ticket as it is then; they reach the provider and nothing else — no
log line, no table, no history event holds either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from callbot.config import OutboxSettings, Settings
from callbot.tickets.deliveries import backoff_s
from callbot.tickets.model import EventKind, Ticket, TicketStatus, utcnow
from callbot.tickets.notify.base import (
    Message,
    Notification,
    NotificationStatus,
    Notifier,
    NotifyChannel,
    NotifyEvent,
    Receipt,
    Resolution,
    SendOutcome,
    SendResult,
    normalise_phone,
)
from callbot.tickets.notify.sms_gateway import EsmsAccount, EsmsNotifier
from callbot.tickets.notify.zalo_zns import (
    APP_SECRET_ENV,
    REFRESH_TOKEN_ENV,
    TokenStore,
    ZnsNotifier,
    ZnsTemplates,
)
from callbot.tickets.service_requests import SERVICES_BY_CODE
from callbot.tickets.store.base import StoreError
from callbot.tickets.store.sql_conversations import ConversationStore
from callbot.tickets.store.sql_store import SqlTicketStore

log = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
RESOLVED_TEXT = "đã được xử lý xong"
CLOSED_TEXT = "đã được đóng"  # rejected, then closed: not "resolved"


def build_message(
    ticket: Ticket, event: NotifyEvent, tz: zoneinfo.ZoneInfo, *, rejected: bool = False
) -> Message:
    """What the caller reads: the request, never the person (see notify/base.py)."""
    if event is NotifyEvent.RESOLUTION:
        return Resolution(ticket.id, CLOSED_TEXT if rejected else RESOLVED_TEXT)
    service = SERVICES_BY_CODE.get(ticket.service_code or "")
    when = ticket.expected_datetime
    return Receipt(
        ticket_number=ticket.id,
        case_type=service.name if service else "Yêu cầu hỗ trợ",
        place=ticket.admin_unit or "chưa rõ địa bàn",
        callback_by=when.astimezone(tz).strftime("%H:%M %d/%m/%Y") if when else "sớm nhất",
    )


@dataclass(frozen=True)
class Attempt:
    notification: Notification
    result: SendResult


class NotificationWorker:
    """Claims due notifications and sends them; ``start()``/``stop()`` in a running loop.
    Several may share a store, as outbox workers do."""

    def __init__(
        self,
        store: SqlTicketStore,
        notifiers: Mapping[NotifyChannel, Notifier],
        settings: OutboxSettings | None = None,
        *,
        timezone: str = DEFAULT_TZ,
    ) -> None:
        self.store = store
        self.notifiers = dict(notifiers)
        self.settings = settings or OutboxSettings()
        self.tz = zoneinfo.ZoneInfo(timezone)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="notification-worker")

    async def stop(self, grace_s: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, grace_s)
        for notifier in self.notifiers.values():
            await notifier.close()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                done = await self.run_once()
                if len(done) >= self.settings.batch:
                    continue
                due = await self.store.next_notification_due()
                wait = self.settings.poll_interval_s
                if due is not None:
                    wait = min(max((due - utcnow()).total_seconds(), 0.0), wait)
            except StoreError as error:
                log.warning("notify: %s; retrying in %.0f s", error, self.settings.poll_interval_s)
                wait = self.settings.poll_interval_s
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def run_once(self) -> list[Attempt]:
        claimed = await self.store.claim_notifications(
            limit=self.settings.batch, lease_s=self.settings.lease_s
        )
        return list(await asyncio.gather(*(self._attempt(n) for n in claimed)))

    async def _attempt(self, notification: Notification) -> Attempt:
        result = await self._send(notification)
        await self._record(notification, result)
        return Attempt(notification, result)

    async def _send(self, n: Notification) -> SendResult:
        ticket = await self.store.get_ticket(n.ticket_id)
        if ticket is None or not ticket.notify_consent:
            return SendResult(SendOutcome.FAILED, None, "no consent on the ticket now")
        notifier = self.notifiers.get(n.channel)
        if notifier is None:
            return SendResult(SendOutcome.RETRY, None, f"the {n.channel} channel is not set up")
        phone = normalise_phone(ticket.callback_number or ticket.caller_number)
        if phone is None:
            return SendResult(SendOutcome.FAILED, None, "no Vietnamese mobile number")
        rejected = False
        if n.event is NotifyEvent.RESOLUTION:
            history = await self.store.list_history(ticket.id)
            rejected = any(
                e.kind is EventKind.STATUS_CHANGED and e.data.get("to") == TicketStatus.REJECTED
                for e in history
            )
        message = build_message(ticket, n.event, self.tz, rejected=rejected)
        return await notifier.send(phone, message, n.idempotency_key)

    async def _record(self, n: Notification, result: SendResult) -> None:
        what = f"ticket {n.ticket_id} {n.event} by {n.channel}"
        if result.outcome is SendOutcome.SENT:
            await self.store.finish_notification(
                n, NotificationStatus.SENT, code=result.code, message_id=result.message_id
            )
            log.info("notify: %s sent (code %s)", what, result.code)
            return
        error = result.error or "unknown error"
        if result.outcome is not SendOutcome.FAILED and n.attempts < self.settings.max_attempts:
            delay = max(backoff_s(n.attempts, self.settings), result.retry_after_s or 0.0)
            await self.store.finish_notification(
                n,
                NotificationStatus.PENDING,
                code=result.code,
                error=error,
                next_attempt_at=utcnow() + timedelta(seconds=delay),
            )
            log.info(
                "notify: %s, attempt %d: %s (code %s); next in %.1f s",
                what,
                n.attempts,
                error,
                result.code,
                delay,
            )
            return
        if result.outcome is not SendOutcome.FAILED:
            error = f"gave up after {n.attempts} attempts: {error}"
        await self.store.finish_notification(
            n, NotificationStatus.FAILED, code=result.code, error=error
        )
        log.warning("notify: %s failed: %s (code %s)", what, error, result.code)


def notifiers_from_settings(
    settings: Settings, env: Mapping[str, str], tokens: TokenStore
) -> dict[NotifyChannel, Notifier]:
    """The channels the settings set up: SMS always (it fails with a clear error until its
    keys are set), ZNS when both templates are named."""
    n = settings.notify
    timeout = settings.outbox.timeout_s
    account = EsmsAccount.from_environment(
        env, brandname=n.sms_brandname, sms_type=n.sms_type, sandbox=n.sms_sandbox
    )
    found: dict[NotifyChannel, Notifier] = {
        NotifyChannel.SMS: EsmsNotifier(account, url=n.sms_url, timeout_s=timeout)
    }
    if n.zns_receipt_template and n.zns_resolution_template:
        found[NotifyChannel.ZNS] = ZnsNotifier(
            ZnsTemplates(n.zns_receipt_template, n.zns_resolution_template),
            tokens,
            app_id=settings.zalo.app_id,
            app_secret_key=env.get(APP_SECRET_ENV, ""),
            first_refresh_token=env.get(REFRESH_TOKEN_ENV, ""),
            url=n.zns_url,
            oauth_url=settings.zalo.oauth_url,
            timeout_s=timeout,
        )
    return found


async def start_notifications(
    store: SqlTicketStore, settings: Settings, env: Mapping[str, str] | None = None
) -> NotificationWorker | None:
    """The worker ``callbot serve`` runs when ``[notify] enabled``; None otherwise."""
    if not settings.notify.enabled:
        return None
    env = os.environ if env is None else env
    notifiers = notifiers_from_settings(settings, env, ConversationStore(store))
    worker = NotificationWorker(store, notifiers, settings.outbox, timezone=settings.web.timezone)
    await worker.start()
    return worker
