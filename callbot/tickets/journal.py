"""A call's journal: the store writes that failed, kept on disk until the store takes them.

When a write of a live call fails (disk full, database down), the session appends it to
the call's journal, ``<spool>/<call id>.journal``: one JSON line per write, appended and
fsync'd before the call goes on, so what the caller said survives the store, a crash and a
restart. The journal is replayed into the store when it is back: by the session (before
the goodbye and at the end of the call) and by ``replay_spool``, every few seconds and at
start-up, for calls that ended or whose process died. Replaying is idempotent (turn
numbers and slot versions are keys in the store), so a write replayed twice, or replayed
after it did reach the store, changes nothing. A journal that cannot be written either
raises JournalError: the session then tells the caller and hands the call back.

A live call holds an exclusive ``flock`` on its journal, so ``replay_spool`` (in this or
another process sharing the spool) leaves it to its session. Journals hold what callers
said: files are 0600 and removed once replayed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from callbot.tickets.model import (
    CallEndReason,
    SlotSource,
    SlotValue,
    Speaker,
    Ticket,
    Turn,
    TurnKind,
)
from callbot.tickets.store.base import NotFoundError, StoreError, TicketStore

log = logging.getLogger(__name__)

SUFFIX = ".journal"
# A journal the store refuses for good (its call is unknown): set aside, never deleted.
REFUSED_SUFFIX = ".refused"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

Entry = dict[str, Any]


class JournalError(Exception):
    """The journal itself could not be written (disk full, read-only, no spool)."""


def spool_directory(spool_dir: str, recordings_dir: str) -> Path:
    """``[store] spool_dir``, or ``spool`` beside the recordings folder when it is empty."""
    return Path(spool_dir) if spool_dir else Path(recordings_dir).parent / "spool"


# ── entries: one per store write ──────────────────────────────────────────────────────────


def turn_entry(turn: Turn) -> Entry:
    return {
        "op": "turn",
        "call_id": turn.call_id,
        "seq": turn.seq,
        "at": turn.at.isoformat(),
        "speaker": str(turn.speaker),
        "kind": str(turn.kind),
        "text": turn.text,
        "confidence": turn.confidence,
        "start_ms": turn.start_ms,
        "end_ms": turn.end_ms,
        "slot_updates": turn.slot_updates,
    }


def slot_entry(call_id: str, slot: SlotValue, version: int) -> Entry:
    return {
        "op": "slot",
        "call_id": call_id,
        "version": version,
        "name": slot.name,
        "value": slot.value,
        "source": str(slot.source),
        "confidence": slot.confidence,
        "heard": slot.heard,
    }


def call_info_entry(call_id: str, caller_number: str | None, channel_name: str | None) -> Entry:
    return {
        "op": "call_info",
        "call_id": call_id,
        "caller_number": caller_number,
        "channel_name": channel_name,
    }


def end_entry(call_id: str, ended_at: datetime, reason: CallEndReason, complete: bool) -> Entry:
    return {
        "op": "end",
        "call_id": call_id,
        "ended_at": ended_at.isoformat(),
        "reason": str(reason),
        "complete": complete,
    }


async def apply_entry(store: TicketStore, entry: Entry) -> Ticket | None:
    """Write one entry to the store (idempotently); the ticket when it ended the call."""
    call_id = entry["call_id"]
    match entry["op"]:
        case "turn":
            turn = Turn(
                call_id,
                entry["seq"],
                datetime.fromisoformat(entry["at"]),
                Speaker(entry["speaker"]),
                TurnKind(entry["kind"]),
                entry["text"],
                entry["confidence"],
                entry["start_ms"],
                entry["end_ms"],
                entry["slot_updates"],
            )
            await store.append_turn(turn)
        case "slot":
            slot = SlotValue(
                entry["name"],
                entry["value"],
                SlotSource(entry["source"]),
                entry["confidence"],
                entry["heard"],
            )
            await store.set_slot(call_id, slot, version=entry["version"])
        case "call_info":
            await store.set_call_info(
                call_id, caller_number=entry["caller_number"], channel_name=entry["channel_name"]
            )
        case "end":
            return await store.end_call(
                call_id,
                ended_at=datetime.fromisoformat(entry["ended_at"]),
                reason=CallEndReason(entry["reason"]),
                complete=entry["complete"],
            )
        case other:
            raise ValueError(f"unknown journal entry {other!r}")
    return None


# ── one live call's journal ───────────────────────────────────────────────────────────────


class CallJournal:
    """The journal of one live call; the file is made on the first failed write."""

    def __init__(self, spool_dir: Path, call_id: str) -> None:
        if not _SAFE_ID.match(call_id):
            raise ValueError(f"call id not usable as a file name: {call_id!r}")
        self.path = spool_dir / f"{call_id}{SUFFIX}"
        self.pending: list[Entry] = []  # written here, not (known to be) in the store yet
        self._fd: int | None = None

    def append(self, entry: Entry) -> None:
        """Append and fsync one entry; JournalError when the disk refuses it."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        try:
            fd = self._open()
            size = os.fstat(fd).st_size
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                # Take back half a line, so the next append starts on a line of its own.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        except OSError as error:
            raise JournalError(f"cannot write the journal {self.path.name}: {error}") from error
        self.pending.append(entry)

    async def flush(self, store: TicketStore) -> bool:
        """Replay what is pending into the store; True when the store has all of it."""
        while self.pending:
            try:
                await apply_entry(store, self.pending[0])
            except StoreError as error:
                log.warning("journal %s: store still refuses it: %s", self.path.name, error)
                return False
            self.pending.pop(0)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)  # all in the store: nothing left to replay
        return True

    def close(self) -> None:
        """Release the file: removed when nothing is pending, else left for replay_spool."""
        if self._fd is None:
            return
        if not self.pending:
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)  # also drops the lock
        self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file: nobody else holds it
            fsync_dir(self.path.parent)  # so the file itself survives a power cut
            self._fd = fd
        return self._fd


def fsync_dir(directory: Path) -> None:
    """Make a file's creation, rename or removal in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ── replaying the spool ───────────────────────────────────────────────────────────────────


def _entries(path: Path, data: bytes) -> list[Entry]:
    entries = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entries.append(json.loads(raw))
        except ValueError:
            # Only a last line cut short by a crash can be bad; it was never acknowledged.
            log.warning("journal %s: line %d unreadable, skipped", path.name, number)
    return entries


async def replay_spool(
    store: TicketStore,
    spool_dir: Path,
    after_call: Callable[[Ticket], Awaitable[object]] | None = None,
) -> int:
    """Replay every journal no live call holds; returns how many were fully replayed.

    Stops at the first store failure (it is still down: the rest waits for the next try).
    """
    if not spool_dir.is_dir():
        return 0
    done = 0
    for path in sorted(spool_dir.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # its session replayed and removed it meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live call's: its session replays it
            with open(fd, "rb", closefd=False) as file:
                entries = _entries(path, file.read())
            ended: list[Ticket] = []
            try:
                for entry in entries:
                    ticket = await apply_entry(store, entry)
                    if ticket is not None:
                        ended.append(ticket)
            except (NotFoundError, KeyError, ValueError, TypeError) as error:
                # Its call is unknown to this store, or an entry is malformed: never lost,
                # never retried forever either; a person can look at it.
                log.error("journal %s refused (%r); kept as %s", path.name, error, REFUSED_SUFFIX)
                path.rename(path.with_suffix(REFUSED_SUFFIX))
                continue
            except StoreError as error:
                log.warning("journal replay waits for the store: %s", error)
                return done
            path.unlink()
            done += 1
            log.info("journal %s replayed: %d writes", path.name, len(entries))
        finally:
            os.close(fd)
        for ticket in ended:
            if after_call is not None:
                await after_call(ticket)
    return done
