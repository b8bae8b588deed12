"""The call path: what the telephony side writes during a call, and the leases that let
any live process close the calls of a dead one.

``begin_call``, ``set_call_info``, ``append_turn``, ``set_slot``, ``end_call``: each one is
safe to retry (on a fresh connection, after a cut: ``SqlStoreBase._write``) and to replay
from a call's journal (callbot.tickets.journal): turn numbers and slot versions are keys,
``ON CONFLICT`` makes a repeat a no-op, and a write whose answer was lost is read back
instead of written twice. Leases (migration 0007): ``renew_lease`` every few seconds per
process, ``end_orphaned_calls`` by every live process (callbot.tickets.leases).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from datetime import datetime

from callbot.tickets.model import (
    SLOT_TICKET_FIELDS,
    CallEndReason,
    CallRecord,
    EventKind,
    SlotValue,
    Ticket,
    TicketStatus,
    Turn,
    utcnow,
)
from callbot.tickets.store.base import DuplicateCallError, StoreError
from callbot.tickets.store.sql_base import (
    BOT_ACTOR,
    ConstraintError,
    Row,
    SqlStoreBase,
    Tx,
    _fetchrow,
    _slot_data,
    to_utc,
)

log = logging.getLogger(__name__)

RECOVERY_ACTOR = "recovery"

# A supervisor's correction (set_slot without a version) outranks every write of the call.
MANUAL_VERSION = 1 << 40


class CallPathMixin(SqlStoreBase):
    """The writes of a live call, and the recovery of calls whose process died."""

    async def begin_call(self, call: CallRecord, *, owner: str | None = None) -> Ticket:
        started = to_utc(call.started_at)
        now = utcnow()

        async def body(tx: Tx, retried: bool) -> Ticket:
            created = await tx.fetch(
                """
                INSERT INTO calls (call_id, channel, started_at, caller_number, channel_name,
                                   recording_path, owner_id)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (call_id) DO NOTHING
                RETURNING call_id
                """,
                call.call_id,
                str(call.channel),
                self._dt_in(started),
                call.caller_number,
                call.channel_name,
                call.recording_path,
                owner,
            )
            if not created:
                return await self._begun_before(tx, call, owner, retried=retried)
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
            return ticket

        ticket = await self._write("begin_call", body)
        log.info("ticket %d opened for call %s", ticket.id, call.call_id)
        return ticket

    async def _begun_before(
        self, tx: Tx, call: CallRecord, owner: str | None, *, retried: bool
    ) -> Ticket:
        """The call id is taken. After a lost answer it may be our own commit: the same
        start and owner; otherwise an earlier call used this UUID."""
        row = await _fetchrow(
            tx, "SELECT started_at, owner_id FROM calls WHERE call_id = ?", call.call_id
        )
        assert row is not None
        ours = row["started_at"] == self._dt_in(to_utc(call.started_at))
        if retried and ours and row["owner_id"] == owner:
            return await self._reload(tx, await self._ticket_id_for_call(tx, call.call_id))
        raise DuplicateCallError(
            f"begin_call: call id {call.call_id} was already used by an earlier call; an "
            "AudioSocket UUID names one call, so the dialplan must make a new one per attempt"
        )

    async def set_call_info(
        self, call_id: str, *, caller_number: str | None, channel_name: str | None
    ) -> None:
        # A None leaves what is known: the two facts may arrive from different AMI events.
        now = utcnow()

        async def body(tx: Tx, _retried: bool) -> None:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            known = await _fetchrow(
                tx, "SELECT caller_number, channel_name FROM calls WHERE call_id = ?", call_id
            )
            learnt = {"caller_number": caller_number, "channel_name": channel_name}
            data = {k: v for k, v in learnt.items() if v is not None and known and known[k] != v}
            if not data:
                return  # nothing new (or a retried write that had committed)
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
            await self._add_event(tx, ticket_id, BOT_ACTOR, EventKind.CALL_INFO, data, at=now)

        await self._write("set_call_info", body)

    async def append_turn(self, turn: Turn) -> None:
        # One statement, no read first: this is the hot path (every utterance and prompt).
        # ON CONFLICT: a retry after a lost answer, or a replay, writes nothing twice.
        text = turn.text
        try:
            stored = await self._write_one(
                "append_turn",
                """
                INSERT INTO turns (call_id, seq, at, speaker, kind, text, confidence,
                                   start_ms, end_ms, slot_updates)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (call_id, seq) DO NOTHING
                RETURNING seq
                """,
                turn.call_id,
                turn.seq,
                self._dt_in(to_utc(turn.at)),
                str(turn.speaker),
                str(turn.kind),
                text,
                turn.confidence,
                turn.start_ms,
                turn.end_ms,
                json.dumps(turn.slot_updates, ensure_ascii=False),
            )
        except ConstraintError as error:
            # Only a reference can fail now: find out whether the call is unknown.
            async with self._transaction("append_turn", write=False) as tx:
                await self._ticket_id_for_call(tx, turn.call_id)
            raise StoreError(f"append_turn: turn {turn.seq} of {turn.call_id}: {error}") from error
        if stored:
            return

        async def stored_turn(tx: Tx, _retried: bool) -> Row | None:
            return await _fetchrow(
                tx,
                "SELECT speaker, kind, text FROM turns WHERE call_id = ? AND seq = ?",
                turn.call_id,
                turn.seq,
            )

        # Read back as retried as the insert was: a connection cut here (a failover right
        # after the conflict) must not fail a turn that is in fact stored.
        row = await self._write("append_turn", stored_turn, write=False)
        if row is None or (row["speaker"], row["kind"], row["text"]) != (
            str(turn.speaker),
            str(turn.kind),
            text,
        ):
            raise StoreError(
                f"append_turn: turn {turn.seq} of call {turn.call_id} is already stored"
            )

    async def set_slot(
        self,
        call_id: str,
        slot: SlotValue,
        *,
        actor: str = BOT_ACTOR,
        version: int | None = None,
    ) -> None:
        now = utcnow()

        async def body(tx: Tx, _retried: bool) -> None:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            old = await _fetchrow(
                tx,
                """
                SELECT value, source, confidence, heard, version
                FROM ticket_slots WHERE ticket_id = ? AND name = ?
                """,
                ticket_id,
                slot.name,
            )
            stored_version = int(old["version"]) if old is not None else 0
            wanted = version if version is not None else max(stored_version + 1, MANUAL_VERSION)
            # The WHERE makes a write that is not newer (a retry whose commit had happened,
            # a replay) a no-op, even against a concurrent writer of the same slot.
            changed = await tx.fetch(
                """
                INSERT INTO ticket_slots (ticket_id, name, value, source, confidence, heard,
                                          set_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (ticket_id, name) DO UPDATE
                SET value = excluded.value, source = excluded.source,
                    confidence = excluded.confidence, heard = excluded.heard,
                    set_at = excluded.set_at, version = excluded.version
                WHERE ticket_slots.version < excluded.version
                RETURNING name
                """,
                ticket_id,
                slot.name,
                slot.value,
                str(slot.source),
                slot.confidence,
                slot.heard,
                self._dt_in(now),
                wanted,
            )
            if not changed:
                return
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
            was = {k: old[k] for k in ("value", "source", "confidence", "heard")} if old else None
            data = {**_slot_data(slot), "old": was}
            await self._add_event(tx, ticket_id, actor, EventKind.SLOT_SET, data, at=now)

        await self._write("set_slot", body)

    async def end_call(
        self, call_id: str, *, ended_at: datetime, reason: CallEndReason, complete: bool
    ) -> Ticket:
        async def body(tx: Tx, _retried: bool) -> Ticket:
            ticket_id = await self._ticket_id_for_call(tx, call_id)
            return await self._end(tx, call_id, ticket_id, to_utc(ended_at), reason, complete)

        ticket = await self._write("end_call", body)
        log.info(
            "call %s ended (%s); ticket %d %s",
            call_id,
            reason,
            ticket.id,
            "complete" if ticket.complete else "incomplete, queued for callback",
        )
        return ticket

    # --- Calls a dead process left open ---------------------------------------------

    async def end_stale_calls(self, started_before: datetime) -> list[int]:
        async def body(tx: Tx, _retried: bool) -> list[int]:
            rows = await tx.fetch(
                """
                SELECT calls.call_id, tickets.id
                FROM calls JOIN tickets ON tickets.call_id = calls.call_id
                WHERE calls.ended_at IS NULL AND calls.started_at < ?
                  -- a text conversation pauses for hours and outlives its process
                  -- (callbot.channels ends the idle ones itself)
                  AND NOT EXISTS (SELECT 1 FROM conversations
                                  WHERE conversations.call_id = calls.call_id)
                ORDER BY tickets.id
                """,
                self._dt_in(to_utc(started_before)),
            )
            return await self._recover(tx, rows)

        ticket_ids = await self._write("end_stale_calls", body)
        if ticket_ids:
            log.warning("ended %d calls left open by a dead process", len(ticket_ids))
        return ticket_ids

    async def renew_lease(self, owner: str, *, host: str, at: datetime) -> None:
        async def body(tx: Tx, _retried: bool) -> None:
            await tx.fetch(
                """
                INSERT INTO call_owners (owner_id, host, started_at, heartbeat_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (owner_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
                """,
                owner,
                host,
                self._dt_in(to_utc(at)),
                self._dt_in(to_utc(at)),
            )

        await self._write("renew_lease", body)

    async def release_lease(self, owner: str) -> None:
        async def body(tx: Tx, _retried: bool) -> None:
            await tx.fetch("DELETE FROM call_owners WHERE owner_id = ?", owner)

        await self._write("release_lease", body)

    async def end_orphaned_calls(
        self, owner: str, *, expired_before: datetime, running: Collection[str]
    ) -> list[int]:
        expired = self._dt_in(to_utc(expired_before))

        async def body(tx: Tx, _retried: bool) -> list[int]:
            # An owner with no row released its lease (its calls had ended) or was found
            # dead before; one whose heartbeat is older than the cutoff died since.
            rows = await tx.fetch(
                """
                SELECT calls.call_id, tickets.id, calls.owner_id
                FROM calls
                JOIN tickets ON tickets.call_id = calls.call_id
                LEFT JOIN call_owners ON call_owners.owner_id = calls.owner_id
                WHERE calls.ended_at IS NULL AND calls.owner_id IS NOT NULL
                  AND (calls.owner_id = ?
                       OR call_owners.owner_id IS NULL OR call_owners.heartbeat_at < ?)
                ORDER BY tickets.id
                """,
                owner,
                expired,
            )
            # Our own calls are ours to judge: only those no session of ours runs.
            orphans = [r for r in rows if r["owner_id"] != owner or r["call_id"] not in running]
            await tx.fetch("DELETE FROM call_owners WHERE heartbeat_at < ?", expired)
            return await self._recover(tx, orphans)

        ticket_ids = await self._write("end_orphaned_calls", body)
        if ticket_ids:
            log.warning("ended %d calls whose process died or lost them", len(ticket_ids))
        return ticket_ids

    async def _recover(self, tx: Tx, rows: Collection[Row]) -> list[int]:
        now = utcnow()
        ended = []
        for row in rows:
            ticket = await self._end(
                tx,
                row["call_id"],
                row["id"],
                now,
                CallEndReason.SERVER_ERROR,
                False,
                actor=RECOVERY_ACTOR,
            )
            if ticket.end_reason is CallEndReason.SERVER_ERROR and ticket.needs_callback:
                ended.append(ticket.id)
        return ended
