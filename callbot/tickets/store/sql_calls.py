"""Calls and tickets: the call path, reading tickets back, and the status lifecycle.

What the telephony side writes during a call (``begin_call``, ``set_call_info``,
``append_turn``, ``set_slot``, ``end_call``, ``end_stale_calls``), what the dashboard and the
API read (tickets, turns, history), and what the routing module and supervisors change
(``change_status``, ``set_routing``, ``resolve_callback``). Kept apart from the outbox,
Open311 and retention queries so each concern reads on its own; the shared helpers live in
sql_base.py.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from callbot.tickets.model import (
    SLOT_TICKET_FIELDS,
    STATUS_TRANSITIONS,
    CallEndReason,
    CallRecord,
    EventKind,
    SlotValue,
    Speaker,
    Ticket,
    TicketEvent,
    TicketStatus,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.store.base import StoreError, TicketFilter, TransitionError
from callbot.tickets.store.sql_base import (
    BOT_ACTOR,
    ConstraintError,
    SqlStoreBase,
    _fetchrow,
    _slot_data,
    to_utc,
)

log = logging.getLogger(__name__)

RECOVERY_ACTOR = "recovery"


class CallTicketMixin(SqlStoreBase):
    """Calls, tickets, their turns and history, and status changes."""

    # --- The call path ---------------------------------------------------------------

    async def begin_call(self, call: CallRecord) -> Ticket:
        started = to_utc(call.started_at)
        now = utcnow()
        async with self._transaction("begin_call", write=True) as tx:
            await tx.fetch(
                """
                INSERT INTO calls (call_id, channel, started_at, caller_number, channel_name,
                                   recording_path)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                call.call_id,
                str(call.channel),
                self._dt_in(started),
                call.caller_number,
                call.channel_name,
                call.recording_path,
            )
            row = await _fetchrow(
                tx,
                """
                INSERT INTO tickets (call_id, channel, status, complete, needs_callback,
                                     caller_number, requested_datetime, updated_datetime,
                                     recording_path)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING *
                """,
                call.call_id,
                str(call.channel),
                str(TicketStatus.NEW),
                False,
                False,
                call.caller_number,
                self._dt_in(started),
                self._dt_in(now),
                call.recording_path,
            )
            assert row is not None
            ticket = self._ticket(row, {})
            await self._add_event(
                tx, ticket.id, BOT_ACTOR, EventKind.CREATED, {"call_id": call.call_id}, at=now
            )
        log.info("ticket %d opened for call %s", ticket.id, call.call_id)
        return ticket

    async def set_call_info(
        self, call_id: str, *, caller_number: str | None, channel_name: str | None
    ) -> None:
        # A None leaves what is known: the two facts may arrive from different AMI events.
        now = utcnow()
        async with self._transaction("set_call_info", write=True) as tx:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            await tx.fetch(
                """
                UPDATE calls
                SET caller_number = COALESCE(?, caller_number),
                    channel_name = COALESCE(?, channel_name)
                WHERE call_id = ?
                """,
                caller_number,
                channel_name,
                call_id,
            )
            await tx.fetch(
                """
                UPDATE tickets
                SET caller_number = COALESCE(?, caller_number), updated_datetime = ?
                WHERE id = ?
                """,
                caller_number,
                self._dt_in(now),
                ticket_id,
            )
            learnt = {"caller_number": caller_number, "channel_name": channel_name}
            data = {key: value for key, value in learnt.items() if value is not None}
            await self._add_event(tx, ticket_id, BOT_ACTOR, EventKind.CALL_INFO, data, at=now)

    async def append_turn(self, turn: Turn) -> None:
        # One statement, no read first: this is the hot path (every utterance and prompt).
        try:
            await self._execute_one(
                "append_turn",
                """
                INSERT INTO turns (call_id, seq, at, speaker, kind, text, confidence,
                                   start_ms, end_ms, slot_updates)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                turn.call_id,
                turn.seq,
                self._dt_in(to_utc(turn.at)),
                str(turn.speaker),
                str(turn.kind),
                turn.text,
                turn.confidence,
                turn.start_ms,
                turn.end_ms,
                json.dumps(turn.slot_updates, ensure_ascii=False),
            )
        except ConstraintError as error:
            # Only now find out which constraint: an unknown call or a repeated seq.
            async with self._transaction("append_turn", write=False) as tx:
                await self._ticket_id_for_call(tx, turn.call_id)
            raise StoreError(
                f"append_turn: turn {turn.seq} of call {turn.call_id} is already stored"
            ) from error

    async def set_slot(self, call_id: str, slot: SlotValue, *, actor: str = BOT_ACTOR) -> None:
        now = utcnow()
        async with self._transaction("set_slot", write=True) as tx:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            old = await _fetchrow(
                tx,
                """
                SELECT value, source, confidence, heard
                FROM ticket_slots WHERE ticket_id = ? AND name = ?
                """,
                ticket_id,
                slot.name,
            )
            await tx.fetch(
                """
                INSERT INTO ticket_slots (ticket_id, name, value, source, confidence, heard,
                                          set_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, name) DO UPDATE
                SET value = excluded.value, source = excluded.source,
                    confidence = excluded.confidence, heard = excluded.heard,
                    set_at = excluded.set_at
                """,
                ticket_id,
                slot.name,
                slot.value,
                str(slot.source),
                slot.confidence,
                slot.heard,
                self._dt_in(now),
            )
            # The column name comes from SLOT_TICKET_FIELDS, never from the caller.
            column = SLOT_TICKET_FIELDS.get(slot.name)
            assignment = f"{column} = ?, " if column else ""
            values = (slot.value,) if column else ()
            await tx.fetch(
                f"UPDATE tickets SET {assignment}updated_datetime = ? WHERE id = ?",
                *values,
                self._dt_in(now),
                ticket_id,
            )
            data = {**_slot_data(slot), "old": dict(old) if old is not None else None}
            await self._add_event(tx, ticket_id, actor, EventKind.SLOT_SET, data, at=now)

    async def end_call(
        self, call_id: str, *, ended_at: datetime, reason: CallEndReason, complete: bool
    ) -> Ticket:
        async with self._transaction("end_call", write=True) as tx:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            ticket = await self._end(tx, call_id, ticket_id, to_utc(ended_at), reason, complete)
        log.info(
            "call %s ended (%s); ticket %d %s",
            call_id,
            reason,
            ticket.id,
            "complete" if complete else "incomplete, queued for callback",
        )
        return ticket

    async def end_stale_calls(self, started_before: datetime) -> list[int]:
        now = utcnow()
        async with self._transaction("end_stale_calls", write=True) as tx:
            rows = await tx.fetch(
                """
                SELECT calls.call_id, tickets.id
                FROM calls JOIN tickets ON tickets.call_id = calls.call_id
                WHERE calls.ended_at IS NULL AND calls.started_at < ?
                ORDER BY tickets.id
                """,
                self._dt_in(to_utc(started_before)),
            )
            for row in rows:
                await self._end(
                    tx,
                    row["call_id"],
                    row["id"],
                    now,
                    CallEndReason.SERVER_ERROR,
                    False,
                    actor=RECOVERY_ACTOR,
                )
        ticket_ids = [row["id"] for row in rows]
        if ticket_ids:
            log.warning("ended %d calls left open by a dead process", len(ticket_ids))
        return ticket_ids

    # --- Reading ---------------------------------------------------------------------

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        async with self._transaction("get_ticket", write=False) as tx:
            row = await _fetchrow(tx, "SELECT * FROM tickets WHERE id = ?", ticket_id)
            return await self._with_slots(tx, row) if row is not None else None

    async def get_ticket_for_call(self, call_id: str) -> Ticket | None:
        async with self._transaction("get_ticket_for_call", write=False) as tx:
            row = await _fetchrow(tx, "SELECT * FROM tickets WHERE call_id = ?", call_id)
            return await self._with_slots(tx, row) if row is not None else None

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
        async with self._transaction("list_turns", write=False) as tx:
            rows = await tx.fetch("SELECT * FROM turns WHERE call_id = ? ORDER BY seq", call_id)
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
