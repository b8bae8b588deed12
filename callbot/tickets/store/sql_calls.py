"""Tickets: reading tickets, turns and history back, and the status lifecycle.

What the dashboard and the API read (tickets, turns, history), and what the routing module
and supervisors change (``change_status``, ``set_routing``, ``resolve_callback``). What the
telephony side writes during a call lives in sql_call_path.py; the outbox, Open311 and
retention queries in their own modules, so each concern reads on its own; the shared
helpers live in sql_base.py.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from callbot.tickets.model import (
    STATUS_TRANSITIONS,
    EventKind,
    Speaker,
    Ticket,
    TicketEvent,
    TicketStatus,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.notify.base import NotifyEvent
from callbot.tickets.store.base import TicketFilter, TransitionError
from callbot.tickets.store.sql_base import Row, SqlStoreBase, Tx, _fetchrow, to_utc
from callbot.tickets.store.sql_cases import follow_case
from callbot.tickets.store.sql_notify import RESOLUTION_STATUSES, enqueue_notification

log = logging.getLogger(__name__)


class CallTicketMixin(SqlStoreBase):
    """Tickets, their turns and history, and status changes."""

    # --- Reading ---------------------------------------------------------------------

    # Reading one ticket is retried on a fresh connection like the call path's writes:
    # the session reads its ticket back before telling a caller it was filed.

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        async def body(tx: Tx, _retried: bool) -> Ticket | None:
            row = await _fetchrow(tx, "SELECT * FROM tickets WHERE id = ?", ticket_id)
            return await self._with_slots(tx, row) if row is not None else None

        return await self._write("get_ticket", body, write=False)

    async def get_ticket_for_call(self, call_id: str) -> Ticket | None:
        async def body(tx: Tx, _retried: bool) -> Ticket | None:
            row = await _fetchrow(tx, "SELECT * FROM tickets WHERE call_id = ?", call_id)
            return await self._with_slots(tx, row) if row is not None else None

        return await self._write("get_ticket_for_call", body, write=False)

    async def list_tickets(
        self, filter: TicketFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[Ticket]:
        where, args = self._where(filter or TicketFilter())
        async with self._transaction("list_tickets", write=False) as tx:
            rows = await tx.fetch(
                f"""
                SELECT * FROM tickets
                {where}
                ORDER BY requested_datetime DESC, id DESC
                LIMIT ? OFFSET ?
                """,
                *args,
                limit,
                offset,
            )
            slots = await self._slots_of(tx, [row["id"] for row in rows])
        return [self._ticket(row, slots.get(row["id"], {})) for row in rows]

    async def list_turns(self, call_id: str) -> list[Turn]:
        async def body(tx: Tx, _retried: bool) -> list[Row]:
            return list(
                await tx.fetch("SELECT * FROM turns WHERE call_id = ? ORDER BY seq", call_id)
            )

        rows = await self._write("list_turns", body, write=False)
        return [
            Turn(
                call_id=row["call_id"],
                seq=row["seq"],
                at=self._dt_out(row["at"]),
                speaker=Speaker(row["speaker"]),
                kind=TurnKind(row["kind"]),
                text=row["text"],
                confidence=row["confidence"],
                start_ms=row["start_ms"],
                end_ms=row["end_ms"],
                slot_updates=json.loads(row["slot_updates"]),
            )
            for row in rows
        ]

    async def list_history(self, ticket_id: int) -> list[TicketEvent]:
        async with self._transaction("list_history", write=False) as tx:
            rows = await tx.fetch(
                "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", ticket_id
            )
            if not rows:
                await self._require_ticket(tx, ticket_id, lock=False)
        return [
            TicketEvent(
                id=row["id"],
                ticket_id=row["ticket_id"],
                at=self._dt_out(row["at"]),
                actor=row["actor"],
                kind=EventKind(row["kind"]),
                data=json.loads(row["data"]),
                reason=row["reason"],
            )
            for row in rows
        ]

    # --- Status lifecycle (routing module, dashboard) --------------------------------

    async def change_status(
        self,
        ticket_id: int,
        new_status: TicketStatus,
        actor: str,
        note: str = "",
        reason: str | None = None,
    ) -> Ticket:
        new_status = TicketStatus(new_status)
        if new_status is TicketStatus.REJECTED and not reason:
            raise TransitionError(f"ticket {ticket_id}: rejecting needs a reason")
        now = utcnow()
        async with self._transaction("change_status", write=True) as tx:
            current = await self._require_ticket(tx, ticket_id)
            if new_status not in STATUS_TRANSITIONS[current]:
                raise TransitionError(
                    f"ticket {ticket_id}: {current} → {new_status} is not allowed "
                    f"(from {current}: {sorted(STATUS_TRANSITIONS[current]) or 'nothing'})"
                )
            await tx.fetch(
                """
                UPDATE tickets SET status = ?, status_notes = ?, updated_datetime = ?
                WHERE id = ?
                """,
                str(new_status),
                note,
                self._dt_in(now),
                ticket_id,
            )
            await self._add_event(
                tx,
                ticket_id,
                actor,
                EventKind.STATUS_CHANGED,
                {"from": str(current), "to": str(new_status), "note": note},
                at=now,
                reason=reason,
            )
            if new_status in RESOLUTION_STATUSES:  # issue 18: tell a caller who agreed
                await enqueue_notification(self, tx, ticket_id, NotifyEvent.RESOLUTION, now)
                # and the calls linked to this household's case (sql_cases.py)
                await follow_case(self, tx, ticket_id, new_status, actor, now)
            ticket = await self._reload(tx, ticket_id)
        log.info("ticket %d: %s → %s by %s", ticket_id, current, new_status, actor)
        return ticket

    async def set_routing(
        self,
        ticket_id: int,
        agency: str,
        rule: str,
        expected_datetime: datetime | None,
        actor: str = "router",
    ) -> Ticket:
        now = utcnow()
        expected = to_utc(expected_datetime) if expected_datetime is not None else None
        async with self._transaction("set_routing", write=True) as tx:
            current = await self._require_ticket(tx, ticket_id)
            if current not in (TicketStatus.NEW, TicketStatus.ROUTED):
                raise TransitionError(
                    f"ticket {ticket_id} is {current}: only new or routed tickets are routed"
                )
            await tx.fetch(
                """
                UPDATE tickets
                SET agency_responsible = ?, routing_rule = ?, expected_datetime = ?,
                    status = ?, updated_datetime = ?
                WHERE id = ?
                """,
                agency,
                rule,
                self._dt_in(expected) if expected is not None else None,
                str(TicketStatus.ROUTED),
                self._dt_in(now),
                ticket_id,
            )
            routed = {
                "agency": agency,
                "rule": rule,
                "expected_datetime": expected.isoformat() if expected else None,
            }
            await self._add_event(tx, ticket_id, actor, EventKind.ROUTED, routed, at=now)
            if current is TicketStatus.NEW:
                change = {"from": str(current), "to": str(TicketStatus.ROUTED), "note": ""}
                await self._add_event(
                    tx, ticket_id, actor, EventKind.STATUS_CHANGED, change, at=now
                )
            # Issue 18: the receipt, now that the callback time is known (once per ticket).
            await enqueue_notification(self, tx, ticket_id, NotifyEvent.RECEIPT, now)
            ticket = await self._reload(tx, ticket_id)
        log.info("ticket %d routed to %s by rule %s", ticket_id, agency, rule)
        return ticket

    async def resolve_callback(
        self, ticket_id: int, actor: str, *, complete: bool, note: str = ""
    ) -> Ticket:
        now = utcnow()
        async with self._transaction("resolve_callback", write=True) as tx:
            await self._require_ticket(tx, ticket_id)
            await tx.fetch(
                """
                UPDATE tickets SET needs_callback = ?, complete = ?, updated_datetime = ?
                WHERE id = ?
                """,
                False,
                complete,
                self._dt_in(now),
                ticket_id,
            )
            await self._add_event(
                tx,
                ticket_id,
                actor,
                EventKind.CALLBACK_DONE,
                {"complete": complete, "note": note},
                at=now,
            )
            return await self._reload(tx, ticket_id)
