"""One case per household (issue 18 item 3): the store's side of linking a ticket to the
open case of its household, splitting it off again, and a case's calls.

A case is its first ticket: the one routed to the agency. A linked ticket keeps its own
call, recording, turns and slots; ``tickets.case_id`` names the case, it is not routed
(no second delivery to the agency), and it follows the case when the case is resolved or
closed (``follow_case``, called in the case's status change). Cases do not nest: a ticket
that is linked is never a case, and a case with calls is never linked. Which tickets are
one household is decided outside the store (callbot/tickets/household.py, cases.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from callbot.tickets.model import EventKind, Ticket, TicketStatus, utcnow
from callbot.tickets.notify.base import NotifyEvent
from callbot.tickets.store.base import CaseLinkError, NotFoundError
from callbot.tickets.store.sql_base import Row, SqlStoreBase, Tx, _fetchrow
from callbot.tickets.store.sql_callers import OPEN_STATUSES
from callbot.tickets.store.sql_notify import enqueue_notification


class HouseholdCasesMixin(SqlStoreBase):
    async def case_unchecked(self, ticket_id: int) -> bool:
        """Whether the household match has yet to run for this ticket."""
        async with self._transaction("case_unchecked", write=False) as tx:
            row = await _fetchrow(
                tx, "SELECT case_checked, case_id FROM tickets WHERE id = ?", ticket_id
            )
        return row is not None and not row["case_checked"] and row["case_id"] is None

    async def mark_case_checked(self, ticket_id: int) -> None:
        """The match ran and found no case: the ticket is its own case from now on."""
        async with self._transaction("mark_case_checked", write=True) as tx:
            await tx.fetch("UPDATE tickets SET case_checked = ? WHERE id = ?", True, ticket_id)

    async def household_candidates(
        self,
        ticket_id: int,
        *,
        numbers: Collection[str],
        places: Collection[str],
        since: datetime,
        limit: int = 50,
    ) -> list[Ticket]:
        """Open cases older than ``ticket_id`` filed since ``since`` that share one of
        ``numbers`` (caller or callback, as stored) or are in one of ``places`` (admin unit
        names): those sharing a number first, then newest first; with their slots (the
        address is one)."""
        numbers, places = list(numbers), list(places)
        shared, order = [], "requested_datetime DESC, id DESC"
        if numbers:
            marks = ", ".join("?" * len(numbers))
            shared += [f"callback_number IN ({marks})", f"caller_number IN ({marks})"]
            # A case sharing the number comes before the place's other open tickets, so a
            # busy ward's newer tickets never push it past the limit.
            order = f"CASE WHEN {' OR '.join(shared)} THEN 0 ELSE 1 END, {order}"
        if places:
            shared.append(f"admin_unit IN ({', '.join('?' * len(places))})")
        if not shared:
            return []
        statuses = ", ".join("?" * len(OPEN_STATUSES))
        async with self._transaction("household_candidates", write=False) as tx:
            rows = await tx.fetch(
                f"""
                SELECT * FROM tickets
                WHERE status IN ({statuses}) AND complete = ? AND purged_at IS NULL
                  AND case_id IS NULL AND id < ? AND requested_datetime >= ?
                  AND ({" OR ".join(shared)})
                ORDER BY {order}
                LIMIT ?
                """,
                *(str(s) for s in OPEN_STATUSES),
                True,
                ticket_id,
                self._dt_in(since),
                *numbers,
                *numbers,
                *places,
                *numbers,  # the ORDER BY's, when there are numbers
                *numbers,
                limit,
            )
            slots = await self._slots_of(tx, [int(row["id"]) for row in rows])
        return [self._ticket(row, slots.get(row["id"], {})) for row in rows]

    async def link_to_case(self, ticket_id: int, case_id: int, *, actor: str, by: str) -> bool:
        """Link ``ticket_id`` to the case ``case_id`` (``by``: why — number, address,
        supervisor), with a ``case_linked`` event on both. False when it already is (a
        replay); CaseLinkError when the link would break a rule (the message says which)."""
        now = utcnow()
        async with self._transaction("link_to_case", write=True) as tx:
            ticket = await self._case_row(tx, ticket_id)
            case = await self._case_row(tx, case_id)
            if ticket["case_id"] is not None:
                if int(ticket["case_id"]) == case_id:
                    return False
                raise CaseLinkError(
                    "already_linked",
                    f"ticket {ticket_id} is already in case {ticket['case_id']}: split it first",
                )
            if ticket_id == case_id:
                raise CaseLinkError("itself", "a ticket cannot be linked to itself")
            if case["case_id"] is not None:
                raise CaseLinkError(
                    "nested",
                    f"ticket {case_id} is itself in case {case['case_id']}: link to that case",
                )
            if TicketStatus(case["status"]) not in OPEN_STATUSES:
                raise CaseLinkError(
                    "not_open", f"case {case_id} is {case['status']}: only open cases"
                )
            if TicketStatus(ticket["status"]) not in OPEN_STATUSES:
                raise CaseLinkError(
                    "not_open", f"ticket {ticket_id} is {ticket['status']}: only open tickets"
                )
            if await _fetchrow(tx, "SELECT id FROM tickets WHERE case_id = ?", ticket_id):
                raise CaseLinkError(
                    "has_calls", f"ticket {ticket_id} has calls linked to it: split them first"
                )
            await tx.fetch(
                "UPDATE tickets SET case_id = ?, case_checked = ?, updated_datetime = ? "
                "WHERE id = ?",
                case_id,
                True,
                self._dt_in(now),
                ticket_id,
            )
            data = {"case": case_id, "ticket": ticket_id, "by": by}
            for on in (ticket_id, case_id):
                await self._add_event(tx, on, actor, EventKind.CASE_LINKED, data, at=now)
        return True

    async def split_from_case(self, ticket_id: int, *, actor: str, reason: str) -> int:
        """Take a linked ticket out of its case (a supervisor found it is another
        household); returns the case it left. The ticket is not matched again."""
        now = utcnow()
        async with self._transaction("split_from_case", write=True) as tx:
            ticket = await self._case_row(tx, ticket_id)
            if ticket["case_id"] is None:
                raise CaseLinkError("not_linked", f"ticket {ticket_id} is not linked to a case")
            case_id = int(ticket["case_id"])
            await tx.fetch(
                "UPDATE tickets SET case_id = NULL, updated_datetime = ? WHERE id = ?",
                self._dt_in(now),
                ticket_id,
            )
            data = {"case": case_id, "ticket": ticket_id}
            for on in (ticket_id, case_id):
                await self._add_event(
                    tx, on, actor, EventKind.CASE_SPLIT, data, at=now, reason=reason or None
                )
        return case_id

    async def case_calls(self, case_id: int) -> list[Ticket]:
        """The tickets linked to a case, oldest first (without their slots)."""
        async with self._transaction("case_calls", write=False) as tx:
            rows = await tx.fetch("SELECT * FROM tickets WHERE case_id = ? ORDER BY id", case_id)
        return [self._ticket(row, {}) for row in rows]

    async def _case_row(self, tx: Tx, ticket_id: int) -> Row:
        row = await _fetchrow(
            tx, f"SELECT id, status, case_id FROM tickets WHERE id = ?{self._lock_row}", ticket_id
        )
        if row is None:
            raise NotFoundError(f"no ticket {ticket_id} in the ticket store")
        return row


async def follow_case(
    store: SqlStoreBase, tx: Tx, case_id: int, status: TicketStatus, actor: str, at: datetime
) -> int:
    """Inside the case's status change to resolved or closed: its linked tickets still
    open (or resolved, when it closes) take the same status, and each caller who agreed
    is told under their own ticket number; returns how many. A reopened case leaves
    them as they are."""
    # Closing a resolved case also closes the tickets that were resolved with it.
    following = (
        (*OPEN_STATUSES, TicketStatus.RESOLVED) if status is TicketStatus.CLOSED else OPEN_STATUSES
    )
    rows = await tx.fetch(
        f"SELECT id, status FROM tickets WHERE case_id = ? AND status IN "
        f"({', '.join('?' * len(following))}){store._lock_row}",
        case_id,
        *(str(s) for s in following),
    )
    note = f"case {case_id} {status}"
    for row in rows:
        linked = int(row["id"])
        await tx.fetch(
            "UPDATE tickets SET status = ?, updated_datetime = ? WHERE id = ?",
            str(status),
            store._dt_in(at),
            linked,
        )
        data = {"from": row["status"], "to": str(status), "note": note}
        await store._add_event(
            tx, linked, actor, EventKind.STATUS_CHANGED, data, at=at, reason=note
        )
        await enqueue_notification(store, tx, linked, NotifyEvent.RESOLUTION, at)
    return len(rows)
