"""The notifier interface, what is sent, and what a provider's answer means.

A message carries only what the caller already told the hotline about the request, never
who they are: the ticket number, the case type, the admin unit (ward/district, not the
street address), the callback deadline — or, for the resolution notice, the number and its
outcome. No name, address or description. The phone number travels only in the request to
the provider; it is never logged nor stored outside the ticket.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class NotifyEvent(StrEnum):
    RECEIPT = "receipt"  # the ticket was filed (and routed: the callback time is known)
    RESOLUTION = "resolution"  # the agency resolved or closed it


class NotifyChannel(StrEnum):
    SMS = "sms"  # an SMS gateway over HTTP (eSMS.vn)
    ZNS = "zns"  # Zalo Notification Service, a template message to the number's Zalo account


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # gave up: max attempts, or an answer retrying cannot fix
    CANCELLED = "cancelled"  # consent withdrawn, or the ticket's personal data was purged


def notification_key(ticket_id: int, event: NotifyEvent) -> str:
    """One message per ticket event: the unique key of its row and the provider's
    de-duplication id (eSMS ``RequestId``, ZNS ``tracking_id``)."""
    return f"ticket-{ticket_id}/{event}"


@dataclass(frozen=True)
class Notification:
    """One queued message (a row of ``notifications``): no text, no number in it."""

    id: int
    idempotency_key: str
    ticket_id: int
    event: NotifyEvent
    channel: NotifyChannel
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    last_code: str | None
    last_error: str | None
    provider_message_id: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    ticket_number: int
    case_type: str  # the service's Vietnamese name, "Lương thực, nhu yếu phẩm"
    place: str  # the admin unit, "Phường Bến Nghé, Quận 1"
    callback_by: str  # "14:00 02/12/2026", local time


@dataclass(frozen=True)
class Resolution:
    ticket_number: int
    outcome: str  # "đã được xử lý xong"


Message = Receipt | Resolution


def sms_text(message: Message) -> str:
    """The SMS body (Vietnamese, Unicode)."""
    if isinstance(message, Receipt):
        return (
            f"Tổng đài 1022: Yêu cầu số {message.ticket_number} ({message.case_type}, "
            f"{message.place}) đã được tiếp nhận. Cán bộ sẽ gọi lại trước "
            f"{message.callback_by}."
        )
    return f"Tổng đài 1022: Yêu cầu số {message.ticket_number} {message.outcome}. Xin cảm ơn."


# ZNS template parameters have per-type length limits (a "code" 30, a label 30, an address
# 200 characters); a longer value is refused with -112, so cut ours to fit.
def template_data(message: Message) -> dict[str, str]:
    if isinstance(message, Receipt):
        return {
            "ticket_number": str(message.ticket_number)[:30],
            "case_type": message.case_type[:30],
            "place": message.place[:200],
            "callback_by": message.callback_by[:30],
        }
    return {"ticket_number": str(message.ticket_number)[:30], "outcome": message.outcome[:30]}


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # may pass later (throttled, provider trouble, network)
    FAILED = "failed"  # retrying the same request cannot help
    TOKEN = "token"  # ZNS: the access token was refused; refresh it and send again


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    code: str | None = None  # the provider's code ("100", "-124", "HTTP 429")
    error: str | None = None  # our description of the code: never the provider's free text
    retry_after_s: float | None = None  # the provider asked for this pause (Retry-After)
    message_id: str | None = None


class Notifier(ABC):
    """One provider. ``send`` never raises for a provider or network failure: it says what
    happened, so the worker can retry, give up or mark it sent."""

    channel: NotifyChannel

    @abstractmethod
    async def send(self, phone: str, message: Message, key: str) -> SendResult:
        """``phone`` already normalised (``84…``); ``key`` the notification's idempotency key."""

    async def close(self) -> None:  # noqa: B027 - optional for providers without a client
        """Release the HTTP client, if the notifier owns one."""


_NON_DIGITS = re.compile(r"[\s().\-]")


def normalise_phone(number: str | None) -> str | None:
    """A Vietnamese number as the providers want it: ``84`` and the 9 national digits
    (``0903 456 789``, ``+84903456789``, ``84903456789`` → ``84903456789``); None when it
    is not one (a landline extension, a foreign number, garbage)."""
    if not number:
        return None
    digits = _NON_DIGITS.sub("", number.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("84") and len(digits) == 11:
        national = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        national = digits[1:]
    else:
        return None
    # Mobile prefixes 3, 5, 7, 8, 9 (the 2018 renumbering); SMS/ZNS reach no landline.
    if national[0] not in "35789":
        return None
    return "84" + national


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86_400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), 86_400.0)
