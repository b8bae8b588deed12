"""Retention: finding tickets past their keeping period and purging their personal data.

Issue 5 (callbot/tickets/retention.py drives these queries; docs/tickets.md). Purging keeps
the anonymous figures and removes what identifies the person, including the personal values
inside history events; ``PurgeCandidate`` and ``_redacted`` serve only this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbot.tickets.model import EventKind, Speaker, TicketStatus, utcnow
from callbot.tickets.store.base import NotFoundError
from callbot.tickets.store.sql_base import SqlStoreBase, _fetchrow, to_utc
from callbot.tickets.store.sql_notify import purge_notifications


class RetentionMixin(SqlStoreBase):
    """Retention candidates and the purge of one ticket's personal data."""

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
            messages = await purge_notifications(self, tx, ticket_id)  # issue 18
            summary = {
                "notifications": messages,
                "slots": len(removed_slots),
                "turn_texts": len(turns),
                "events_redacted": redacted,
                "notes": len(notes),
            }
            await self._add_event(
                tx, ticket_id, actor, EventKind.PURGED, {"removed": summary}, at=now
            )
        return summary


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
