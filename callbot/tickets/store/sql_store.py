"""What the SQLite and PostgreSQL ticket stores share: every query and every rule.

The engines differ only in how they connect, run a transaction, spell datetimes and report
errors; those are the few abstract methods at the bottom of ``SqlTicketStore``. The SQL here
is written once with ``?`` placeholders (PostgreSQL's adapter turns them into ``$1, $2…``), so
both stores behave the same by construction and one test suite covers both.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, Self

from callbot.tickets.deliveries import AgencyTarget, Delivery, DeliveryStatus, idempotency_key
from callbot.tickets.model import (
    SLOT_TICKET_FIELDS,
    STATUS_TRANSITIONS,
    CallEndReason,
    CallRecord,
    Channel,
    EventKind,
    SlotSource,
    SlotValue,
    Speaker,
    Ticket,
    TicketEvent,
    TicketStatus,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.store.base import NotFoundError, StoreError, TicketFilter, TransitionError

log = logging.getLogger(__name__)

Row = Mapping[str, Any]

BOT_ACTOR = "callbot"
RECOVERY_ACTOR = "recovery"
OUTBOX_ACTOR = "outbox"  # issue 5


class ConstraintError(StoreError):
    """A key or reference constraint refused a write (duplicate turn, unknown call…)."""


class Tx(Protocol):
    """The statements of one transaction, in the engine's own connection."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...


def to_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (the callbot works in UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


async def _fetchrow(tx: Tx, sql: str, *args: Any) -> Row | None:
    rows = await tx.fetch(sql, *args)
    return rows[0] if rows else None


class SqlTicketStore(ABC):
    """The TicketStore behaviour on top of a small engine adapter."""

    # Appended to the SELECT that reads a ticket before changing its status, so two officers
    # changing one ticket at once serialise (PostgreSQL); SQLite's write lock already does.
    _lock_row = ""

    # --- Opening: ``await store``, ``async with store``, or ``await store.open()`` -------

    def __await__(self) -> Generator[Any, None, Self]:
        return self._opened().__await__()

    async def _opened(self) -> Self:
        await self.open()
        return self

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

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

    # --- Helpers shared by the methods above -----------------------------------------

    async def _end(
        self,
        tx: Tx,
        call_id: str,
        ticket_id: int,
        ended_at: datetime,
        reason: CallEndReason,
        complete: bool,
        *,
        actor: str = BOT_ACTOR,
    ) -> Ticket:
        # The status stays as it is (new): routing is another module's decision. An
        # incomplete ticket goes to the callback queue instead.
        await tx.fetch(
            "UPDATE calls SET ended_at = ?, end_reason = ? WHERE call_id = ?",
            self._dt_in(ended_at),
            str(reason),
            call_id,
        )
        await tx.fetch(
            """
            UPDATE tickets
            SET end_reason = ?, complete = ?, needs_callback = ?, updated_datetime = ?
            WHERE id = ?
            """,
            str(reason),
            complete,
            not complete,
            self._dt_in(utcnow()),
            ticket_id,
        )
        data = {"reason": str(reason), "complete": complete, "needs_callback": not complete}
        await self._add_event(tx, ticket_id, actor, EventKind.CALL_ENDED, data, at=ended_at)
        return await self._reload(tx, ticket_id)

    async def _add_event(
        self,
        tx: Tx,
        ticket_id: int,
        actor: str,
        kind: EventKind,
        data: Mapping[str, object],
        *,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        await tx.fetch(
            """
            INSERT INTO ticket_events (ticket_id, at, actor, kind, data, reason)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            ticket_id,
            self._dt_in(at),
            actor,
            str(kind),
            json.dumps(data, ensure_ascii=False),
            reason,
        )

    async def _ticket_id_for_call(self, tx: Tx, call_id: str) -> int:
        row = await _fetchrow(tx, "SELECT id FROM tickets WHERE call_id = ?", call_id)
        if row is None:
            raise NotFoundError(f"no call {call_id} in the ticket store")
        return int(row["id"])

    async def _require_ticket(self, tx: Tx, ticket_id: int, *, lock: bool = True) -> TicketStatus:
        suffix = self._lock_row if lock else ""
        row = await _fetchrow(tx, f"SELECT status FROM tickets WHERE id = ?{suffix}", ticket_id)
        if row is None:
            raise NotFoundError(f"no ticket {ticket_id} in the ticket store")
        return TicketStatus(row["status"])

    async def _reload(self, tx: Tx, ticket_id: int) -> Ticket:
        row = await _fetchrow(tx, "SELECT * FROM tickets WHERE id = ?", ticket_id)
        assert row is not None, "reloaded inside the transaction that wrote it"
        return await self._with_slots(tx, row)

    async def _with_slots(self, tx: Tx, row: Row) -> Ticket:
        slots = await self._slots_of(tx, [row["id"]])
        return self._ticket(row, slots.get(row["id"], {}))

    async def _slots_of(self, tx: Tx, ticket_ids: list[int]) -> dict[int, dict[str, SlotValue]]:
        if not ticket_ids:
            return {}
        marks = ", ".join("?" * len(ticket_ids))
        rows = await tx.fetch(
            f"SELECT * FROM ticket_slots WHERE ticket_id IN ({marks}) ORDER BY name",
            *ticket_ids,
        )
        slots: dict[int, dict[str, SlotValue]] = {}
        for row in rows:
            slots.setdefault(row["ticket_id"], {})[row["name"]] = SlotValue(
                name=row["name"],
                value=row["value"],
                source=SlotSource(row["source"]),
                confidence=row["confidence"],
                heard=row["heard"],
            )
        return slots

    def _where(self, wanted: TicketFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if wanted.status is not None:
            clauses.append("status = ?")
            args.append(str(wanted.status))
        if wanted.complete is not None:
            clauses.append("complete = ?")
            args.append(wanted.complete)
        if wanted.needs_callback is not None:
            clauses.append("needs_callback = ?")
            args.append(wanted.needs_callback)
        if wanted.service_code is not None:
            clauses.append("service_code = ?")
            args.append(wanted.service_code)
        if wanted.agency_responsible is not None:
            clauses.append("agency_responsible = ?")
            args.append(wanted.agency_responsible)
        if wanted.since is not None:
            clauses.append("requested_datetime >= ?")
            args.append(self._dt_in(to_utc(wanted.since)))
        if wanted.until is not None:
            clauses.append("requested_datetime < ?")
            args.append(self._dt_in(to_utc(wanted.until)))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _ticket(self, row: Row, slots: dict[str, SlotValue]) -> Ticket:
        def moment(column: str) -> datetime | None:
            value = row[column]
            return self._dt_out(value) if value is not None else None

        end_reason = row["end_reason"]
        return Ticket(
            id=int(row["id"]),
            call_id=row["call_id"],
            channel=Channel(row["channel"]),
            status=TicketStatus(row["status"]),
            complete=bool(row["complete"]),
            service_code=row["service_code"],
            description=row["description"],
            slots=slots,
            caller_number=row["caller_number"],
            callback_number=row["callback_number"],
            admin_unit=row["admin_unit"],
            agency_responsible=row["agency_responsible"],
            requested_datetime=self._dt_out(row["requested_datetime"]),
            updated_datetime=self._dt_out(row["updated_datetime"]),
            expected_datetime=moment("expected_datetime"),
            end_reason=CallEndReason(end_reason) if end_reason is not None else None,
            recording_path=row["recording_path"],
            needs_callback=bool(row["needs_callback"]),
            status_notes=row["status_notes"],
            routing_rule=row["routing_rule"],
        )

    # =====================================================================================
    # Issue 5: the agency outbox, Open311 requests filed over the web, retention.
    # (callbot/tickets/outbox.py, callbot/web/open311.py, callbot/tickets/retention.py;
    # docs/tickets.md)
    # =====================================================================================

    # --- Outbox -------------------------------------------------------------------------

    async def enqueue_deliveries(
        self, ticket_id: int, targets: Sequence[AgencyTarget]
    ) -> list[Delivery]:
        """One delivery per agency for the ticket's current routing; returns them.

        The routing version is the number of ``routed`` events, so a re-route gets new
        idempotency keys and the undelivered rows of older versions become ``superseded``.
        Enqueueing the same routing again inserts nothing (the keys are unique).
        """
        now = utcnow()
        async with self._transaction("enqueue_deliveries", write=True) as tx:
            await self._require_ticket(tx, ticket_id)
            version = await self._routing_version(tx, ticket_id)
            await tx.fetch(
                """
                UPDATE outbox SET status = ?, updated_at = ?
                WHERE ticket_id = ? AND routing_version < ? AND status = ?
                """,
                str(DeliveryStatus.SUPERSEDED),
                self._dt_in(now),
                ticket_id,
                version,
                str(DeliveryStatus.PENDING),
            )
            for target in targets:
                status = DeliveryStatus.PENDING if target.has_webhook else DeliveryStatus.LOCAL
                await tx.fetch(
                    """
                    INSERT INTO outbox (idempotency_key, ticket_id, routing_version, agency_id,
                                        agency_name, status, next_attempt_at, created_at,
                                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """,
                    idempotency_key(ticket_id, target.agency_id, version),
                    ticket_id,
                    version,
                    target.agency_id,
                    target.agency_name,
                    str(status),
                    self._dt_in(now),
                    self._dt_in(now),
                    self._dt_in(now),
                )
            rows = await tx.fetch(
                "SELECT * FROM outbox WHERE ticket_id = ? AND routing_version = ? ORDER BY id",
                ticket_id,
                version,
            )
        return [self._delivery(row) for row in rows]

    async def claim_deliveries(self, *, limit: int, lease_s: float) -> list[Delivery]:
        """Take up to ``limit`` due deliveries for one attempt each.

        Claiming counts the attempt and pushes ``next_attempt_at`` a lease ahead, so other
        workers (this machine's or another's) skip the row, and a worker that dies mid-POST
        leaves it to be retried when the lease runs out. The outer WHERE repeats the
        condition so that on PostgreSQL a second worker blocked on the same rows re-checks
        them after the first commits and claims none of them twice.
        """
        now = utcnow()
        due = self._dt_in(now)
        async with self._transaction("claim_deliveries", write=True) as tx:
            rows = await tx.fetch(
                """
                UPDATE outbox
                SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
                WHERE id IN (SELECT id FROM outbox
                             WHERE status = ? AND next_attempt_at <= ?
                             ORDER BY next_attempt_at, id
                             LIMIT ?)
                  AND status = ? AND next_attempt_at <= ?
                RETURNING *
                """,
                self._dt_in(now + timedelta(seconds=lease_s)),
                due,
                str(DeliveryStatus.PENDING),
                due,
                limit,
                str(DeliveryStatus.PENDING),
                due,
            )
        return sorted((self._delivery(row) for row in rows), key=lambda d: d.id)

    async def next_delivery_due(self) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing pending)."""
        async with self._transaction("next_delivery_due", write=False) as tx:
            row = await _fetchrow(
                tx,
                "SELECT MIN(next_attempt_at) AS due FROM outbox WHERE status = ?",
                str(DeliveryStatus.PENDING),
            )
        return self._dt_out(row["due"]) if row is not None and row["due"] is not None else None

    async def mark_delivered(self, delivery: Delivery, *, status_code: int) -> None:
        # Unconditional: even if this worker's lease ran out meanwhile, the agency has it.
        await self._finish_delivery(
            delivery, DeliveryStatus.DELIVERED, status_code, None, None, require_claim=False
        )

    async def mark_retry(
        self,
        delivery: Delivery,
        *,
        next_attempt_at: datetime,
        status_code: int | None,
        error: str,
    ) -> None:
        await self._finish_delivery(
            delivery, DeliveryStatus.PENDING, status_code, error, next_attempt_at
        )

    async def mark_failed(self, delivery: Delivery, *, status_code: int | None, error: str) -> None:
        await self._finish_delivery(delivery, DeliveryStatus.FAILED, status_code, error, None)

    async def list_deliveries(
        self,
        status: DeliveryStatus | None = None,
        *,
        ticket_id: int | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Newest first; ``status=failed`` is what an operator must look at."""
        clauses, args = [], []
        if status is not None:
            clauses.append("status = ?")
            args.append(str(DeliveryStatus(status)))
        if ticket_id is not None:
            clauses.append("ticket_id = ?")
            args.append(ticket_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._transaction("list_deliveries", write=False) as tx:
            rows = await tx.fetch(
                f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", *args, limit
            )
        return [self._delivery(row) for row in rows]

    async def retry_deliveries(self, delivery_ids: Sequence[int]) -> int:
        """Put failed deliveries back in the queue, due now, with a fresh attempt count."""
        if not delivery_ids:
            return 0
        now = self._dt_in(utcnow())
        marks = ", ".join("?" * len(delivery_ids))
        async with self._transaction("retry_deliveries", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE outbox
                SET status = ?, attempts = 0, next_attempt_at = ?, updated_at = ?
                WHERE id IN ({marks}) AND status = ?
                RETURNING id
                """,
                str(DeliveryStatus.PENDING),
                now,
                now,
                *delivery_ids,
                str(DeliveryStatus.FAILED),
            )
        return len(rows)

    async def tickets_to_route(self, *, limit: int = 100) -> list[int]:
        """Complete tickets still ``new`` with a place: the process that should have routed
        them died between ``end_call`` and routing (or a callback completed them)."""
        async with self._transaction("tickets_to_route", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT id FROM tickets
                WHERE status = ? AND complete = ? AND admin_unit IS NOT NULL
                ORDER BY id LIMIT ?
                """,
                str(TicketStatus.NEW),
                True,
                limit,
            )
        return [int(row["id"]) for row in rows]

    async def routed_without_deliveries(self, *, limit: int = 100) -> list[int]:
        """Routed tickets whose current routing has no outbox rows (died after routing)."""
        async with self._transaction("routed_without_deliveries", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT t.id FROM tickets t
                WHERE t.status = ?
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox o
                      WHERE o.ticket_id = t.id
                        AND o.routing_version = (SELECT COUNT(*) FROM ticket_events e
                                                 WHERE e.ticket_id = t.id AND e.kind = ?))
                ORDER BY t.id LIMIT ?
                """,
                str(TicketStatus.ROUTED),
                str(EventKind.ROUTED),
                limit,
            )
        return [int(row["id"]) for row in rows]

    async def _finish_delivery(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        *,
        require_claim: bool = True,
    ) -> None:
        now = utcnow()
        # The attempt count is the claim token: a worker whose lease ran out and whose row
        # another worker re-claimed must not overwrite that worker's outcome.
        claim = " AND status = ? AND attempts = ?" if require_claim else ""
        claim_args = (str(DeliveryStatus.PENDING), delivery.attempts) if require_claim else ()
        async with self._transaction("finish_delivery", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE outbox
                SET status = ?, last_status = ?, last_error = ?,
                    next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ?,
                    delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END
                WHERE id = ?{claim}
                RETURNING id
                """,
                str(status),
                status_code,
                error,
                self._dt_in(to_utc(next_attempt_at)) if next_attempt_at else None,
                self._dt_in(now),
                status is DeliveryStatus.DELIVERED,
                self._dt_in(now),
                delivery.id,
                *claim_args,
            )
            if rows and status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
                data = {
                    "agency": delivery.agency_name,
                    "agency_id": delivery.agency_id,
                    "outcome": str(status),
                    "attempts": delivery.attempts,
                    "status_code": status_code,
                    "routing_version": delivery.routing_version,
                }
                await self._add_event(
                    tx, delivery.ticket_id, OUTBOX_ACTOR, EventKind.DELIVERY, data, at=now
                )

    async def _routing_version(self, tx: Tx, ticket_id: int) -> int:
        row = await _fetchrow(
            tx,
            "SELECT COUNT(*) AS n FROM ticket_events WHERE ticket_id = ? AND kind = ?",
            ticket_id,
            str(EventKind.ROUTED),
        )
        return int(row["n"]) if row is not None else 0

    def _delivery(self, row: Row) -> Delivery:
        def moment(column: str) -> datetime | None:
            return self._dt_out(row[column]) if row[column] is not None else None

        return Delivery(
            id=int(row["id"]),
            idempotency_key=row["idempotency_key"],
            ticket_id=int(row["ticket_id"]),
            routing_version=int(row["routing_version"]),
            agency_id=row["agency_id"],
            agency_name=row["agency_name"],
            status=DeliveryStatus(row["status"]),
            attempts=int(row["attempts"]),
            next_attempt_at=self._dt_out(row["next_attempt_at"]),
            last_status=row["last_status"],
            last_error=row["last_error"],
            created_at=self._dt_out(row["created_at"]),
            updated_at=self._dt_out(row["updated_at"]),
            delivered_at=moment("delivered_at"),
        )

    # --- Open311: requests filed by other channels (web form, chat) ---------------------

    async def file_request(
        self,
        *,
        channel: Channel,
        service_code: str,
        description: str,
        slots: Sequence[SlotValue],
        complete: bool,
        actor: str,
    ) -> Ticket:
        """A ticket with no call behind it (``call_id`` is NULL), its slots set at once."""
        now = utcnow()
        async with self._transaction("file_request", write=True) as tx:
            row = await _fetchrow(
                tx,
                """
                INSERT INTO tickets (call_id, channel, status, complete, needs_callback,
                                     service_code, description, requested_datetime,
                                     updated_datetime)
                VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING id
                """,
                str(channel),
                str(TicketStatus.NEW),
                complete,
                False,
                service_code,
                description,
                self._dt_in(now),
                self._dt_in(now),
            )
            assert row is not None
            ticket_id = int(row["id"])
            await self._add_event(
                tx, ticket_id, actor, EventKind.CREATED, {"channel": str(channel)}, at=now
            )
            for slot in slots:
                await tx.fetch(
                    """
                    INSERT INTO ticket_slots (ticket_id, name, value, source, confidence,
                                              heard, set_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    ticket_id,
                    slot.name,
                    slot.value,
                    str(slot.source),
                    slot.confidence,
                    slot.heard,
                    self._dt_in(now),
                )
                column = SLOT_TICKET_FIELDS.get(slot.name)  # never from the request
                if column:
                    await tx.fetch(
                        f"UPDATE tickets SET {column} = ? WHERE id = ?", slot.value, ticket_id
                    )
                data = {**_slot_data(slot), "old": None}
                await self._add_event(tx, ticket_id, actor, EventKind.SLOT_SET, data, at=now)
            ticket = await self._reload(tx, ticket_id)
        log.info("ticket %d filed on the %s channel", ticket.id, channel)
        return ticket

    async def list_requests(
        self,
        *,
        ids: Sequence[int] = (),
        service_codes: Sequence[str] = (),
        statuses: Sequence[TicketStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Ticket]:
        """Tickets matching every filter given (a list matches any of its values), newest
        first, without their slots: the Open311 read endpoints need only ticket fields."""
        clauses: list[str] = []
        args: list[Any] = []
        for column, values in (
            ("id", list(ids)),
            ("service_code", list(service_codes)),
            ("status", [str(s) for s in statuses]),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        if since is not None:
            clauses.append("requested_datetime >= ?")
            args.append(self._dt_in(to_utc(since)))
        if until is not None:
            clauses.append("requested_datetime < ?")
            args.append(self._dt_in(to_utc(until)))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._transaction("list_requests", write=False) as tx:
            rows = await tx.fetch(
                f"""
                SELECT * FROM tickets {where}
                ORDER BY requested_datetime DESC, id DESC LIMIT ?
                """,
                *args,
                limit,
            )
        return [self._ticket(row, {}) for row in rows]

    # --- Retention ----------------------------------------------------------------------

    async def retention_candidates(
        self, cutoffs: Mapping[TicketStatus, datetime], default_cutoff: datetime, *, limit: int
    ) -> list[PurgeCandidate]:
        """Unpurged tickets whose last change is older than their status's cutoff; never a
        ticket whose call is still up."""
        periods: list[str] = []
        args: list[Any] = []
        for status, cutoff in cutoffs.items():
            periods.append("(t.status = ? AND t.updated_datetime < ?)")
            args += [str(status), self._dt_in(to_utc(cutoff))]
        listed = [str(status) for status in cutoffs]
        others = f"t.status NOT IN ({', '.join('?' * len(listed))}) AND " if listed else ""
        periods.append(f"({others}t.updated_datetime < ?)")
        args += [*listed, self._dt_in(to_utc(default_cutoff))]
        async with self._transaction("retention_candidates", write=False) as tx:
            rows = await tx.fetch(
                f"""
                SELECT t.id, t.status, t.call_id,
                       COALESCE(t.recording_path, c.recording_path) AS recording_path
                FROM tickets t LEFT JOIN calls c ON c.call_id = t.call_id
                WHERE t.purged_at IS NULL
                  AND (t.call_id IS NULL OR c.ended_at IS NOT NULL)
                  AND ({" OR ".join(periods)})
                ORDER BY t.id
                LIMIT ?
                """,
                *args,
                limit,
            )
        return [
            PurgeCandidate(
                int(row["id"]), TicketStatus(row["status"]), row["call_id"], row["recording_path"]
            )
            for row in rows
        ]

    async def purge_personal_data(
        self, ticket_id: int, *, personal_slots: Sequence[str], actor: str
    ) -> dict[str, int]:
        """Remove what identifies the person; keep the anonymous figures.

        Kept: case type, admin unit, agency, dates, status, completeness, end reason, the
        number and timing of turns, the history's shape. Removed: caller and callback
        numbers, the free-text description, the recording path, the text of every caller and
        bot turn (readbacks repeat the number), supervisors' internal notes, personal slots
        and what every slot heard,
        and the personal values inside history events (the one in-place change the
        append-only history allows). Returns counts of what was removed.
        """
        now = utcnow()
        personal = set(personal_slots)
        async with self._transaction("purge_personal_data", write=True) as tx:
            row = await _fetchrow(
                tx,
                f"SELECT call_id, purged_at FROM tickets WHERE id = ?{self._lock_row}",
                ticket_id,
            )
            if row is None:
                raise NotFoundError(f"no ticket {ticket_id} in the ticket store")
            if row["purged_at"] is not None:
                return {}
            call_id = row["call_id"]
            await tx.fetch(
                """
                UPDATE tickets
                SET caller_number = NULL, callback_number = NULL, description = '',
                    recording_path = NULL, purged_at = ?
                WHERE id = ?
                """,
                self._dt_in(now),
                ticket_id,
            )
            removed_slots = await tx.fetch(
                f"""
                DELETE FROM ticket_slots
                WHERE ticket_id = ? AND name IN ({", ".join("?" * len(personal)) or "''"})
                RETURNING name
                """,
                ticket_id,
                *sorted(personal),
            )
            await tx.fetch("UPDATE ticket_slots SET heard = '' WHERE ticket_id = ?", ticket_id)
            turns = []
            if call_id is not None:
                await tx.fetch(
                    """
                    UPDATE calls SET caller_number = NULL, recording_path = NULL
                    WHERE call_id = ?
                    """,
                    call_id,
                )
                turns = await tx.fetch(
                    """
                    UPDATE turns SET text = '', slot_updates = '{}'
                    WHERE call_id = ? AND speaker IN (?, ?)
                    RETURNING seq
                    """,
                    call_id,
                    str(Speaker.CALLER),
                    str(Speaker.BOT),
                )
            events = await tx.fetch(
                "SELECT id, kind, data FROM ticket_events WHERE ticket_id = ? AND kind IN (?, ?)",
                ticket_id,
                str(EventKind.SLOT_SET),
                str(EventKind.CALL_INFO),
            )
            redacted = 0
            for event in events:
                data = _redacted(EventKind(event["kind"]), json.loads(event["data"]), personal)
                if data is not None:
                    redacted += 1
                    await tx.fetch(
                        "UPDATE ticket_events SET data = ? WHERE id = ?",
                        json.dumps(data, ensure_ascii=False),
                        event["id"],
                    )
            # Supervisors' internal notes (dashboard) may name the person too.
            notes = await tx.fetch(
                "UPDATE ticket_notes SET text = '' WHERE ticket_id = ? RETURNING id", ticket_id
            )
            summary = {
                "slots": len(removed_slots),
                "turn_texts": len(turns),
                "events_redacted": redacted,
                "notes": len(notes),
            }
            await self._add_event(
                tx, ticket_id, actor, EventKind.PURGED, {"removed": summary}, at=now
            )
        return summary

    # =====================================================================================
    # End of issue 5 section.
    # =====================================================================================

    # --- What each engine provides ---------------------------------------------------

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply schema migrations; does nothing when already open."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def _transaction(self, op: str, *, write: bool) -> AbstractAsyncContextManager[Tx]:
        """One transaction; driver errors leave it as StoreError naming ``op``."""

    @abstractmethod
    async def _execute_one(self, op: str, sql: str, *args: Any) -> None:
        """One statement in its own transaction, as cheaply as the engine allows."""

    @abstractmethod
    def _dt_in(self, moment: datetime) -> Any:
        """An aware UTC datetime as the engine stores it."""

    @abstractmethod
    def _dt_out(self, value: Any) -> datetime:
        """What the engine returned, as an aware UTC datetime."""


def _slot_data(slot: SlotValue) -> dict[str, object]:
    return {
        "name": slot.name,
        "value": slot.value,
        "source": str(slot.source),
        "confidence": slot.confidence,
        "heard": slot.heard,
    }


# --- Issue 5 helpers (retention) -----------------------------------------------------------


@dataclass(frozen=True)
class PurgeCandidate:
    ticket_id: int
    status: TicketStatus
    call_id: str | None
    recording_path: str | None  # relative to the recordings directory


def _redacted(
    kind: EventKind, data: dict[str, Any], personal_slots: set[str]
) -> dict[str, Any] | None:
    """The event's data without personal values, or None when it holds none."""
    if kind is EventKind.CALL_INFO:
        if "caller_number" not in data:
            return None
        return {**data, "caller_number": None, "purged": True}
    if kind is EventKind.SLOT_SET:
        personal = data.get("name") in personal_slots
        changed = {**data, "heard": ""}
        if personal:
            changed["value"] = ""
        old = data.get("old")
        if isinstance(old, dict):
            changed["old"] = {**old, "heard": "", **({"value": ""} if personal else {})}
        changed["purged"] = True
        return changed
    return None
