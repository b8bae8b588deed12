"""The supervisors' live view (issue 17, item 5): the calls still up, read from the store.

Every turn and slot of a call is written as it happens (sql_call_path.py), so the live view
needs no channel to the process that runs the call, which may be on another machine: it
reads the calls not yet ended with their newest turns and slots, about once a second
(callbot/web/dashboard/routes_live.py). "Hand back now" goes the other way through the
same store: ``request_handback`` records the supervisor's request (migration 0012) and the
ticket's history; one watcher per server process reads ``pending_handbacks`` for all its
calls (callbot/call/handback_watch.py) and the call's session reports the outcome with
``finish_handback``.

The caller's number leaves this module masked (``masked_number``): the live view is shown
on wall screens in the call centre, where the full number has no use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from callbot.tickets.model import Channel, EventKind, Priority, Speaker, TurnKind, utcnow
from callbot.tickets.store.base import NotFoundError
from callbot.tickets.store.sql_base import SqlStoreBase, Tx, _fetchrow

MAX_LIVE_CALLS = 200  # more than a city's bot runs at once; the page stays bounded anyway
TURNS_SHOWN = 8  # the newest turns of each call, enough to follow what is said now


def masked_number(number: str | None) -> str:
    """The last three digits only ("•••••••333"): enough to tell two callers apart on the
    screen, not enough to call anyone."""
    digits = "".join(c for c in number or "" if c.isdigit())
    if len(digits) < 6:
        return "—" if not digits else "•••"
    return "•" * (len(digits) - 3) + digits[-3:]


class HandbackState(StrEnum):
    PENDING = "pending"  # asked; the call's session has not acted on it yet
    DONE = "done"  # the call was handed back
    FAILED = "failed"  # AMI could not mark the channel; the call went on


class HandbackOutcome(StrEnum):
    REQUESTED = "requested"
    ALREADY = "already"  # pending or done before: nothing written twice
    ENDED = "ended"  # the call had ended meanwhile


@dataclass(frozen=True)
class LiveTurn:
    seq: int
    at: datetime
    speaker: str
    kind: str
    text: str


@dataclass(frozen=True)
class LiveCall:
    """One call in progress, as the live view shows it (no full number in it)."""

    call_id: str
    ticket_id: int
    started_at: datetime
    caller: str  # masked
    priority: Priority
    slots: dict[str, str]
    turns: tuple[LiveTurn, ...]  # the newest TURNS_SHOWN, oldest first
    handback: HandbackState | None
    handback_by: str | None

    @property
    def question(self) -> str | None:
        """What the bot said last: the question the caller is answering now."""
        for turn in reversed(self.turns):
            if turn.speaker == Speaker.BOT and turn.kind == TurnKind.PROMPT:
                return turn.text
        return None


class LiveMixin(SqlStoreBase):
    """Reads for the live view, and the supervisor's hand-back request."""

    async def live_calls(self, *, limit: int = MAX_LIVE_CALLS) -> list[LiveCall]:
        async with self._transaction("live_calls", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT calls.call_id, calls.started_at, calls.caller_number,
                       tickets.id AS ticket_id, tickets.priority,
                       handback_requests.status AS handback_status,
                       handback_requests.requested_by
                FROM calls
                JOIN tickets ON tickets.call_id = calls.call_id
                LEFT JOIN handback_requests ON handback_requests.call_id = calls.call_id
                WHERE calls.ended_at IS NULL AND calls.channel = ?
                ORDER BY calls.started_at, calls.call_id
                LIMIT ?
                """,
                str(Channel.VOICE),
                limit,
            )
            if not rows:
                return []
            slots = await self._slots_of(tx, [int(r["ticket_id"]) for r in rows])
            turns = await self._newest_turns(tx, [r["call_id"] for r in rows])
        return [
            LiveCall(
                call_id=r["call_id"],
                ticket_id=int(r["ticket_id"]),
                started_at=self._dt_out(r["started_at"]),
                caller=masked_number(r["caller_number"]),
                priority=Priority(p) if (p := r["priority"]) in set(Priority) else Priority.NORMAL,
                slots={n: s.value for n, s in slots.get(int(r["ticket_id"]), {}).items()},
                turns=tuple(turns.get(r["call_id"], ())),
                handback=HandbackState(h) if (h := r["handback_status"]) else None,
                handback_by=r["requested_by"],
            )
            for r in rows
        ]

    async def _newest_turns(self, tx: Tx, call_ids: list[str]) -> dict[str, list[LiveTurn]]:
        marks = ", ".join("?" * len(call_ids))
        # ROW_NUMBER: the newest few of each call in one query (SQLite ≥ 3.25 and PostgreSQL).
        rows = await tx.fetch(
            f"""
            SELECT call_id, seq, at, speaker, kind, text FROM (
                SELECT call_id, seq, at, speaker, kind, text,
                       ROW_NUMBER() OVER (PARTITION BY call_id ORDER BY seq DESC) AS newest
                FROM turns WHERE call_id IN ({marks})
            ) AS recent
            WHERE newest <= ?
            ORDER BY call_id, seq
            """,
            *call_ids,
            TURNS_SHOWN,
        )
        turns: dict[str, list[LiveTurn]] = {}
        for row in rows:
            turns.setdefault(row["call_id"], []).append(
                LiveTurn(
                    int(row["seq"]),
                    self._dt_out(row["at"]),
                    row["speaker"],
                    row["kind"],
                    row["text"],
                )
            )
        return turns

    async def request_handback(self, ticket_id: int, *, actor: str) -> HandbackOutcome:
        """Record a supervisor's "hand back now" for the call of ``ticket_id``.
        NotFoundError: no such ticket, or not a phone call."""
        now = utcnow()

        async def body(tx: Tx, _retried: bool) -> HandbackOutcome:
            # The ticket row's lock (PostgreSQL) orders two supervisors clicking at once.
            call = await _fetchrow(
                tx,
                f"""
                SELECT calls.call_id, calls.ended_at, calls.channel FROM tickets
                JOIN calls ON calls.call_id = tickets.call_id
                WHERE tickets.id = ?{self._lock_row.replace("FOR UPDATE", "FOR UPDATE OF tickets")}
                """,
                ticket_id,
            )
            if call is None or call["channel"] != str(Channel.VOICE):
                raise NotFoundError(f"no phone call for ticket {ticket_id}")
            if call["ended_at"] is not None:
                return HandbackOutcome.ENDED
            known = await _fetchrow(
                tx, "SELECT status FROM handback_requests WHERE call_id = ?", call["call_id"]
            )
            if known is not None and known["status"] != HandbackState.FAILED:
                return HandbackOutcome.ALREADY  # a retry, a double click, a second supervisor
            await tx.fetch(
                """
                INSERT INTO handback_requests (call_id, ticket_id, requested_by, requested_at,
                                               status)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (call_id) DO UPDATE
                SET requested_by = excluded.requested_by, requested_at = excluded.requested_at,
                    status = excluded.status, finished_at = NULL
                """,
                call["call_id"],
                ticket_id,
                actor,
                self._dt_in(now),
                str(HandbackState.PENDING),
            )
            data = {"call_id": call["call_id"]}
            await self._add_event(tx, ticket_id, actor, EventKind.HANDBACK_REQUESTED, data, at=now)
            return HandbackOutcome.REQUESTED

        return await self._write("request_handback", body)

    async def pending_handbacks(self) -> set[str]:
        """The calls a supervisor asked to hand back that no session has acted on yet, on
        every machine: each server process reads this once a second for all its calls
        (callbot/call/handback_watch.py), one query whatever the number of calls."""
        async with self._transaction("pending_handbacks", write=False) as tx:
            rows = await tx.fetch(
                "SELECT call_id FROM handback_requests WHERE status = ?",
                str(HandbackState.PENDING),
            )
        return {row["call_id"] for row in rows}

    async def handback_pending(self, call_id: str) -> bool:
        """One primary-key read: whether this one call's request is still pending."""
        async with self._transaction("handback_pending", write=False) as tx:
            row = await _fetchrow(
                tx,
                "SELECT 1 AS pending FROM handback_requests WHERE call_id = ? AND status = ?",
                call_id,
                str(HandbackState.PENDING),
            )
        return row is not None

    async def finish_handback(self, call_id: str, *, handed_back: bool) -> None:
        state = HandbackState.DONE if handed_back else HandbackState.FAILED

        async def body(tx: Tx, _retried: bool) -> None:
            await tx.fetch(
                """
                UPDATE handback_requests SET status = ?, finished_at = ?
                WHERE call_id = ? AND status = ?
                """,
                str(state),
                self._dt_in(utcnow()),
                call_id,
                str(HandbackState.PENDING),
            )

        await self._write("finish_handback", body)
