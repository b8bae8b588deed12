"""Tickets as Open311 GeoReport v2 service requests: the services, the public view, the
agency view.

Two views of one ticket, on purpose:
- ``public_request`` is what ``GET /open311/v2/requests.json`` shows anyone: the spec's
  fields about the *request* (service, status, agency, dates, the admin unit as a coarse
  address). Nothing that identifies the person: no numbers, name, street address,
  coordinates, free-text description or media — a hardship hotline's callers include old
  people living alone, and Open311 read endpoints are public by design.
- ``agency_request`` is what the outbox POSTs (signed) to the agencies the ticket is routed
  to: the same fields plus everything they need to help: contact, address, household,
  slots and their confidence, call and recording references.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbot.tickets.model import Ticket, TicketStatus


@dataclass(frozen=True)
class Service:
    code: str  # the case type
    name: str
    description: str
    keywords: tuple[str, ...]
    group: str = "Hỗ trợ người dân gặp khó khăn"  # the hotline's key 2


SERVICES: tuple[Service, ...] = (
    Service(
        "essentials",
        "Lương thực, nhu yếu phẩm",
        "Food and essentials for the caller, their family or neighbours.",
        ("gạo", "thực phẩm", "nhu yếu phẩm", "food"),
    ),
    Service(
        "support_policy",
        "Chính sách hỗ trợ chưa nhận được",
        "A support policy the person is eligible for but has not received.",
        ("trợ cấp", "tiền hỗ trợ", "chính sách", "allowance"),
    ),
    Service(
        "vulnerable",
        "Hoàn cảnh đặc biệt khó khăn",
        "Elderly living alone, street or orphaned children, disabled or seriously ill people.",
        ("người già neo đơn", "trẻ mồ côi", "khuyết tật", "vulnerable"),
    ),
    Service("other", "Khác", "Any other need.", ("khác", "other")),
)
SERVICES_BY_CODE = {service.code: service for service in SERVICES}

# Open311 has two statuses; ours say where in the lifecycle the ticket is (status_notes and
# the agency feed carry the detail).
CLOSED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.REJECTED, TicketStatus.CLOSED})
OPEN_STATUSES = frozenset(TicketStatus) - CLOSED_STATUSES

# Slots that identify or locate the person: never public, purged by retention.
# "addition": what a caller added by phone to an open ticket (issue 18, status line).
PERSONAL_SLOTS = (
    "callback_number", "name", "address", "description", "email", "lat", "long", "addition",
)  # fmt: skip


def open311_status(status: TicketStatus) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def _when(moment: datetime | None) -> str | None:
    # W3C datetime with its offset, as the spec asks; the store keeps UTC.
    return moment.isoformat(timespec="seconds") if moment is not None else None


def service_notice(ticket: Ticket) -> str:
    if ticket.agency_responsible:
        return f"Đã chuyển đến {ticket.agency_responsible}."  # forwarded to …
    return "Tổng đài 1022 đã tiếp nhận."  # received by the 1022 line


def public_request(ticket: Ticket) -> dict[str, Any]:
    """The spec's request fields, minus everything personal (see the module docstring)."""
    service = SERVICES_BY_CODE.get(ticket.service_code or "")
    return {
        "service_request_id": str(ticket.id),
        "status": open311_status(ticket.status),
        "status_notes": ticket.status_notes or None,
        "service_name": service.name if service else None,
        "service_code": ticket.service_code,
        "agency_responsible": ticket.agency_responsible,
        "service_notice": service_notice(ticket),
        "requested_datetime": _when(ticket.requested_datetime),
        "updated_datetime": _when(ticket.updated_datetime),
        "expected_datetime": _when(ticket.expected_datetime),
        # The admin unit only: coarse enough to publish, precise enough to count by area.
        "address": ticket.admin_unit,
    }


def agency_request(ticket: Ticket, extra: dict[str, Any]) -> dict[str, Any]:
    """What an agency receives: the public fields, the personal ones, and ours."""
    slots = ticket.slots

    def slot(name: str) -> str | None:
        return slots[name].value if name in slots else None

    body = public_request(ticket)
    body.update(
        {
            "description": ticket.description or None,
            "address": ", ".join(p for p in (slot("address"), ticket.admin_unit) if p) or None,
            "lat": slot("lat"),
            "long": slot("long"),
            "phone": ticket.callback_number or ticket.caller_number,
            "email": slot("email"),
        }
    )
    body["callbot"] = {
        "ticket_status": str(ticket.status),
        "channel": str(ticket.channel),
        "complete": ticket.complete,
        "needs_callback": ticket.needs_callback,
        "admin_unit": ticket.admin_unit,
        "routing_rule": ticket.routing_rule,
        "caller_number": ticket.caller_number,
        "callback_number": ticket.callback_number,
        "name": slot("name"),
        "street_address": slot("address"),
        "household_size": slot("household_size"),
        "subject": slot("subject"),
        "slots": {
            name: {"value": s.value, "source": str(s.source), "confidence": s.confidence}
            for name, s in sorted(slots.items())
        },
        "call_id": ticket.call_id,
        "recording_path": ticket.recording_path,
        "end_reason": str(ticket.end_reason) if ticket.end_reason else None,
        **extra,
    }
    return body
