"""Retention: finding tickets past their keeping period and purging their personal data.

Issue 5 (callbot/tickets/retention.py drives these queries; docs/tickets.md). Purging keeps
the anonymous figures and removes what identifies the person, including the personal values
inside history events; ``PurgeCandidate`` and ``_redacted`` serve only this.

Issue 14 item 4 (callbot/recordings_archive.py drives these): finished calls' WAV recordings
compressed to FLAC for the archive — ``recordings_to_compress`` selects them and
``set_recording_path`` / ``set_call_recording_path`` move the stored path, ticket first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from callbot.tickets.model import EventKind, Speaker, TicketStatus, utcnow
from callbot.tickets.store.base import NotFoundError
from callbot.tickets.store.sql_base import SqlStoreBase, Tx, _fetchrow, to_utc
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

    # --- Issue 14 item 4: the archive's FLAC recordings --------------------------------

    async def recordings_to_compress(
        self, ended_before: datetime, *, after_id: int = 0, limit: int
    ) -> list[RecordingCandidate]:
        """Unpurged tickets whose call ended before ``ended_before`` and whose call still
        names a ``.wav``: never a call still up, so never a recording still being written.

        The call's path moves last (once the WAV is deleted), so a ticket already pointing
        at its FLAC but whose call still names the WAV is a move a crash interrupted: it is
        selected again, and the rerun finishes it."""
        async with self._transaction("recordings_to_compress", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT t.id, t.call_id, t.recording_path AS ticket_path,
                       c.recording_path AS call_path
                FROM tickets t JOIN calls c ON c.call_id = t.call_id
                WHERE t.purged_at IS NULL AND t.id > ?
                  AND c.ended_at IS NOT NULL AND c.ended_at < ?
                  AND c.recording_path LIKE '%.wav'
                ORDER BY t.id
                LIMIT ?
                """,
                after_id,
                self._dt_in(to_utc(ended_before)),
                limit,
            )
        return [
            RecordingCandidate(int(r["id"]), r["call_id"], r["ticket_path"], r["call_path"])
            for r in rows
        ]

    async def set_recording_path(
        self, ticket_id: int, path: str, *, actor: str, expected: str | None = None
    ) -> bool:
        """Point the ticket at ``path`` (relative to the recordings directory), with a
        ``call_info`` event that names the format, never the path. Only while the ticket
        still points at ``expected`` (when given) or already at ``path`` (a rerun: no second
        event); False otherwise — purged meanwhile, or changed by someone else."""
        now = utcnow()

        async def body(tx: Tx, _retried: bool) -> bool:
            row = await _fetchrow(
                tx,
                f"SELECT recording_path, purged_at FROM tickets WHERE id = ?{self._lock_row}",
                ticket_id,
            )
            if row is None:
                raise NotFoundError(f"no ticket {ticket_id} in the ticket store")
            current = row["recording_path"]
            if row["purged_at"] is not None:
                return False
            if current == path:
                return True
            if expected is not None and current != expected:
                return False
            await tx.fetch("UPDATE tickets SET recording_path = ? WHERE id = ?", path, ticket_id)
            data = {"recording_format": PurePosixPath(path).suffix.lstrip(".") or None}
            await self._add_event(tx, ticket_id, actor, EventKind.RECORDING_ARCHIVED, data, at=now)
            return True

        return await self._write("set_recording_path", body)

    async def set_call_recording_path(self, call_id: str, path: str, *, expected: str) -> None:
        """The call's own copy of the path, moved once the old file is gone (the last step
        of a move: see ``recordings_to_compress``)."""
        await self._write_one(
            "set_call_recording_path",
            "UPDATE calls SET recording_path = ? WHERE call_id = ? AND recording_path = ?",
            path,
            call_id,
            expected,
        )


# --- Issue 14 item 4 helpers (the archive) -------------------------------------------------


@dataclass(frozen=True)
class RecordingCandidate:
    ticket_id: int
    call_id: str
    ticket_path: str | None  # what the dashboard serves, relative to the recordings directory
    call_path: str  # what the call wrote; moved last


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
