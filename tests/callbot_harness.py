"""A real callbot, started in the test's event loop: AudioSocket on a free loopback port,
a real SQLite file, the real offline Whisper model (loaded once per test session)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from callbot.config import Settings
from callbot.server import Callbot, start_callbot
from callbot.speech.asr.base import AsrEngine

try:
    from ami_server import AmiTestServer, FakeMember, FakeQueue
except ImportError:  # tests imported as a package
    from tests.ami_server import AmiTestServer, FakeMember, FakeQueue


def callbot_settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.audiosocket.port = 0
    settings.store.url = f"sqlite:///{tmp_path / 'tickets.db'}"
    settings.recordings.dir = str(tmp_path / "recordings")
    settings.prompts.tts_cache_dir = str(tmp_path / "tts-cache")
    settings.web.enabled = False  # the web app has its own tests
    settings.outbox.enabled = False  # tickets are routed; delivery has its own tests
    settings.retention.enabled = False
    # Shorter waits than production so a silent caller test takes seconds, not a minute.
    settings.vad.no_speech_timeout_ms = 2500
    settings.dialog.keypad_digit_timeout_s = 1.5
    return settings


@contextlib.asynccontextmanager
async def running_callbot(settings: Settings, asr: AsrEngine) -> AsyncIterator[Callbot]:
    """The bot on a shared model (loaded once per session); stopped and closed after."""
    bot = await start_callbot(settings, asr=asr)
    try:
        yield bot
    finally:
        await bot.stop(grace_s=5.0)


@contextlib.asynccontextmanager
async def callbot_with_ami(
    settings: Settings, asr: AsrEngine, *, operator_status: int = 1
) -> AsyncIterator[tuple[Callbot, AmiTestServer]]:
    """The bot logged in to an AMI test server whose queue "support" has one operator
    (``operator_status`` as Asterisk's device state: 1 free, 0 unknown, …)."""
    member = FakeMember("Tổng đài viên 1", "PJSIP/op1", status=operator_status)
    async with AmiTestServer(queues=[FakeQueue("support", members=[member])]) as ami:
        settings.ami.enabled = True
        settings.ami.port = ami.port
        settings.ami.secret = ami.secret
        async with running_callbot(settings, asr) as bot:
            await asyncio.wait_for(ami.logged_in.wait(), 10)
            yield bot, ami
