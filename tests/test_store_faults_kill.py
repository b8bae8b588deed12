"""SIGKILL of a `callbot serve` with 20 calls up on PostgreSQL (issue 15): another live
process closes all 20 as incomplete tickets in the callback queue within one lease period,
and `simulate` (no store to check, as with --no-check) reports none of them "ok".

The killed server is a real process (real PostgreSQL schema, real Whisper, real AudioSocket
TCP); the survivor is this test's process, holding its own lease on the same database as
a second callbot machine would.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import pytest
from test_crash_safety import Process, free_port
from test_store_faults_calls import quick_prompts

from callbot.config import Settings
from callbot.simulation.run import simulate_calls
from callbot.simulation.scripts import CallerScript, Reply
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.leases import LEASE_S, CallLeases
from callbot.tickets.model import CallEndReason, Channel, TurnKind
from callbot.tickets.store.factory import open_store

pytest_plugins = ["conftest_store"]
pytestmark = pytest.mark.slow

CALLS = 20
# Answer the first question, then stay silent: the call waits at the second one (the
# server's no-speech timeout is 60 s here), open, until the server is killed.
WAITING = CallerScript(
    "answers-then-waits",
    {"ask_case_type": (Reply("keys", "1"),), "ask_subject": (Reply("silence", ""),)},
    {"case_type": "essentials"},
    expect_complete=False,
)


async def test_sigkill_with_20_calls_on_postgres(pg_store_url: str, tmp_path: Path) -> None:
    studio = tmp_path / "studio"
    quick_prompts(studio, Path(Settings().prompts.dir))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CALLBOT_STORE_URL": pg_store_url,
        "CALLBOT_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "CALLBOT_PROMPTS_OVERRIDE_DIR": str(studio),
        "CALLBOT_PROMPTS_TTS_CACHE_DIR": str(tmp_path / "tts-cache"),
        "CALLBOT_AUDIOSOCKET_PORT": str(port),
        "CALLBOT_VAD_NO_SPEECH_TIMEOUT_MS": "60000",
        "CALLBOT_WEB_ENABLED": "false",
        "CALLBOT_OUTBOX_ENABLED": "false",
        "CALLBOT_RETENTION_ENABLED": "false",
    }
    store = await open_store(pg_store_url)
    survivor = CallLeases(store, "survivor", running=set())
    await survivor.start()
    server = Process(["serve"], env, tmp_path / "serve.log")
    callers: asyncio.Task | None = None
    try:
        line = await asyncio.to_thread(server.wait_for, "callbot: AudioSocket on ", 120.0)
        assert re.search(rf":{port}\b", line), line
        callers = asyncio.create_task(
            simulate_calls(
                [WAITING],
                host="127.0.0.1",
                port=port,
                prompts=PromptLibrary(Path(Settings().prompts.dir), override_dir=studio),
                store=None,  # as `callbot simulate --no-check`
                calls=CALLS,
                concurrency=CALLS,
                stagger_s=0.05,
            )
        )
        started = time.monotonic()
        while True:
            tickets = [t for t in await store.list_tickets(limit=100) if t.channel is Channel.VOICE]
            if len(tickets) == CALLS and all("case_type" in t.slots for t in tickets):
                break
            assert time.monotonic() - started < 60, f"{len(tickets)} calls answered"
            assert not callers.done(), callers
            await asyncio.sleep(0.2)
        # A lease period with both processes alive: the survivor closes none of them.
        await asyncio.sleep(LEASE_S)
        tickets = await store.list_tickets(limit=100)
        assert [t.end_reason for t in tickets] == [None] * CALLS

        server.kill()
        killed_at = time.monotonic()
        while True:
            tickets = await store.list_tickets(limit=100)
            closed = [t for t in tickets if t.end_reason is not None]
            if len(closed) == CALLS:
                break
            assert time.monotonic() - killed_at < 3 * LEASE_S, f"{len(closed)} closed"
            await asyncio.sleep(0.1)
        recovered_s = time.monotonic() - killed_at
        print(f"\n{CALLS} calls of the killed server closed {recovered_s:.1f} s after SIGKILL")
        assert recovered_s <= LEASE_S + 1.0  # the survivor's sweep itself takes a moment
        for ticket in tickets:
            assert ticket.end_reason is CallEndReason.SERVER_ERROR
            assert ticket.needs_callback and not ticket.complete
            turns = await store.list_turns(ticket.call_id or "")
            assert any(t.kind is TurnKind.KEYPAD for t in turns)  # what was said is kept
        results = await asyncio.wait_for(callers, 30)
        assert len(results) == CALLS and not any(r.ok for r in results)
        assert all("never ended the call" in " ".join(r.mismatches) for r in results)
    finally:
        if callers is not None and not callers.done():
            callers.cancel()
        server.stop()
        await survivor.stop()
        await store.close()
