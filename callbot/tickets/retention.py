"""Purge recordings and personal data from tickets past their retention period.

A ticket keeps its personal data — caller and callback numbers, name, street address,
free-text description, the text of every caller and bot turn, the recording — for a period
after its last change that depends on its status (``[retention] periods``, e.g.
``closed=90``; ``default_days`` for the rest). Then the recording (WAV, or FLAC once
archived) is deleted and the ticket is anonymised in one transaction, leaving the figures
statistics need: case type, admin unit, agency, dates, status, completeness, end reason,
the number and timing of turns. The purge is a ``purged`` event in the ticket's history.
`callbot serve` runs it every ``interval_s``; ``callbot retention purge [--dry-run]`` runs
it once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from callbot.config import ConfigError, Settings
from callbot.tickets.model import TicketStatus, utcnow
from callbot.tickets.service_requests import PERSONAL_SLOTS
from callbot.tickets.store.base import StoreError
from callbot.tickets.store.sql_store import PurgeCandidate, SqlTicketStore

log = logging.getLogger(__name__)

RETENTION_ACTOR = "retention"
BATCH = 200


@dataclass(frozen=True)
class RetentionPolicy:
    periods: dict[TicketStatus, int] = field(default_factory=dict)  # days per status
    default_days: int = 365

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        periods: dict[TicketStatus, int] = {}
        for entry in settings.retention.periods:
            status, _, days = entry.partition("=")
            try:
                periods[TicketStatus(status.strip())] = int(days)
            except ValueError:
                raise ConfigError(
                    f"retention.periods: {entry!r} is not STATUS=DAYS with a ticket status"
                ) from None
        if any(days < 0 for days in periods.values()) or settings.retention.default_days < 0:
            raise ConfigError("retention periods must not be negative")
        return cls(periods, settings.retention.default_days)

    def cutoffs(self, now: datetime) -> tuple[dict[TicketStatus, datetime], datetime]:
        per_status = {s: now - timedelta(days=d) for s, d in self.periods.items()}
        return per_status, now - timedelta(days=self.default_days)


@dataclass
class PurgeReport:
    tickets: list[int] = field(default_factory=list)
    recordings_deleted: int = 0
    recording_bytes: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"{verb} {len(self.tickets)} tickets, {self.recordings_deleted} recordings "
            f"({self.recording_bytes / 1e6:.1f} MB)"
        )


def _recording_file(recordings_dir: Path | None, relative: str | None) -> Path | None:
    if recordings_dir is None or not relative:
        return None
    base = recordings_dir.resolve()
    path = (base / relative).resolve()
    # A path from the database never reaches outside the recordings folder.
    return path if path.is_relative_to(base) else None


def _with_archive_leftovers(recording: Path) -> list[Path]:
    if recording.suffix not in (".wav", ".flac"):
        return [recording]
    flac = recording.with_suffix(".flac")
    siblings = [recording.with_suffix(".wav"), flac, flac.with_name(flac.name + ".tmp")]
    return [recording, *(path for path in siblings if path != recording)]


async def purge(
    store: SqlTicketStore,
    policy: RetentionPolicy,
    *,
    recordings_dir: Path | None,
    dry_run: bool = False,
    now: datetime | None = None,
    limit: int = 100_000,
) -> PurgeReport:
    """Purge every ticket past its period (up to ``limit``); ``dry_run`` only counts."""
    per_status, default_cutoff = policy.cutoffs(now or utcnow())
    report = PurgeReport(dry_run=dry_run)
    while len(report.tickets) < limit:
        batch = min(BATCH, limit - len(report.tickets))
        if dry_run:  # nothing changes, so one query for everything asked
            batch = limit
        candidates = await store.retention_candidates(per_status, default_cutoff, limit=batch)
        for candidate in candidates:
            await _purge_one(store, candidate, recordings_dir, report)
        if dry_run or len(candidates) < batch:
            break
    if report.tickets:
        log.info("retention: %s", report.summary())
    return report


async def _purge_one(
    store: SqlTicketStore,
    candidate: PurgeCandidate,
    recordings_dir: Path | None,
    report: PurgeReport,
) -> None:
    recording = _recording_file(recordings_dir, candidate.recording_path)
    # A .wav or, once archived, a .flac (callbot/recordings_archive.py); with it whatever a
    # cut compression left beside it: the WAV it came from, a FLAC or its temporary file.
    files = [] if recording is None else _with_archive_leftovers(recording)
    if any(path.exists() for path in files):
        report.recordings_deleted += 1
    for path in files:
        if not path.exists():
            continue
        report.recording_bytes += path.stat().st_size
        if not report.dry_run:
            # The file first: a crash between the two leaves a ticket the next run purges
            # (the file is already gone), never a recording nothing points to any more.
            path.unlink(missing_ok=True)
    if not report.dry_run:
        await store.purge_personal_data(
            candidate.ticket_id, personal_slots=PERSONAL_SLOTS, actor=RETENTION_ACTOR
        )
    report.tickets.append(candidate.ticket_id)


class RetentionJob:
    """The purge, run now and then in the server's event loop."""

    def __init__(
        self,
        store: SqlTicketStore,
        policy: RetentionPolicy,
        *,
        recordings_dir: Path | None,
        interval_s: float,
    ) -> None:
        self.store = store
        self.policy = policy
        self.recordings_dir = recordings_dir
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()  # a purge is one transaction per ticket: safe to cut between
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await purge(self.store, self.policy, recordings_dir=self.recordings_dir)
            except (StoreError, OSError) as error:
                log.warning(
                    "retention purge failed (%s); next try in %.0f s", error, self.interval_s
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)


def start_retention(store: SqlTicketStore, settings: Settings) -> RetentionJob | None:
    """Start the scheduled purge (``[retention] enabled``); None when disabled."""
    if not settings.retention.enabled:
        return None
    job = RetentionJob(
        store,
        RetentionPolicy.from_settings(settings),
        recordings_dir=Path(settings.recordings.dir),
        interval_s=settings.retention.interval_s,
    )
    job.start()
    return job


# --- `callbot retention …` -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["purge", "policy"])
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    parser.add_argument("--limit", type=int, default=100_000, help="tickets at most")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        policy = RetentionPolicy.from_settings(settings)
    except ConfigError as error:
        print(f"callbot retention: {error}")
        return 2
    if args.action == "policy":
        for status, days in sorted(policy.periods.items()):
            print(f"{status:<12} {days} days after the last change")
        print(f"{'(others)':<12} {policy.default_days} days after the last change")
        return 0
    return asyncio.run(_purge_command(args, settings, policy))


async def _purge_command(
    args: argparse.Namespace, settings: Settings, policy: RetentionPolicy
) -> int:
    from callbot.tickets.store.factory import open_existing_store

    store = await open_existing_store(settings.store.url)  # purging never creates a store
    try:
        report = await purge(
            store,  # type: ignore[arg-type]
            policy,
            recordings_dir=Path(settings.recordings.dir),
            dry_run=args.dry_run,
            limit=args.limit,
        )
    finally:
        await store.close()
    print(report.summary())
    if report.tickets:
        shown = ", ".join(f"#{t}" for t in report.tickets[:50])
        print(f"tickets: {shown}{' …' if len(report.tickets) > 50 else ''}")
    return 0
