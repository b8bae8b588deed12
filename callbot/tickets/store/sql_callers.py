"""A caller's own open tickets (issue 18, status by phone): found by the number the network
gives or the ticket number the caller keys, and a caller's addition kept on the ticket.

A ticket is "open" for this purpose when it was filed (``complete``), is still being
handled (new … in progress), and its personal data was not purged. The number is compared
in every spelling Asterisk may give it (``0…``, ``84…``, ``+84…``) against both the number
the caller rang from and the callback number they gave; nothing here logs either.
"""

from __future__ import annotations

from datetime import datetime

from callbot.tickets.model import EventKind, Ticket, TicketStatus, utcnow
from callbot.tickets.store.sql_base import SqlStoreBase, Tx, _fetchrow

OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.ROUTED,
    TicketStatus.ACCEPTED,
    TicketStatus.IN_PROGRESS,
)
ADDITION_ACTOR = "caller"  # the note's author: the caller, by phone


def number_forms(number: str) -> tuple[str, ...]:
    """The spellings one Vietnamese number may be stored under; () for no digits."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return ()
    if digits.startswith("84") and len(digits) in (11, 12):
        national = "0" + digits[2:]
    elif digits.startswith("0"):
        national = digits
    else:
        return (digits,)
    rest = national[1:]
    return tuple(dict.fromkeys((national, "84" + rest, "+84" + rest, digits)))


def same_number(a: str | None, b: str | None) -> bool:
    """Whether two numbers are one, whatever their spelling."""
    if not a or not b:
        return False
    return bool(set(number_forms(a)) & set(number_forms(b)))


class CallerTicketsMixin(SqlStoreBase):
    """Look-ups the phone's status line makes, and the addition it leaves."""

    async def open_tickets_for_number(
        self, number: str, *, exclude_ticket: int | None = None, limit: int = 1
    ) -> list[Ticket]:
        """The caller's open tickets, newest first (``exclude_ticket``: this call's own)."""
        forms = number_forms(number)
        if not forms:
            return []
        marks = ", ".join("?" * len(forms))
        statuses = ", ".join("?" * len(OPEN_STATUSES))
        async with self._transaction("open_tickets_for_number", write=False) as tx:
            # status first: the tickets_status index narrows to the open ones.
            rows = await tx.fetch(
                f"""
                SELECT * FROM tickets
                WHERE status IN ({statuses}) AND complete = ? AND purged_at IS NULL
                  AND case_id IS NULL
                  AND (callback_number IN ({marks}) OR caller_number IN ({marks}))
                  AND id <> ?
                ORDER BY requested_datetime DESC, id DESC
                LIMIT ?
                """,
                *(str(s) for s in OPEN_STATUSES),
                True,
                *forms,
                *forms,
                exclude_ticket if exclude_ticket is not None else -1,
                limit,
            )
            return [await self._with_slots(tx, row) for row in rows]

    async def open_ticket_keyed(self, ticket_id: int, callback_number: str) -> Ticket | None:
        """A ticket number keyed by a caller without caller ID: the ticket only when it is
        open and ``callback_number`` is its callback (or calling) number; else None, the
        same None for "no such ticket" and "not yours", so keying reveals nothing."""
        async with self._transaction("open_ticket_keyed", write=False) as tx:
            row = await _fetchrow(
                tx, "SELECT * FROM tickets WHERE id = ? AND purged_at IS NULL", ticket_id
            )
            if row is None:
                return None
            ticket = await self._with_slots(tx, row)
        if ticket.status not in OPEN_STATUSES or not ticket.complete:
            return None
        numbers = (ticket.callback_number, ticket.caller_number)
        return ticket if any(same_number(callback_number, n) for n in numbers) else None

    async def add_caller_addition(
        self, ticket_id: int, text: str, *, at: datetime | None = None
    ) -> None:
        """What a caller added by phone, as a note on the ticket (shown with the officers'
        notes; emptied by retention as they are)."""
        async with self._transaction("add_caller_addition", write=True) as tx:
            await self._require_ticket(tx, ticket_id)
            await self._insert_note(tx, ticket_id, text, at or utcnow())

    async def link_follow_up(
        self, ticket_id: int, first_id: int, addition: str, *, actor: str
    ) -> bool:
        """A call that only added to an open ticket: ``addition`` becomes a note on
        ``first_id``, and the call's own ticket (which keeps its recording and transcript)
        is closed as linked to it — new → rejected (the reason names the first ticket) →
        closed, out of the callback queue. One transaction; False (nothing done) when the
        call's ticket is no longer ``new`` (already linked: a replay after a crash)."""
        now = utcnow()
        reason = f"follow-up of ticket {first_id}"
        async with self._transaction("link_follow_up", write=True) as tx:
            if await self._require_ticket(tx, ticket_id) is not TicketStatus.NEW:
                return False
            await self._require_ticket(tx, first_id)
            await self._insert_note(tx, first_id, addition, now)
            await tx.fetch(
                """
                UPDATE tickets SET status = ?, status_notes = ?, needs_callback = ?,
                                   updated_datetime = ?
                WHERE id = ?
                """,
                str(TicketStatus.CLOSED),
                reason,
                False,
                self._dt_in(now),
                ticket_id,
            )
            steps = (
                (TicketStatus.NEW, TicketStatus.REJECTED),
                (TicketStatus.REJECTED, TicketStatus.CLOSED),
            )
            for old, new in steps:
                data = {"from": str(old), "to": str(new), "note": reason}
                await self._add_event(
                    tx, ticket_id, actor, EventKind.STATUS_CHANGED, data, at=now, reason=reason
                )
        return True

    async def _insert_note(self, tx: Tx, ticket_id: int, text: str, at: datetime) -> None:
        await tx.fetch(
            "INSERT INTO ticket_notes (ticket_id, at, actor, text) VALUES (?, ?, ?, ?)",
            ticket_id,
            self._dt_in(at),
            ADDITION_ACTOR,
            text,
        )
