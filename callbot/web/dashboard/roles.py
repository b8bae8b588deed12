"""Who may see and do what on the dashboard.

- administrator: everything.
- supervisor: sees every ticket; corrects slots, changes statuses, re-routes, adds notes.
- oversight (People's Council, Fatherland Front): sees everything, including who replayed
  which recording, and changes nothing.
- agency officer: sees only tickets routed to their agency: the responsible agency's, and
  every agency the ticket was delivered to (a support-policy ticket also goes to Sở Nội vụ,
  issue 15); moves them through their statuses and adds notes. Correcting what the caller
  said and re-routing stay with the call centre's supervisors, who answer for the
  transcript and the routing rules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from callbot.tickets.model import Ticket


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    SUPERVISOR = "supervisor"
    OVERSIGHT = "oversight"
    AGENCY = "agency"


@dataclass(frozen=True)
class User:
    id: int
    login: str
    role: Role
    agency: str | None
    disabled: bool
    created_at: datetime

    @property
    def sees_all(self) -> bool:
        return self.role is not Role.AGENCY

    @property
    def manages_calls(self) -> bool:
        """Corrects slots and re-routes (the call centre's own staff)."""
        return self.role in (Role.ADMINISTRATOR, Role.SUPERVISOR)

    @property
    def sees_replays(self) -> bool:
        return self.role in (Role.ADMINISTRATOR, Role.OVERSIGHT)

    def can_see(self, ticket: Ticket, delivered_to: Collection[str] = ()) -> bool:
        """``delivered_to``: the names of the agencies the ticket's live deliveries go to."""
        if self.sees_all:
            return True
        if self.agency is None:
            return False
        return ticket.agency_responsible == self.agency or self.agency in delivered_to

    def can_act(self, ticket: Ticket, delivered_to: Collection[str] = ()) -> bool:
        """Change the status and add notes."""
        if self.role is Role.OVERSIGHT:
            return False
        return self.can_see(ticket, delivered_to)


# A ticket reaches an agency through its outbox rows; a superseded row was re-routed away
# before delivery, so that agency no longer has the ticket.
DELIVERED_TO = (
    "tickets.id IN (SELECT ticket_id FROM outbox"
    " WHERE outbox.agency_name = ? AND outbox.status <> 'superseded')"
)


def agency_scope(user: User) -> tuple[str, list[Any]]:
    """SQL (over ``tickets``) that keeps the tickets this user may see, and its arguments;
    ``("", [])`` for users who see everything. The one place list, facets and overview
    scope an agency officer."""
    if user.sees_all:
        return "", []
    agency = user.agency or ""
    return f"(tickets.agency_responsible = ? OR {DELIVERED_TO})", [agency, agency]
