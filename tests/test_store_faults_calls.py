"""A full disk under live calls (issue 15): a real callbot, real AudioSocket TCP, scripted
callers, and the SQLite file on a real size-limited tmpfs that the test fills up mid-call.

- Store full, journal on another disk: every turn and slot reaches the store once space
  returns (the journal is replayed); the caller is never told the request was sent while
  the store did not hold it.
- Store and journal full: the bot says it could not save the request and hands the call
  back over AMI (as a hand-back does); /metrics counts it; nothing false is said.

Mounting a tmpfs needs root (the suite runs as root in CI and here); elsewhere the tests
skip with that reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from callbot.call.asterisk_link import HANDBACK_VARIABLE
from callbot.config import Settings
from callbot.simulation.caller import CallerResult, CallerVoice, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.speech.prompts import load_texts
from callbot.tickets.model import CallEndReason, Speaker, TurnKind
from callbot.tickets.store.factory import open_store
from callbot.web.app import create_app
from telephony.frame_clock import FrameClock

try:
    from ami_server import callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami, running_callbot
except ImportError:  # tests imported as a package
    from tests.ami_server import callbot_call_event
    from tests.callbot_harness import callbot_settings, callbot_with_ami, running_callbot

pytestmark = pytest.mark.slow

# Keys where the question has a keypad, silence (skipped: optional) where it has none.
ANSWERS = {
    "ask_case_type": "keys:1",
    "ask_subject": "keys:1",
    "ask_place": "keys:3#",
    "ask_household": "keys:5#",
    "ask_callback": "keys:0903456789#",
    "ask_address": "silence",
    "ask_name": "silence",
    "ask_description": "silence",
    "confirm": "keys:1",
}
EXPECTED_SLOTS = {
    "case_type": "essentials",
    "subject": "self",
    "place": "Quận 3",
    "household_size": "5",
    "callback_number": "0903456789",
}
CALLER = CallerScript(
    "disk-full",
    {k: (Reply.parse(v, k),) for k, v in ANSWERS.items()},
    EXPECTED_SLOTS,
    expect_complete=False,
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB tmpfs: writes past it fail with ENOSPC, as on a full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; the filler file, to delete for space."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            block = b"\xff" * size
            with contextlib.suppress(OSError):
                while os.write(fd, block):
                    pass
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0
    return filler


def quick_prompts(studio: Path, prompts_dir: Path) -> None:
    """Every prompt as 0.2 s of a pattern of its own, so a whole call takes seconds and the
    callers' ear still tells each prompt apart exactly."""
    studio.mkdir()
    for index, name in enumerate(sorted(load_texts(prompts_dir))):
        samples = (np.arange(1600) * (index + 3) * 7 + index * 211) % 4000 + 300
        with wave.open(str(studio / f"{name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(samples.astype("<i2").tobytes())


def disk_full_settings(tmp_path: Path, disk: Path, spool: Path) -> Settings:
    settings = callbot_settings(tmp_path)
    settings.store.url = f"sqlite:///{disk / 'tickets.db'}"
    settings.store.spool_dir = str(spool)
    settings.vad.no_speech_timeout_ms = 2000  # optional open questions skipped sooner
    quick_prompts(tmp_path / "studio", Path(settings.prompts.dir))
    settings.prompts.override_dir = str(tmp_path / "studio")
    return settings


async def call_filling_the_disk(
    bot: object, disk: Path, call_id: str | None = None
) -> tuple[CallerResult, Path, str]:
    """One scripted call; the disk fills as soon as the call's ticket exists."""
    store = bot.services.store  # type: ignore[attr-defined]
    clock = FrameClock()
    ear = PromptEar(bot.services.prompts)  # type: ignore[attr-defined]
    call_id = call_id or str(uuid.uuid4())
    caller = asyncio.create_task(
        run_caller(
            CALLER,
            host="127.0.0.1",
            port=bot.port,  # type: ignore[attr-defined]
            clock=clock,
            ear=ear,
            voice=CallerVoice(),
            call_id=call_id,
            call_timeout_s=90,
        )
    )
    try:
        for _ in range(200):
            if await store.get_ticket_for_call(call_id) is not None:
                break
            await asyncio.sleep(0.02)
        filler = fill(disk)
        result = await caller
    finally:
        await clock.close()
    return result, filler, call_id


def heard(result: CallerResult) -> list[str]:
    return [name for pieces in result.prompts_heard for name in pieces]


async def test_a_full_disk_loses_nothing_and_promises_nothing(
    whisper_engine, tmp_path: Path, small_disk: Path
) -> None:
    settings = disk_full_settings(tmp_path, small_disk, tmp_path / "spool")
    async with running_callbot(settings, whisper_engine) as bot:
        result, filler, call_id = await call_filling_the_disk(bot, small_disk)
        assert not result.error, result.error
        said = heard(result)
        # It reached the readback and the caller confirmed, but nothing was in the store:
        # the goodbye promises a callback, not a request sent to the agency.
        assert "confirm" in said and "goodbye" not in said, " ".join(said)
        assert "goodbye_incomplete" in said and result.bot_hung_up
        metrics = bot.services.metrics
        assert metrics.store_writes_journaled > 5 and metrics.requests_not_saved == 0
        journals = list((tmp_path / "spool").glob("*.journal"))
        assert [p.name for p in journals] == [f"{call_id}.journal"]

        filler.unlink()  # space is back: the lease's next beat replays the journal
        store = bot.services.store
        for _ in range(100):
            ticket = await store.get_ticket_for_call(call_id)
            if ticket is not None and ticket.end_reason is not None:
                break
            await asyncio.sleep(0.1)
        assert ticket is not None and ticket.end_reason is CallEndReason.COMPLETED
        assert not ticket.complete and ticket.needs_callback  # as the caller was told
        assert {k: v.value for k, v in ticket.slots.items()} == EXPECTED_SLOTS
        assert ticket.callback_number == "0903456789" and ticket.service_code == "essentials"
        turns = await store.list_turns(call_id)
        assert [t.seq for t in turns] == list(range(len(turns)))  # every turn, once
        prompts = [t for t in turns if t.speaker is Speaker.BOT]
        assert prompts[-1].text.startswith("Cảm ơn bạn. Tổng đài viên sẽ gọi lại")
        keys = [t.text for t in turns if t.kind is TurnKind.KEYPAD]
        assert keys[:3] == ["1", "1", "3"] and "0903456789" in keys
        assert not list((tmp_path / "spool").glob("*.journal"))  # replayed, removed


async def test_no_room_even_for_the_journal_hands_the_call_back(
    whisper_engine, tmp_path: Path, small_disk: Path
) -> None:
    settings = disk_full_settings(tmp_path, small_disk, small_disk / "spool")
    async with callbot_with_ami(settings, whisper_engine) as (bot, ami):
        call_id = str(uuid.uuid4())
        event = callbot_call_event(call_id, "Trần Văn Bình", "0911222333")
        await ami.send_event(event)
        result, filler, _ = await call_filling_the_disk(bot, small_disk, call_id)
        assert not result.error, result.error
        said = heard(result)
        assert "not_saved" in said and "handback" in said and result.bot_hung_up
        assert not {"goodbye", "goodbye_incomplete", "confirm"} & set(said)
        channel = event.get("Channel")
        assert ami.variables.get((channel, HANDBACK_VARIABLE)) == "1"
        assert bot.services.metrics.requests_not_saved == 1
        app = create_app(bot.services.store, settings, bot.services.metrics)
        app.state.services = bot.services
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            page = (await http.get("/metrics")).text
        assert "callbot_requests_not_saved_total 1.0" in page

        filler.unlink()
        # The ticket was begun before the disk filled: once the store takes writes
        # again, the lease's sweep closes it (its session is gone) for a callback.
        store = bot.services.store
        for _ in range(100):
            ticket = await store.get_ticket_for_call(call_id)
            if ticket is not None and ticket.end_reason is not None:
                break
            await asyncio.sleep(0.1)
        assert ticket is not None and ticket.needs_callback and not ticket.complete


async def test_a_reused_uuid_is_refused_by_name(whisper_engine, tmp_path: Path, caplog) -> None:
    settings = callbot_settings(tmp_path)
    quick_prompts(tmp_path / "studio", Path(settings.prompts.dir))
    settings.prompts.override_dir = str(tmp_path / "studio")
    async with running_callbot(settings, whisper_engine) as bot:
        store = bot.services.store
        call_id = str(uuid.uuid4())
        clock = FrameClock()
        ear = PromptEar(bot.services.prompts)
        hangup = CallerScript("hangs-up", {"ask_case_type": (Reply("hangup", ""),)})
        try:
            first = await run_caller(
                hangup, host="127.0.0.1", port=bot.port, clock=clock, ear=ear,
                voice=CallerVoice(), call_id=call_id, call_timeout_s=60,
            )  # fmt: skip
            second = await run_caller(
                hangup, host="127.0.0.1", port=bot.port, clock=clock, ear=ear,
                voice=CallerVoice(), call_id=call_id, call_timeout_s=10,
            )  # fmt: skip
        finally:
            await clock.close()
        assert not first.error and second.bot_hung_up and second.prompts_heard == []
        assert "used by an earlier call" in caplog.text
        assert "ticket store unavailable" not in caplog.text
        assert len(await store.list_tickets()) == 1
    async with await open_store(settings.store.url) as reopened:
        assert len(await reopened.list_turns(call_id)) >= 1
