"""Delivering routed tickets to agencies' webhooks: a persistent, retried, signed outbox.

Routing enqueues one row per (ticket, agency, routing version) in the store's ``outbox``
table (``callbot.tickets.routing.route_ticket``). ``OutboxWorker`` claims due rows and POSTs each
ticket as JSON (its Open311 fields plus ours, ``callbot.tickets.service_requests.agency_request``)
with three headers:

- ``Idempotency-Key: ticket-12/ubnd-770/v1`` — the same for every retry of one delivery, so
  the agency stores it once however often it arrives;
- ``X-Callbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` — keyed
  with the secret from the environment variable the routing rules name for the agency;
  ``verify_signature`` is the receiving side;
- ``X-Callbot-Attempt: 3``.

A 2xx answer delivers it; 400/401/403/404/405/410/413/415/422 fail it at once (retrying the
same request cannot help; an operator fixes the cause and runs ``callbot outbox retry``);
anything else, a timeout or a refused connection is retried with exponential backoff and
jitter (``next_attempt_at`` is in the store, so backoff survives restarts) until
``max_attempts``, then the row is ``failed``. Failed rows are listed by
``store.list_deliveries(status="failed")`` and ``callbot outbox list --status failed``, and
each delivery or failure is an event in the ticket's history.

The body is built when it is sent, from the ticket as it is then: a fix made on the dashboard
reaches the agency, and personal data lives only in the ticket (retention purges it there).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import httpx

from callbot.config import OutboxSettings, Settings
from callbot.tickets.deliveries import Delivery, backoff_s
from callbot.tickets.model import utcnow
from callbot.tickets.notify.worker import NotificationWorker, start_notifications
from callbot.tickets.routing import RoutingRules, TicketPipeline, find_unit, load_rules, route
from callbot.tickets.service_requests import agency_request
from callbot.tickets.store.base import StoreError
from callbot.tickets.store.sql_store import SqlTicketStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Callbot-Signature"
ATTEMPT_HEADER = "X-Callbot-Attempt"
USER_AGENT = "callbot-1022-outbox/1"
# Answers that say the request itself is wrong: retrying it unchanged cannot succeed.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 413, 415, 422})
SWEEP_INTERVAL_S = 60.0  # how often the worker looks for tickets a crash left unrouted


# --- Signing -------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance_s: float = 300.0, now: float | None = None
) -> bool:
    """For receivers: the header matches the body and is recent (refuses replays)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


# --- The worker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    result: str  # "delivered", "retry", "failed"
    status_code: int | None = None
    error: str | None = None


class OutboxWorker:
    """Claims due deliveries and POSTs them; ``start()``/``stop()`` in a running loop.

    Several workers may share one store (the server's and a ``callbot outbox run``, or one
    per machine on PostgreSQL): a claim pushes the row a lease ahead, so each attempt is
    made by one worker. With ``pipeline`` the worker also runs the routing sweep at start
    and every minute.
    """

    def __init__(
        self,
        store: SqlTicketStore,
        rules: RoutingRules,
        settings: OutboxSettings | None = None,
        *,
        pipeline: TicketPipeline | None = None,
        client: httpx.AsyncClient | None = None,
        env: Mapping[str, str] | None = None,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
    ) -> None:
        self.store = store
        self.rules = rules
        self.settings = settings or OutboxSettings()
        self.pipeline = pipeline
        self.env = os.environ if env is None else env
        self.sweep_interval_s = sweep_interval_s
        self._client = client
        self._own_client = client is None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(max(1, self.settings.concurrency))

    # Lifecycle

    async def start(self) -> None:
        if self._task is not None:
            return
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.timeout_s,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,  # a redirected webhook is a misconfiguration
            )
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let POSTs in flight finish (up to ``grace_s``); unfinished ones are retried by the
        next worker once their lease runs out."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, grace_s)
            except TimeoutError:
                pass  # wait_for cancelled it
            except Exception:
                log.exception("outbox worker ended with an error")
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        """Deliveries were enqueued: look now instead of at the next poll."""
        self._wake.set()

    # The loop

    async def _run(self) -> None:
        next_sweep = 0.0
        while not self._stopping:
            try:
                if self.pipeline is not None and time.monotonic() >= next_sweep:
                    await self.pipeline.sweep()
                    next_sweep = time.monotonic() + self.sweep_interval_s
                outcomes = await self.run_once()
                if len(outcomes) >= self.settings.batch:
                    continue  # more may be due right now
                wait = await self._until_next_due()
            except StoreError as error:
                # The store is down (disk, network): keep the process up and try again.
                log.warning("outbox: %s; retrying in %.0f s", error, self.settings.poll_interval_s)
                wait = self.settings.poll_interval_s
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _until_next_due(self) -> float:
        due = await self.store.next_delivery_due()
        if due is None:
            return self.settings.poll_interval_s
        seconds = (due - utcnow()).total_seconds()
        return min(max(seconds, 0.0), self.settings.poll_interval_s)

    async def run_once(self) -> list[Outcome]:
        """Claim one batch of due deliveries and attempt each; returns what happened."""
        claimed = await self.store.claim_deliveries(
            limit=self.settings.batch, lease_s=self.settings.lease_s
        )
        if not claimed:
            return []
        return list(await asyncio.gather(*(self._attempt(d) for d in claimed)))

    async def _attempt(self, delivery: Delivery) -> Outcome:
        async with self._limit:
            outcome = await self._post(delivery)
        await self._record(outcome)
        return outcome

    async def _post(self, delivery: Delivery) -> Outcome:
        agency = self.rules.agency(delivery.agency_id)
        if agency is None or not agency.endpoint:
            return Outcome(delivery, "failed", error="the routing rules give no webhook now")
        secret = self.env.get(agency.secret_env, "")
        if not secret:
            # Never send unsigned: the agency could not tell us from anyone else.
            return Outcome(delivery, "retry", error=f"secret ${agency.secret_env} is not set")
        ticket = await self.store.get_ticket(delivery.ticket_id)
        if ticket is None:
            return Outcome(delivery, "failed", error="the ticket no longer exists")
        decision = route(ticket, self.rules)
        unit = find_unit(ticket.admin_unit) if ticket.admin_unit else None
        extra = {
            "delivery": {
                "idempotency_key": delivery.idempotency_key,
                "agency_id": delivery.agency_id,
                "agency_name": delivery.agency_name,
                "routing_version": delivery.routing_version,
                "primary": delivery.agency_name == ticket.agency_responsible,
            },
            "place_scheme": unit.scheme if unit else None,
            "wards_2025": list(decision.wards_2025) if decision else [],
        }
        body = json.dumps(agency_request(ticket, extra), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": delivery.idempotency_key,
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
            ATTEMPT_HEADER: str(delivery.attempts),
        }
        assert self._client is not None, "start() first"
        try:
            response = await self._client.post(agency.endpoint, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Outcome(delivery, "retry", error=f"{type(error).__name__}: {error}"[:500])
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(delivery, "delivered", status_code=code)
        reason = f"HTTP {code} {response.reason_phrase}"
        if code in PERMANENT_STATUSES:
            return Outcome(delivery, "failed", status_code=code, error=reason)
        return Outcome(delivery, "retry", status_code=code, error=reason)

    async def _record(self, outcome: Outcome) -> None:
        d = outcome.delivery
        if outcome.result == "delivered":
            await self.store.mark_delivered(d, status_code=outcome.status_code or 200)
            log.info("outbox: ticket %d delivered to %s", d.ticket_id, d.agency_id)
            return
        error = outcome.error or "unknown error"
        if outcome.result == "retry" and d.attempts < self.settings.max_attempts:
            delay = backoff_s(d.attempts, self.settings)
            await self.store.mark_retry(
                d,
                next_attempt_at=utcnow() + timedelta(seconds=delay),
                status_code=outcome.status_code,
                error=error,
            )
            log.info(
                "outbox: ticket %d to %s, attempt %d: %s; next in %.1f s",
                d.ticket_id,
                d.agency_id,
                d.attempts,
                error,
                delay,
            )
            return
        if outcome.result == "retry":
            error = f"gave up after {d.attempts} attempts: {error}"
        await self.store.mark_failed(d, status_code=outcome.status_code, error=error)
        log.warning("outbox: ticket %d to %s failed: %s", d.ticket_id, d.agency_id, error)


# --- Wiring for the server -----------------------------------------------------------------


@dataclass
class Outbox:
    """Routing after each call, plus (when enabled) the delivery worker."""

    pipeline: TicketPipeline
    worker: OutboxWorker | None
    notifications: NotificationWorker | None = None  # issue 18: messages to the caller

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        if self.notifications is not None:
            await self.notifications.stop()


async def start_outbox(store: SqlTicketStore, settings: Settings) -> Outbox:
    """Load the routing rules, start the worker (``[outbox] enabled``), give back the
    pipeline whose ``after_call`` the call server runs after ``end_call``.

    The rules file is read once here: a mistake in it stops start-up with its message
    rather than surfacing as failed deliveries later.
    """
    rules = load_rules(settings.routing.rules_file)
    pipeline = TicketPipeline(store, rules)
    worker = None
    if settings.outbox.enabled:
        worker = OutboxWorker(store, rules, settings.outbox, pipeline=pipeline)
        pipeline.notify = worker.wake
        await worker.start()
    return Outbox(pipeline, worker, await start_notifications(store, settings))
