"""The one interface every ticket store implements (SQLite, PostgreSQL).

Write order during a call: ``begin_call`` (creates the call and an *incomplete* ticket at
once, so a crash one millisecond later still leaves a ticket), then ``append_turn`` and
``set_slot`` as things happen, then ``end_call``. Each method commits before it returns.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    SlotValue,
    Ticket,
    TicketEvent,
    TicketStatus,
    Turn,
)


@dataclass(frozen=True)
class TicketFilter:
    status: TicketStatus | None = None
    complete: bool | None = None
    service_code: str | None = None
    since: datetime | None = None  # requested_datetime >= since
    until: datetime | None = None  # requested_datetime < until
    needs_callback: bool | None = None  # True: the callback queue
    agency_responsible: str | None = None


DEFAULT_STORE_URL = "sqlite:///var/callbot.db"


class StoreError(Exception):
    """A store operation failed (disk full, connection lost…); the message says which."""


class NotFoundError(StoreError, LookupError):
    """The call or ticket named does not exist in the store."""


class TransientStoreError(StoreError):
    """The connection was lost or the server is restarting: the same write, retried on a
    fresh connection, may succeed (the store's call-path writes retry it themselves)."""


class DuplicateCallError(StoreError):
    """``begin_call`` for a call id (AudioSocket UUID) an earlier call already used."""


class TransitionError(ValueError):
    """A status change the lifecycle does not allow (see ``STATUS_TRANSITIONS``)."""


class CaseLinkError(ValueError):
    """A link between a ticket and a household's case that the rules refuse (issue 18:
    cases do not nest, only open tickets; sql_cases.py). ``code`` says which rule
    (already_linked, nested, has_calls, itself, not_open, not_linked); the message, why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TicketStore(Protocol):
    async def open(self) -> None:
        """Connect and apply schema migrations."""

    async def close(self) -> None: ...

    async def begin_call(self, call: CallRecord, *, owner: str | None = None) -> Ticket:
        """Record a new call and create its incomplete ticket; returns the ticket.

        ``owner`` is the lease of the process running the call (``renew_lease``). A call
        id used before raises DuplicateCallError.
        """

    async def set_call_info(
        self, call_id: str, *, caller_number: str | None, channel_name: str | None
    ) -> None:
        """Attach what the network told us about the call (may arrive after begin_call)."""

    async def append_turn(self, turn: Turn) -> None:
        """Idempotent: the same turn again is a no-op; another turn with its seq is refused."""

    async def set_slot(
        self, call_id: str, slot: SlotValue, *, actor: str = "callbot", version: int | None = None
    ) -> None:
        """Set (or replace) one slot on the call's ticket, keeping the old value in history.

        ``version`` orders one call's writes of a slot (the session numbers them from 1): a
        write whose version is not newer than the stored one is a no-op, so retrying or
        replaying it never duplicates it. None (a supervisor's correction) outranks them all.

        Some slots also set a ticket field (``case_type`` → ``service_code``…): see
        ``callbot.tickets.model.SLOT_TICKET_FIELDS``. ``actor`` is who set it (a supervisor's login
        when corrected on the dashboard).
        """

    async def end_call(
        self, call_id: str, *, ended_at: datetime, reason: CallEndReason, complete: bool
    ) -> Ticket: ...

    async def get_ticket(self, ticket_id: int) -> Ticket | None: ...

    async def pending_handbacks(self) -> set[str]:
        """The call ids a supervisor asked (live view) to hand back, not yet acted on, on
        every machine; one query, read once a second by each process's watcher."""

    async def handback_pending(self, call_id: str) -> bool:
        """A supervisor asked (live view) to hand this call back; one primary-key read."""

    async def finish_handback(self, call_id: str, *, handed_back: bool) -> None: ...

    async def get_ticket_for_call(self, call_id: str) -> Ticket | None: ...

    async def list_tickets(
        self, filter: TicketFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[Ticket]:
        """Newest first."""

    async def list_turns(self, call_id: str) -> list[Turn]: ...

    # --- Status lifecycle and history (routing module, dashboard) -----------------------

    async def change_status(
        self,
        ticket_id: int,
        new_status: TicketStatus,
        actor: str,
        note: str = "",
        reason: str | None = None,
    ) -> Ticket:
        """Move a ticket along ``STATUS_TRANSITIONS``; ``rejected`` needs a reason.

        Raises TransitionError for a move the lifecycle forbids, NotFoundError for no ticket.
        """

    async def set_routing(
        self,
        ticket_id: int,
        agency: str,
        rule: str,
        expected_datetime: datetime | None,
        actor: str = "router",
    ) -> Ticket:
        """Assign the agency (and SLA); a ``new`` ticket becomes ``routed`` in the same step."""

    async def resolve_callback(
        self, ticket_id: int, actor: str, *, complete: bool, note: str = ""
    ) -> Ticket:
        """A person called the caller back: the ticket leaves the callback queue."""

    async def end_stale_calls(self, started_before: datetime) -> list[int]:
        """End calls still open that started before the cutoff (their process died).

        They end as ``server_error``, incomplete, in the callback queue; returns ticket ids.
        """

    async def list_history(self, ticket_id: int) -> list[TicketEvent]:
        """Oldest first."""

    # --- Leases: which process runs which call (callbot.tickets.leases) -----------------

    async def renew_lease(self, owner: str, *, host: str, at: datetime) -> None:
        """Say that ``owner`` (one process) is alive at ``at``; registers it the first time."""

    async def release_lease(self, owner: str) -> None:
        """A clean shutdown: the owner's calls have ended."""

    async def end_orphaned_calls(
        self, owner: str, *, expired_before: datetime, running: Collection[str]
    ) -> list[int]:
        """End the open calls nobody runs: those of owners whose heartbeat is older than
        ``expired_before`` (their process died) and ``owner``'s own that are not in
        ``running`` (their session ended but could not close them). Incomplete, in the
        callback queue; returns the ticket ids."""
