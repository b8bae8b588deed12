"""The engine-facing base of the SQL ticket store, which every query mixin builds on.

``SqlStoreBase`` declares the few abstract methods each engine implements (``open``,
``close``, ``_transaction``, ``_execute_one``, ``_dt_in``, ``_dt_out``: see sqlite.py and
postgres.py), so the dialect differences of SQLite and PostgreSQL stay in that one place. It
also holds what the mixins share: the row and transaction types, ``to_utc``, and the private
helpers that write history events, end a call, and read a ticket back with its slots. The
SQL is written once with ``?`` placeholders (PostgreSQL's adapter turns them into
``$1, $2…``), so both stores behave the same by construction and one test suite covers both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, Self, TypeVar

from callbot.tickets.model import (
    CallEndReason,
    Channel,
    EventKind,
    Priority,
    SlotSource,
    SlotValue,
    Ticket,
    TicketStatus,
    utcnow,
)
from callbot.tickets.store.base import (
    NotFoundError,
    StoreError,
    TicketFilter,
    TransientStoreError,
)

log = logging.getLogger(__name__)
_PRIORITIES = frozenset(Priority)
_CHANNELS = frozenset(Channel)
_unknown_channels_seen: set[str] = set()


def _channel(stored: str) -> Channel:
    """A stored channel as the enum; an unknown one (written by a newer version, a rolled-back
    deploy or a hand edit) is kept as its raw text rather than failing the row, so the
    dashboard's list and ticket pages still answer (labels.channel shows it as "Kênh khác
    (…)") and nothing is rewritten. Logged once per value: it is a code, nothing personal."""
    if stored in _CHANNELS:
        return Channel(stored)
    if stored not in _unknown_channels_seen:
        _unknown_channels_seen.add(stored)
        log.warning("ticket store: unknown channel %r read as it is", stored[:40])
    return stored  # type: ignore[return-value]  # a str, as Channel's own values are


Row = Mapping[str, Any]
T = TypeVar("T")

BOT_ACTOR = "callbot"

# Waits before each retry of a call-path write whose connection was cut (about 6 s in all,
# so a PostgreSQL failover or a restarted server is ridden out; longer and the caller waits
# in silence: the session's journal takes over then).
RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.0)


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


def _slot_data(slot: SlotValue) -> dict[str, object]:
    return {
        "name": slot.name,
        "value": slot.value,
        "source": str(slot.source),
        "confidence": slot.confidence,
        "heard": slot.heard,
    }


class SqlStoreBase(ABC):
    """The engine adapter's interface and the helpers shared by the query mixins."""

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

    # --- Helpers shared by the query mixins ------------------------------------------

    async def _write(
        self, op: str, body: Callable[[Tx, bool], Awaitable[T]], *, write: bool = True
    ) -> T:
        """Run ``body`` in a transaction, again on a fresh connection with backoff when the
        connection was lost. ``body`` is told whether this is a retry: the commit of the
        attempt before may have happened (the answer was lost), so a retried body reads
        back what it finds instead of writing it twice. ``write=False``: a read."""
        for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
            try:
                async with self._transaction(op, write=write) as tx:
                    return await body(tx, attempt > 0)
            except TransientStoreError as error:
                if delay is None:
                    raise
                log.warning("%s: %s; retry %d in %.2f s", op, error, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _write_one(self, op: str, sql: str, *args: Any) -> Sequence[Row]:
        """One idempotent statement (``ON CONFLICT``), retried as ``_write`` does."""
        for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
            try:
                return await self._execute_one(op, sql, *args)
            except TransientStoreError as error:
                if delay is None:
                    raise
                log.warning("%s: %s; retry %d in %.2f s", op, error, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

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
        # incomplete ticket goes to the callback queue instead. A call already ended (a
        # retried or replayed end, two processes closing a dead one's calls) is left as
        # it is: the row lock makes the second UPDATE see the first's ended_at.
        ended = await tx.fetch(
            """
            UPDATE calls SET ended_at = ?, end_reason = ?
            WHERE call_id = ? AND ended_at IS NULL
            RETURNING call_id
            """,
            self._dt_in(ended_at),
            str(reason),
            call_id,
        )
        if not ended:
            return await self._reload(tx, ticket_id)
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
            channel=_channel(row["channel"]),
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
            # An unknown value (a hand edit) reads as normal rather than failing the row.
            priority=Priority(p) if (p := row["priority"]) in _PRIORITIES else Priority.NORMAL,
            notify_consent=None if (c := row["notify_consent"]) is None else bool(c),  # issue 18
            notify_channel=row["notify_channel"],
            case_id=None if (case := row["case_id"]) is None else int(case),  # issue 18 item 3
        )

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
    async def _execute_one(self, op: str, sql: str, *args: Any) -> Sequence[Row]:
        """One statement in its own transaction, as cheaply as the engine allows; its rows."""

    @abstractmethod
    def _dt_in(self, moment: datetime) -> Any:
        """An aware UTC datetime as the engine stores it."""

    @abstractmethod
    def _dt_out(self, value: Any) -> datetime:
        """What the engine returned, as an aware UTC datetime."""
