"""Who may see and do what on the dashboard.

- administrator: everything.
- supervisor: sees every ticket; corrects slots, changes statuses, re-routes, adds notes.
- oversight (People's Council, Fatherland Front): sees everything, including who replayed
  which recording, and changes nothing.
- agency officer: sees only tickets routed to their agency; moves them through their
  statuses and adds notes. Correcting what the caller said and re-routing stay with the
  call centre's supervisors, who answer for the transcript and the routing rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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

    def can_see(self, ticket: Ticket) -> bool:
        if self.sees_all:
            return True
        return self.agency is not None and ticket.agency_responsible == self.agency

    def can_act(self, ticket: Ticket) -> bool:
        """Change the status and add notes."""
        if self.role is Role.OVERSIGHT:
            return False
        return self.can_see(ticket)
