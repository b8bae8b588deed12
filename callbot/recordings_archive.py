"""Compress finished calls' WAV recordings to FLAC for the archive (issue 14 item 4).

  callbot recordings compress [--older-than-days 7] [--dry-run] [--limit N]

A call is recorded as 8 kHz 16-bit stereo WAV (callbot/call/recording.py): 32 kB per
call-second. FLAC is lossless, PyAV (faster-whisper's dependency) bundles FFmpeg's encoder,
and Chromium plays it, so the dashboard serves either. Only tickets whose call has ended are
touched (the recorder is closed before the call is marked ended), chosen through the store.

Each recording moves in steps that a crash may cut anywhere without losing it:

  1. ``NAME.flac.tmp`` written and fsync'd, renamed to ``NAME.flac`` (directory fsync'd);
  2. the FLAC decoded back and its samples compared with the WAV's, exactly;
  3. the ticket pointed at the FLAC (``set_recording_path``, a history event);
  4. the WAV deleted, then the call's own path moved (``set_call_recording_path``).

A rerun finds every cut move again (the call still names the WAV) and finishes it; a
leftover temporary file is removed. Output names tickets by id only: never a number or name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from callbot.config import Settings
from callbot.tickets.journal import fsync_dir
from callbot.tickets.model import utcnow

if TYPE_CHECKING:  # heavy imports stay inside run(), as cli.py asks of subcommands
    from callbot.tickets.store.sql_retention import RecordingCandidate
    from callbot.tickets.store.sql_store import SqlTicketStore

ARCHIVE_ACTOR = "archive"
TEMP_SUFFIX = ".tmp"
# A WAV written to this recently is left for a later run: belt and braces beside "the call
# has ended" (a sibling may have closed the call of a process that hangs but still writes).
QUIET_S = 60.0
SAMPLE_WIDTH = 2
ENCODE_FRAMES = 4096  # samples per channel handed to the encoder at a time


class RecordingError(Exception):
    """This recording cannot be compressed: reported and skipped, the run goes on."""


@dataclass(frozen=True)
class Audio:
    rate: int
    samples: np.ndarray  # int16, shape (frames, channels)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])


def read_wav(path: Path) -> Audio:
    """The PCM 16-bit samples of a WAV. The recorder rewrites its header once a second, so
    a process killed mid-call leaves samples past the size its header states: a WAV laid out
    as the recorder writes it (data at byte 44) is read to the end of the file, so the FLAC
    keeps everything on disk."""
    raw = path.read_bytes()
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise RecordingError("not a WAV file")
    offset, fmt = 12, None
    while offset + 8 <= len(raw):
        kind, size = struct.unpack_from("<4sI", raw, offset)
        body = offset + 8
        if kind == b"fmt " and size >= 16 and body + 16 <= len(raw):
            fmt = struct.unpack_from("<HHIIHH", raw, body)
        elif kind == b"data":
            if fmt is None:
                raise RecordingError("WAV data before its format")
            audio_format, channels, rate, _, block_align, bits = fmt
            if audio_format != 1 or bits != 16 or channels < 1 or rate < 1:
                raise RecordingError(f"WAV is not 16-bit PCM (format {audio_format}, {bits} bit)")
            if block_align != channels * SAMPLE_WIDTH:
                raise RecordingError(f"WAV block size {block_align} for {channels} channels")
            end = len(raw) if body == 44 else min(body + size, len(raw))
            usable = (end - body) // block_align * block_align
            samples = np.frombuffer(raw, dtype="<i2", count=usable // SAMPLE_WIDTH, offset=body)
            return Audio(rate, samples.reshape(-1, channels))
        offset = body + size + (size & 1)
    raise RecordingError("WAV without a data chunk")


def write_flac(path: Path, audio: Audio) -> None:
    """``audio`` as FLAC at ``path``, fsync'd before returning."""
    import av

    layout = {1: "mono", 2: "stereo"}.get(audio.channels)
    if layout is None:
        raise RecordingError(f"{audio.channels} channels: only mono or stereo is archived")
    with open(path, "wb") as file:
        with av.open(file, "w", format="flac") as container:
            stream = container.add_stream("flac", rate=audio.rate, layout=layout)
            stream.format = "s16"
            for start in range(0, len(audio.samples), ENCODE_FRAMES):
                chunk = np.ascontiguousarray(audio.samples[start : start + ENCODE_FRAMES])
                frame = av.AudioFrame.from_ndarray(
                    chunk.reshape(1, -1), format="s16", layout=layout
                )
                frame.sample_rate = audio.rate
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        file.flush()
        os.fsync(file.fileno())


def read_flac(path: Path) -> Audio:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate
        parts = []
        for frame in container.decode(stream):
            if frame.format.name != "s16":
                raise RecordingError(f"FLAC decodes as {frame.format.name}, not s16")
            parts.append(frame.to_ndarray().reshape(-1, channels))
    samples = np.concatenate(parts) if parts else np.zeros((0, channels), dtype="<i2")
    return Audio(rate, samples)


def compress_file(wav: Path, flac: Path) -> int:
    """Steps 1–2: ``flac`` written beside ``wav`` and proved equal to it; its size. Refused
    (RecordingError, no FLAC left) if the samples differ or the WAV changed meanwhile."""
    before = wav.stat()
    audio = read_wav(wav)
    temp = flac.with_name(flac.name + TEMP_SUFFIX)
    try:
        write_flac(temp, audio)
        os.replace(temp, flac)
        fsync_dir(flac.parent)
        back = read_flac(flac)
        if back.rate != audio.rate or not np.array_equal(back.samples, audio.samples):
            raise RecordingError("the FLAC decodes to other samples than the WAV holds")
        after = wav.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise RecordingError("the WAV changed while it was compressed")
    except BaseException:
        temp.unlink(missing_ok=True)
        flac.unlink(missing_ok=True)
        raise
    return flac.stat().st_size


@dataclass
class ArchiveReport:
    total: int = 0
    compressed: list[int] = field(default_factory=list)  # ticket ids
    skipped: list[tuple[int, str]] = field(default_factory=list)  # not errors: left as they are
    errors: list[tuple[int, str]] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0
    cpu_s: float = 0.0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would compress" if self.dry_run else "compressed"
        sizes = f"{self.bytes_before / 1e6:.1f} MB"
        if not self.dry_run:
            ratio = self.bytes_before / self.bytes_after if self.bytes_after else 0.0
            sizes += f" → {self.bytes_after / 1e6:.1f} MB ({ratio:.2f}:1)"
        return (
            f"{verb} {len(self.compressed)} of {self.total} recordings, {sizes}; "
            f"{len(self.skipped)} skipped, {len(self.errors)} failed"
        )


def _inside(recordings_dir: Path, relative: str) -> Path | None:
    base = recordings_dir.resolve()
    path = (base / relative).resolve()
    # A path from the database never reaches outside the recordings folder.
    return path if path.is_relative_to(base) and path != base else None


async def compress_recordings(
    store: SqlTicketStore,
    recordings_dir: Path,
    *,
    older_than_days: float = 7,
    dry_run: bool = False,
    limit: int = 100_000,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> ArchiveReport:
    """Compress the WAV of every ended call older than ``older_than_days`` (up to ``limit``)."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    candidates = await store.recordings_to_compress(cutoff, limit=limit)
    report = ArchiveReport(total=len(candidates), dry_run=dry_run)
    for number, candidate in enumerate(candidates, 1):
        head = f"[{number}/{report.total}] #{candidate.ticket_id}"
        try:
            line = await _one(store, candidate, recordings_dir, report)
        except RecordingError as error:
            report.errors.append((candidate.ticket_id, str(error)))
            line = f"FAILED: {error}"
        except OSError as error:  # strerror only: the message would name the file
            why = f"{type(error).__name__}: {error.strerror or 'unreadable'}"
            report.errors.append((candidate.ticket_id, why))
            line = f"FAILED: {why}"
        progress(f"{head} {line}")
    return report


async def _one(
    store: SqlTicketStore,
    candidate: RecordingCandidate,
    recordings_dir: Path,
    report: ArchiveReport,
) -> str:
    wav_rel = candidate.call_path
    flac_rel = wav_rel[: -len(".wav")] + ".flac"
    wav, flac = _inside(recordings_dir, wav_rel), _inside(recordings_dir, flac_rel)
    if wav is None or flac is None:
        raise RecordingError("recording path outside the recordings directory")
    if candidate.ticket_path not in (wav_rel, flac_rel):
        report.skipped.append((candidate.ticket_id, "ticket names another recording"))
        return "skipped: the ticket names another recording"
    temp = flac.with_name(flac.name + TEMP_SUFFIX)
    moved = candidate.ticket_path == flac_rel and flac.exists()  # a cut move: steps 1–3 done
    if not moved:
        if not wav.exists():
            raise RecordingError("the WAV is missing")
        size = wav.stat().st_size
        if time.time() - wav.stat().st_mtime < QUIET_S:
            report.skipped.append((candidate.ticket_id, "written to in the last minute"))
            return "skipped: written to in the last minute"
        if report.dry_run:
            report.compressed.append(candidate.ticket_id)
            report.bytes_before += size
            return f"would compress {size / 1e6:.2f} MB"
        temp.unlink(missing_ok=True)  # a crash's leftover
        started = time.process_time()
        flac_size = await asyncio.to_thread(compress_file, wav, flac)
        report.cpu_s += time.process_time() - started
        if not await store.set_recording_path(
            candidate.ticket_id, flac_rel, actor=ARCHIVE_ACTOR, expected=wav_rel
        ):
            # Purged (retention deletes the file first) or changed meanwhile: the FLAC
            # must not outlive what the ticket points at.
            flac.unlink(missing_ok=True)
            report.skipped.append((candidate.ticket_id, "the ticket changed meanwhile"))
            return "skipped: the ticket changed meanwhile"
    else:
        if report.dry_run:
            report.compressed.append(candidate.ticket_id)
            return "would finish an interrupted move"
        temp.unlink(missing_ok=True)
        size = wav.stat().st_size if wav.exists() else 0
        flac_size = flac.stat().st_size
    wav.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        fsync_dir(wav.parent)
    await store.set_call_recording_path(candidate.call_id, flac_rel, expected=wav_rel)
    report.compressed.append(candidate.ticket_id)
    report.bytes_before += size
    report.bytes_after += flac_size
    if moved:
        return "finished an interrupted move"
    return f"{size / 1e6:.2f} MB → {flac_size / 1e6:.2f} MB"


# --- `callbot recordings …` ----------------------------------------------------------------


def non_negative_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not days >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return days


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("action", choices=["compress"])
    parser.add_argument(
        "--older-than-days", type=non_negative_days, default=7.0, metavar="N",
        help="only calls that ended more than N days ago (default 7)",
    )  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    parser.add_argument("--limit", type=int, default=100_000, help="recordings at most")


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_compress_command(args, settings))


async def _compress_command(args: argparse.Namespace, settings: Settings) -> int:
    import av  # noqa: F401 — fail here, before any file is touched, if PyAV is missing

    from callbot.cli import open_existing_store

    store = await open_existing_store(settings)  # compressing never creates a store
    try:
        report = await compress_recordings(
            store,  # type: ignore[arg-type]
            Path(settings.recordings.dir),
            older_than_days=args.older_than_days,
            dry_run=args.dry_run,
            limit=args.limit,
            progress=lambda line: print(line, flush=True),
        )
    finally:
        await store.close()
    print(report.summary())
    for ticket_id, why in report.errors:
        print(f"callbot recordings: ticket #{ticket_id}: {why}", file=sys.stderr)
    return 1 if report.errors else 0
