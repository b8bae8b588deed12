"""What the outbox stores: one delivery of one routed ticket to one agency.

Kept apart from ``callbot.tickets.outbox`` (the worker, HTTP) so the ticket store can return these
without importing an HTTP client.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from callbot.config import OutboxSettings


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being attempted now)
    DELIVERED = "delivered"  # the agency's webhook answered 2xx
    FAILED = "failed"  # gave up: max attempts, or an answer that retrying cannot fix
    SUPERSEDED = "superseded"  # the ticket was re-routed before this one was delivered
    LOCAL = "local"  # the agency has no webhook: it reads its tickets on the dashboard


@dataclass(frozen=True)
class Delivery:
    id: int
    idempotency_key: str  # "ticket-12/ubnd-770/v1": ticket, agency, routing version
    ticket_id: int
    routing_version: int
    agency_id: str
    agency_name: str
    status: DeliveryStatus
    attempts: int  # attempts started so far (a claim counts, so a crash mid-POST counts)
    next_attempt_at: datetime
    last_status: int | None  # HTTP status of the last answer
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AgencyTarget:
    """One agency a routing decision sends the ticket to, as the outbox records it."""

    agency_id: str
    agency_name: str
    has_webhook: bool


def idempotency_key(ticket_id: int, agency_id: str, routing_version: int) -> str:
    return f"ticket-{ticket_id}/{agency_id}/v{routing_version}"


# Here rather than in outbox.py so the caller's messages (callbot/tickets/notify/worker.py)
# back off the same way without importing the agency worker.
def backoff_s(attempt: int, settings: OutboxSettings, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempt`` (1, 2…): doubling, capped, with ±20 % jitter
    so that deliveries failed together by one outage do not retry in lockstep."""
    base = min(settings.backoff_max_s, settings.backoff_base_s * 2 ** max(attempt - 1, 0))
    return base * (rng or random).uniform(0.8, 1.2)
