"""The one interface every ticket store implements (SQLite, PostgreSQL).

Write order during a call: ``begin_call`` (creates the call and an *incomplete* ticket at
once, so a crash one millisecond later still leaves a ticket), then ``append_turn`` and
``set_slot`` as things happen, then ``end_call``. Each method commits before it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callbot.tickets import CallEndReason, CallRecord, SlotValue, Ticket, TicketStatus, Turn


@dataclass(frozen=True)
class TicketFilter:
    status: TicketStatus | None = None
    complete: bool | None = None
    service_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class StoreError(Exception):
    """A store operation failed (disk full, connection lost…); the message says which."""


class TicketStore(Protocol):
    async def open(self) -> None:
        """Connect and apply schema migrations."""

    async def close(self) -> None: ...

    async def begin_call(self, call: CallRecord) -> Ticket:
        """Record a new call and create its incomplete ticket; returns the ticket."""

    async def set_call_info(
        self, call_id: str, *, caller_number: str | None, channel_name: str | None
    ) -> None:
        """Attach what the network told us about the call (may arrive after begin_call)."""

    async def append_turn(self, turn: Turn) -> None: ...

    async def set_slot(self, call_id: str, slot: SlotValue) -> None:
        """Set (or replace) one slot on the call's ticket, keeping the old value in history."""

    async def end_call(
        self, call_id: str, *, ended_at: datetime, reason: CallEndReason, complete: bool
    ) -> Ticket: ...

    async def get_ticket(self, ticket_id: int) -> Ticket | None: ...

    async def get_ticket_for_call(self, call_id: str) -> Ticket | None: ...

    async def list_tickets(
        self, filter: TicketFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[Ticket]:
        """Newest first."""

    async def list_turns(self, call_id: str) -> list[Turn]: ...
