"""`callbot recordings compress`: finished calls' WAV → FLAC, lossless, crash-safe, through
the ticket store (issue 14 item 4); both stores, the real recorder, the real CLI and the
dashboard serving the FLAC."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ticket_helpers import T0, call_ticket

from callbot.call.recording import CallRecorder
from callbot.recordings_archive import (
    ARCHIVE_ACTOR,
    Audio,
    RecordingError,
    compress_file,
    compress_recordings,
    read_flac,
    read_wav,
    write_flac,
)
from callbot.simulation.scripts import SPEECH_DIR
from callbot.speech.prompts import PROJECT_ROOT
from callbot.speech.wav import read_wav_8k
from callbot.tickets.model import CallRecord, EventKind
from callbot.tickets.retention import RetentionPolicy, purge
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore
from telephony.audio_format import FRAME_BYTES

try:
    from browser import PASSWORD, LiveServer, seed
except ImportError:
    from tests.browser import PASSWORD, LiveServer, seed

pytest_plugins = ["conftest_store"]

LATER = T0 + timedelta(days=8)  # call_ticket's calls end at T0 + 2 min
CALLER_CLIP = SPEECH_DIR / "audio" / "go_vap.wav"
BOT_CLIP = PROJECT_ROOT / "prompts" / "audio" / "greeting.wav"


def record_call(path: Path) -> Audio:
    """A short call through the real recorder: the bot's greeting on the right, a caller's
    answer on the left, silence around them; its mtime set back past the quiet minute."""
    recorder = CallRecorder(path)
    bot, caller = read_wav_8k(BOT_CLIP), read_wav_8k(CALLER_CLIP)
    silence = bytes(FRAME_BYTES)
    for start in range(0, len(bot), FRAME_BYTES):
        recorder.bot_frame(bot[start : start + FRAME_BYTES].ljust(FRAME_BYTES, b"\0"))
    for start in range(0, len(caller), FRAME_BYTES):
        recorder.caller_audio(caller[start : start + FRAME_BYTES])
        recorder.bot_frame(silence)
    recorder.close()
    assert recorder.failed is None
    age(path)
    return read_wav(path)


def age(path: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def recorded_ticket(store: SqlTicketStore, recordings: Path, name: str) -> tuple[int, Audio]:
    relative = f"2026/11/28/{name}.wav"
    audio = record_call(recordings / relative)
    ticket = await call_ticket(store, recording_path=relative)
    return ticket.id, audio


async def test_an_ended_call_is_archived_as_an_equal_flac(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    ticket_id, audio = await recorded_ticket(store, tmp_path, "a")
    wav = tmp_path / "2026/11/28/a.wav"
    wav_size = wav.stat().st_size
    lines: list[str] = []
    report = await compress_recordings(store, tmp_path, now=LATER, progress=lines.append)

    assert report.compressed == [ticket_id] and not report.errors
    assert lines == [f"[1/1] #{ticket_id} {lines[0].split(' ', 2)[2]}"]
    assert "MB →" in lines[0]
    flac = tmp_path / "2026/11/28/a.flac"
    assert not wav.exists() and flac.exists()
    assert not (tmp_path / "2026/11/28/a.flac.tmp").exists()
    back = read_flac(flac)
    assert back.rate == 8000 and back.channels == 2
    assert np.array_equal(back.samples, audio.samples)
    # The dashboard's timeline reads the archived recording's length as it read the WAV's.
    from callbot.web.dashboard.replay import recording_duration_ms

    expected_ms = round(len(audio.samples) * 1000 / 8000)
    assert abs(recording_duration_ms(flac) - expected_ms) <= 1  # type: ignore[operator]
    assert report.bytes_before == wav_size and report.bytes_after == flac.stat().st_size
    assert flac.stat().st_size < wav_size / 2  # speech and silence: well under half
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.recording_path == "2026/11/28/a.flac"
    events = [e for e in await store.list_history(ticket_id) if e.actor == ARCHIVE_ACTOR]
    assert [(e.kind, e.data) for e in events] == [
        (EventKind.RECORDING_ARCHIVED, {"recording_format": "flac"})
    ]
    # Idempotent: nothing left to do, nothing written twice.
    again = await compress_recordings(store, tmp_path, now=LATER)
    assert again.total == 0 and again.compressed == []
    assert len([e for e in await store.list_history(ticket_id) if e.actor == ARCHIVE_ACTOR]) == 1


async def test_only_ended_calls_past_the_age_are_touched(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    old_id, _ = await recorded_ticket(store, tmp_path, "old")
    # A call still up: its recorder may be writing.
    record_call(tmp_path / "2026/11/28/live.wav")
    live = CallRecord(str(uuid.uuid4()), T0, recording_path="2026/11/28/live.wav")
    await store.begin_call(live)
    # Ended, old enough by the store, but its file was written a moment ago.
    fresh_id, _ = await recorded_ticket(store, tmp_path, "fresh")
    age(tmp_path / "2026/11/28/fresh.wav", 5)

    too_soon = await compress_recordings(store, tmp_path, now=T0 + timedelta(days=6))
    assert too_soon.total == 0
    dry = await compress_recordings(store, tmp_path, now=LATER, dry_run=True)
    assert dry.compressed == [old_id] and dry.skipped == [
        (fresh_id, "written to in the last minute")
    ]
    assert not list(tmp_path.rglob("*.flac"))  # a dry run writes nothing
    report = await compress_recordings(store, tmp_path, now=LATER, older_than_days=7)
    assert report.total == 2 and report.compressed == [old_id]
    assert (tmp_path / "2026/11/28/live.wav").exists()
    assert (tmp_path / "2026/11/28/fresh.wav").exists()
    assert not (tmp_path / "2026/11/28/fresh.flac").exists()


async def test_a_crash_at_any_step_loses_nothing_and_a_rerun_finishes(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    day = tmp_path / "2026/11/28"
    # Killed while encoding: a truncated temporary file, the WAV untouched.
    cut_id, cut_audio = await recorded_ticket(store, tmp_path, "cut")
    (day / "cut.flac.tmp").write_bytes(b"fLaC\0\0\0\x22" + b"\x01" * 40)
    # Killed after the rename, before the store moved: a FLAC nobody points at yet
    # (here a wrong one, as if from an older encoder: it is written again, not trusted).
    renamed_id, renamed_audio = await recorded_ticket(store, tmp_path, "renamed")
    write_flac(day / "renamed.flac", Audio(8000, np.zeros((800, 2), dtype="<i2")))
    # Killed after the ticket moved, before the WAV was deleted.
    moved_id, moved_audio = await recorded_ticket(store, tmp_path, "moved")
    compress_file(day / "moved.wav", day / "moved.flac")
    assert await store.set_recording_path(
        moved_id, "2026/11/28/moved.flac", actor=ARCHIVE_ACTOR, expected="2026/11/28/moved.wav"
    )

    for ticket_id in (cut_id, renamed_id, moved_id):  # nothing is lost meanwhile
        ticket = await store.get_ticket(ticket_id)
        assert ticket is not None and (tmp_path / ticket.recording_path).exists()  # type: ignore[operator]

    report = await compress_recordings(store, tmp_path, now=LATER)
    assert report.compressed == [cut_id, renamed_id, moved_id] and not report.errors
    assert sorted(p.name for p in day.iterdir()) == ["cut.flac", "moved.flac", "renamed.flac"]
    for name, audio in (("cut", cut_audio), ("renamed", renamed_audio), ("moved", moved_audio)):
        assert np.array_equal(read_flac(day / f"{name}.flac").samples, audio.samples), name
    for ticket_id, name in ((cut_id, "cut"), (renamed_id, "renamed"), (moved_id, "moved")):
        ticket = await store.get_ticket(ticket_id)
        assert ticket is not None and ticket.recording_path == f"2026/11/28/{name}.flac"
    assert (await compress_recordings(store, tmp_path, now=LATER)).total == 0


async def test_missing_and_unreadable_files_are_reported_and_skipped(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    missing = await call_ticket(store, recording_path="2026/11/28/gone.wav")
    bad = await call_ticket(store, recording_path="2026/11/28/bad.wav")
    (tmp_path / "2026/11/28").mkdir(parents=True)
    (tmp_path / "2026/11/28/bad.wav").write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    age(tmp_path / "2026/11/28/bad.wav")
    folder = await call_ticket(store, recording_path="2026/11/28/folder.wav")
    (tmp_path / "2026/11/28/folder.wav").mkdir()
    age(tmp_path / "2026/11/28/folder.wav")
    good_id, _ = await recorded_ticket(store, tmp_path, "good")

    lines: list[str] = []
    report = await compress_recordings(store, tmp_path, now=LATER, progress=lines.append)
    assert report.compressed == [good_id]
    assert dict(report.errors) == {
        missing.id: "the WAV is missing",
        bad.id: "WAV without a data chunk",
        folder.id: "IsADirectoryError: Is a directory",
    }
    assert len(lines) == 4 and sum("FAILED" in line for line in lines) == 3
    for ticket_id in (missing.id, bad.id, folder.id):  # left as they were
        ticket = await store.get_ticket(ticket_id)
        assert ticket is not None and ticket.recording_path.endswith(".wav")  # type: ignore[union-attr]
    assert (tmp_path / "2026/11/28/bad.wav").exists()


async def test_a_ticket_purged_meanwhile_keeps_no_flac(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    ticket_id, _ = await recorded_ticket(store, tmp_path, "p")
    policy = RetentionPolicy({}, default_days=0)
    await purge(store, policy, recordings_dir=tmp_path, now=LATER + timedelta(days=1))
    assert not await store.set_recording_path(
        ticket_id, "2026/11/28/p.flac", actor=ARCHIVE_ACTOR, expected="2026/11/28/p.wav"
    )
    assert (await compress_recordings(store, tmp_path, now=LATER)).total == 0


async def test_retention_deletes_the_flac_and_what_a_cut_move_left(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    day = tmp_path / "2026/11/28"
    done_id, _ = await recorded_ticket(store, tmp_path, "done")
    await compress_recordings(store, tmp_path, now=LATER)
    cut_id, _ = await recorded_ticket(store, tmp_path, "cut")  # FLAC written, WAV still there
    compress_file(day / "cut.wav", day / "cut.flac")
    await store.set_recording_path(cut_id, "2026/11/28/cut.flac", actor=ARCHIVE_ACTOR)
    policy = RetentionPolicy({}, default_days=0)
    report = await purge(store, policy, recordings_dir=tmp_path, now=LATER + timedelta(days=1))
    assert sorted(report.tickets) == sorted([done_id, cut_id])
    assert report.recordings_deleted == 2
    assert list(day.iterdir()) == []


def test_the_command_compresses_a_sqlite_store(tmp_path: Path) -> None:
    async def prepare() -> tuple[int, int]:
        store = await open_store(f"sqlite:///{tmp_path / 't.db'}")
        try:
            good, _ = await recorded_ticket(store, tmp_path / "rec", "cli")  # type: ignore[arg-type]
            missing = await call_ticket(store, recording_path="2026/11/28/nope.wav")  # type: ignore[arg-type]
            return good, missing.id
        finally:
            await store.close()

    good_id, missing_id = asyncio.run(prepare())
    env = {
        **os.environ,
        "CALLBOT_STORE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "CALLBOT_RECORDINGS_DIR": str(tmp_path / "rec"),
    }
    # The calls ended on 28 November (ticket_helpers.T0): more than a day before any run.
    command = [sys.executable, "-m", "callbot", "recordings", "compress", "--older-than-days=1"]
    dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True)
    assert dry.returncode == 1, dry.stderr  # the missing file is an error even in a dry run
    assert f"[1/2] #{good_id} would compress" in dry.stdout
    assert "would compress 1 of 2 recordings" in dry.stdout
    assert (tmp_path / "rec/2026/11/28/cli.wav").exists()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"[2/2] #{missing_id} FAILED: the WAV is missing" in done.stdout
    assert "compressed 1 of 2 recordings" in done.stdout and ":1)" in done.stdout
    assert f"ticket #{missing_id}: the WAV is missing" in done.stderr
    assert "0281234567" not in done.stdout + done.stderr  # the caller's number, never
    assert (tmp_path / "rec/2026/11/28/cli.flac").exists()
    assert not (tmp_path / "rec/2026/11/28/cli.wav").exists()
    bad = subprocess.run([*command, "--older-than-days", "-1"], env=env, capture_output=True)
    assert bad.returncode == 2


def test_the_dashboard_serves_the_flac(tmp_path: Path) -> None:
    async def seeder(store: SqlTicketStore, now: Any) -> dict[str, Any]:
        ticket_id, audio = await recorded_ticket(store, tmp_path / "recordings", "served")
        await seed(store, now)  # the dashboard's accounts
        return {"ticket": ticket_id, "audio": audio}

    server = LiveServer(tmp_path, seeder=seeder).start()
    try:
        report = server.call(
            compress_recordings(server.app.state.store, tmp_path / "recordings", now=LATER)
        )
        ticket_id = server.seeded["ticket"]
        assert ticket_id in report.compressed
        client = httpx.Client(base_url=server.url)
        form = client.get("/dashboard/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/dashboard/login",
            data={"csrf_token": token, "login": "giamsat", "password": PASSWORD},
        )
        url = f"/dashboard/tickets/{ticket_id}/recording"
        whole = client.get(url)
        assert whole.status_code == 200, whole.text[:200]
        assert whole.headers["content-type"] == "audio/flac"
        assert whole.headers["cache-control"] == "private, no-store"
        assert whole.content[:4] == b"fLaC"
        served = tmp_path / "served.flac"
        served.write_bytes(whole.content)
        assert np.array_equal(read_flac(served).samples, server.seeded["audio"].samples)
        part = client.get(url, headers={"Range": "bytes=4-99"})
        assert part.status_code == 206 and part.content == whole.content[4:100]
    finally:
        server.stop()


FMT = b"fmt \x10\0\0\0"  # a 16-byte format chunk follows


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
@example(FMT + bytes.fromhex("0100 0200 401f0000 00000000 0000 1000") + b"data\4\0\0\0abcd")
@example(FMT + b"\1\0\2\0")  # cut inside the format
@example(FMT + bytes.fromhex("0100 0200 401f0000 00000000 0400 1000") + b"data\xff\xff\xff\xff")
def test_any_bytes_read_as_a_wav_or_a_clear_refusal(data: bytes) -> None:
    path = Path(f"/tmp/callbot-archive-{os.getpid()}.wav")
    path.write_bytes(b"RIFF\0\0\0\0WAVE" + data)
    try:
        audio = read_wav(path)
    except RecordingError:
        return
    finally:
        path.unlink()
    assert audio.samples.dtype == np.dtype("<i2") and audio.samples.ndim == 2


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 2).flatmap(
        lambda channels: st.lists(st.integers(-32768, 32767), max_size=3000).map(
            lambda values: np.array(values[: len(values) // channels * channels], "<i2").reshape(
                -1, channels
            )
        )
    ),
    st.sampled_from([8000, 16000]),
)
def test_flac_round_trips_any_samples(samples: np.ndarray, rate: int) -> None:
    path = Path(f"/tmp/callbot-archive-{os.getpid()}.flac")
    try:
        write_flac(path, Audio(rate, samples))
        back = read_flac(path)
    finally:
        path.unlink(missing_ok=True)
    assert back.rate == rate and np.array_equal(back.samples, samples)


def test_the_command_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "x.db"
    env = {**os.environ, "CALLBOT_STORE_URL": f"sqlite:///{missing}"}
    done = subprocess.run(
        [sys.executable, "-m", "callbot", "recordings", "compress"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"no ticket store at {missing}" in done.stderr
    assert not missing.parent.exists()


def test_a_killed_run_loses_nothing_and_the_next_finishes(tmp_path: Path) -> None:
    """SIGKILL wherever the third recording's move happens to be, then a rerun."""
    recordings = tmp_path / "rec"

    async def prepare() -> dict[int, Audio]:
        store = await open_store(f"sqlite:///{tmp_path / 't.db'}")
        try:
            made = [await recorded_ticket(store, recordings, f"k{n}") for n in range(12)]  # type: ignore[arg-type]
            return dict(made)
        finally:
            await store.close()

    async def check(audio: dict[int, Audio]) -> set[str]:
        store = await open_store(f"sqlite:///{tmp_path / 't.db'}")
        try:
            suffixes = set()
            for ticket_id, samples in audio.items():
                ticket = await store.get_ticket(ticket_id)
                assert ticket is not None and ticket.recording_path is not None
                path = recordings / ticket.recording_path
                read = read_flac if path.suffix == ".flac" else read_wav
                assert np.array_equal(read(path).samples, samples.samples), ticket_id
                suffixes.add(path.suffix)
            return suffixes
        finally:
            await store.close()

    audio = asyncio.run(prepare())
    env = {
        **os.environ,
        "CALLBOT_STORE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "CALLBOT_RECORDINGS_DIR": str(recordings),
    }
    command = [sys.executable, "-m", "callbot", "recordings", "compress", "--older-than-days=1"]
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert run.stdout is not None
    for _ in range(2):
        run.stdout.readline()
    run.kill()
    run.wait()
    # Every ticket's file whole, and the kill came mid-run (ten moves were still to do).
    assert asyncio.run(check(audio)) == {".wav", ".flac"}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert asyncio.run(check(audio)) == {".flac"}
    day = recordings / "2026/11/28"
    assert sorted(p.name for p in day.iterdir()) == sorted(f"k{n}.flac" for n in range(12))
