"""Surge mode over real AudioSocket TCP against a real callbot (offline Whisper model, a
real SQLite file): with a supervisor's switch forced on in the store, a new call hears the
short greeting, is asked only its place and callback number, and ends as a complete
ticket in the callback queue; the change is in the store and on /metrics' gate."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from callbot.call.surge import SURGE_GREETING
from callbot.simulation.caller import CallerVoice, check_ticket, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.tickets.model import CallEndReason
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_surge import SurgeStore
from telephony.frame_clock import FrameClock

try:
    from callbot_harness import callbot_settings, running_callbot
except ImportError:  # tests imported as a package
    from tests.callbot_harness import callbot_settings, running_callbot

pytestmark = pytest.mark.slow

# Every question of the full script has an answer: a bot that ignored the switch would
# ask them all and the check below (the prompts heard) fails.
KEYPAD_CALLER = CallerScript(
    "surge-keypad",
    {
        name: (Reply.parse(answer, name),)
        for name, answer in {
            "ask_case_type": "keys:1",
            "ask_subject": "keys:1",
            "ask_place": "keys:3#",
            "ask_callback": "keys:0903456789#",
            "ask_household": "keys:5#",
            "ask_address": "keys:0",
            "confirm": "keys:1",
        }.items()
    },
    {"place": "Quận 3", "callback_number": "0903456789"},
    expect_complete=True,
)


async def test_with_surge_forced_on_a_call_gets_the_short_script_and_a_ticket(
    whisper_engine, tmp_path: Path
):
    settings = callbot_settings(tmp_path)
    settings.surge.max_calls = 50  # far above this test's one call: only the switch acts
    settings.web.enabled, settings.web.port = True, 0  # for /metrics
    settings.web.secret_key = "test-secret-key"
    store = await open_store(settings.store.url)
    await SurgeStore(store).set_switch("on", "giamsat")
    await store.close()
    async with running_callbot(settings, whisper_engine) as bot:
        clock = FrameClock()
        try:
            result = await run_caller(
                KEYPAD_CALLER, host="127.0.0.1", port=bot.port, clock=clock,
                ear=PromptEar(bot.services.prompts), voice=CallerVoice(),
                call_id=str(uuid.uuid4()),
            )  # fmt: skip
        finally:
            await clock.close()
        await check_ticket(result, KEYPAD_CALLER, bot.services.store)
        for _ in range(50):  # the callback mark follows the ticket's close
            ticket = await bot.services.store.get_ticket_for_call(result.call_id)
            if ticket is not None and ticket.needs_callback:
                break
            await asyncio.sleep(0.1)
        changes = await SurgeStore(bot.services.store).changes()
        assert bot.surge is not None and bot.surge.on and bot.web is not None
        port = bot.web.server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    assert "callbot_surge_on 1.0" in metrics
    assert "callbot_surge_changes_total 1.0" in metrics
    heard = [name for prompts in result.prompts_heard for name in prompts]
    assert result.ok, (result.error, result.mismatches, heard)
    assert SURGE_GREETING in heard
    assert "ask_place" in heard and "ask_callback" in heard
    assert not {"ask_case_type", "ask_subject", "ask_household", "ask_address"} & set(heard)
    assert ticket is not None and ticket.complete and ticket.needs_callback
    assert ticket.end_reason is CallEndReason.COMPLETED
    assert set(ticket.slots) >= {"place", "callback_number"} and "case_type" not in ticket.slots
    states = [c for c in changes if c.on is not None]
    assert states and states[0].on and states[0].reason == "supervisor giamsat: on"
