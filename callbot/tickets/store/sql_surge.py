"""Surge mode's switch and its change log in the store (migration 0013), and the figures
the callback estimate reads: the dashboard writes the supervisor's switch, the call
server reads it at new calls and records every change, so both sides see one history
whichever process they run in. Nothing here is about a caller: logins, counts, reasons.

A wrapper over the store (as the dashboard's accounts are), so the assembled
``SqlTicketStore`` needs no new mixin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callbot.tickets.model import TicketStatus, utcnow
from callbot.tickets.store.sql_base import SqlStoreBase

SWITCH_NAME = "surge"
SWITCH_VALUES = ("auto", "on", "off")
KIND_SWITCH = "switch"  # a supervisor set the switch (whether or not the state changed)
KIND_STATE = "state"  # surge mode went on or off (the rule or the switch)
# Tickets still waiting for a person (the callback backlog), by status.
_OPEN = (TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS)


@dataclass(frozen=True)
class StoredSwitch:
    value: str  # auto / on / off
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class StoredChange:
    at: datetime
    kind: str
    on: bool | None  # None: a switch setting that changed no state
    reason: str
    calls: int | None


class SurgeStore:
    """Surge mode's rows in a SQL ticket store (SQLite or PostgreSQL alike)."""

    def __init__(self, store: SqlStoreBase) -> None:
        self._store = store

    async def switch(self) -> StoredSwitch | None:
        rows = await self._store._execute_one(
            "surge_switch",
            "SELECT value, set_by, set_at FROM surge_switch WHERE name = ?",
            SWITCH_NAME,
        )
        if not rows:
            return None
        row = rows[0]
        value = row["value"] if row["value"] in SWITCH_VALUES else "auto"
        return StoredSwitch(value, row["set_by"], self._store._dt_out(row["set_at"]))

    async def set_switch(self, value: str, login: str, *, at: datetime | None = None) -> None:
        """The supervisor's switch, and its entry in the change log, in one transaction."""
        if value not in SWITCH_VALUES:
            raise ValueError(f"surge switch must be one of {SWITCH_VALUES}")
        now = self._store._dt_in(at or utcnow())
        async with self._store._transaction("set_surge_switch", write=True) as tx:
            await tx.fetch(
                """
                INSERT INTO surge_switch (name, value, set_by, set_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE
                SET value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at
                """,
                SWITCH_NAME,
                value,
                login,
                now,
            )
            await tx.fetch(
                "INSERT INTO surge_changes (at, kind, surge_on, reason, calls) "
                "VALUES (?, ?, ?, ?, ?)",
                now,
                KIND_SWITCH,
                None,
                f"supervisor {login}: {value}",
                None,
            )

    async def record_change(self, on: bool, reason: str, calls: int, at: datetime) -> None:
        await self._store._write_one(
            "record_surge_change",
            "INSERT INTO surge_changes (at, kind, surge_on, reason, calls) VALUES (?, ?, ?, ?, ?)",
            self._store._dt_in(at),
            KIND_STATE,
            on,
            reason,
            calls,
        )

    async def changes(self, limit: int = 50) -> list[StoredChange]:
        """The latest changes, newest first."""
        rows = await self._store._execute_one(
            "surge_changes",
            "SELECT at, kind, surge_on, reason, calls FROM surge_changes "
            "ORDER BY at DESC, id DESC LIMIT ?",
            limit,
        )
        return [
            StoredChange(
                self._store._dt_out(r["at"]),
                r["kind"],
                None if r["surge_on"] is None else bool(r["surge_on"]),
                r["reason"],
                r["calls"],
            )
            for r in rows
        ]

    async def callback_backlog(self) -> int:
        """Tickets a person must still call back: in the callback queue, not yet done."""
        marks = ", ".join("?" * len(_OPEN))
        rows = await self._store._execute_one(
            "callback_backlog",
            f"SELECT COUNT(*) AS n FROM tickets WHERE needs_callback = ? AND status IN ({marks})",
            True,
            *[str(s) for s in _OPEN],
        )
        return int(rows[0]["n"]) if rows else 0

    async def mark_for_callback(self, ticket_id: int) -> None:
        """A surge ticket holds only place and number: a person calls every one back."""
        await self._store._write_one(
            "surge_mark_for_callback",
            "UPDATE tickets SET needs_callback = ? WHERE id = ?",
            True,
            ticket_id,
        )
