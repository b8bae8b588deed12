"""A supervisor hands a call in progress back to the operators from the live view: a real
callbot (AudioSocket over loopback TCP, a real SQLite file, the offline Whisper model) and
an AMI peer that behaves like Asterisk. The caller answers the first menu and then stays
silent; the request goes only through the store, as it does when the dashboard runs on
another machine, and the call's session picks it up and hands the call back through the
usual path (the AMI mark, the hand-back prompt, the hangup frame)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from callbot.simulation.caller import CallerVoice, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.tickets.model import CallEndReason, EventKind, TurnKind
from telephony.frame_clock import FrameClock

try:
    from ami_server import callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami
    from test_handback_watch import count_statements
except ImportError:  # tests imported as a package
    from tests.ami_server import callbot_call_event
    from tests.callbot_harness import callbot_settings, callbot_with_ami
    from tests.test_handback_watch import count_statements

pytestmark = pytest.mark.slow

CHANNEL = "PJSIP/trunk-0000002a"  # the channel callbot_call_event names
SILENT_AFTER_MENU = CallerScript(
    "silent-after-menu",
    {"ask_case_type": (Reply("keys", "1"),)},  # then silence to every question
    expect={},
    expect_complete=False,
)


def test_a_supervisor_hands_a_live_call_back(whisper_engine, tmp_path: Path) -> None:
    outcome = asyncio.run(run_call(whisper_engine, tmp_path))
    result, ticket, turns, history, variables, pending, asked_after_s, reads = outcome
    assert not result.error, result.error
    heard = [p for turn in result.prompts_heard for p in turn]
    assert "handback" in heard  # the caller is told they are being put through
    assert "confirm" not in heard
    assert result.bot_hung_up  # the hangup frame: AudioSocket() returns to the dialplan
    assert variables[(CHANNEL, "CALLBOT_HANDBACK")] == "1"
    assert ticket is not None and ticket.end_reason == CallEndReason.HANDED_BACK
    assert ticket.slots["case_type"].value == "essentials"  # what was said is kept
    events = [t.text for t in turns if t.kind == TurnKind.EVENT]
    assert "handed back to operators by a supervisor" in events
    asked = [e for e in history if e.kind is EventKind.HANDBACK_REQUESTED]
    assert [e.actor for e in asked] == ["giamsat"]
    assert not pending  # marked done
    assert asked_after_s < 8.0, asked_after_s  # polled about once a second, plus the prompt
    # The process's one watcher read the store for the call, no per-call poll, and stopped
    # once the call ended.
    assert reads["per_call"] == 0
    assert 1 <= reads["polls"] <= reads["call_s"] + 1, reads  # one query a second
    assert reads["polls"] == reads["polls_at_end"] == reads["polls_after_end"], reads
    assert not reads["still_polling"] and reads["watched"] == 0


def test_when_asterisk_cannot_take_it_back_the_bot_asks_again(whisper_engine, tmp_path) -> None:
    # No UserEvent names this call's channel: AMI cannot mark it for the operators.
    outcome = asyncio.run(run_call(whisper_engine, tmp_path, channel_known=False))
    result, ticket, turns, history, variables, pending, _, reads = outcome
    assert not result.error, result.error
    texts = [t.text for t in turns]
    failed = next(i for i, t in enumerate(texts) if t.startswith("hand-back failed"))
    assert "handed back to operators by a supervisor" not in texts
    # The question cut off by the request is asked again, and the call goes on to its end.
    asked_again = [t for t in turns[failed:] if t.kind == TurnKind.PROMPT]
    assert asked_again, texts
    assert ticket is not None and ticket.end_reason != CallEndReason.HANDED_BACK
    assert not any(name == "CALLBOT_HANDBACK" for _, name in variables)
    assert not pending  # marked failed: the supervisor may ask again
    assert sum(e.kind is EventKind.HANDBACK_REQUESTED for e in history) == 1
    assert reads["per_call"] == 0 and reads["watched"] == 0  # watched again, then unwatched


async def run_call(engine, tmp: Path, *, channel_known: bool = True):
    settings = callbot_settings(tmp)
    async with callbot_with_ami(settings, engine) as (bot, ami):
        store = bot.services.store
        watch = bot.services.handback_watch
        assert watch is not None and not watch.polling  # no call up: no query
        statements = count_statements(store)
        clock = FrameClock()
        call_started = time.monotonic()
        call_id = str(uuid.uuid4())
        if channel_known:
            await ami.send_event(callbot_call_event(call_id, "Lê Thị Hoa", "0911222333"))
        caller = asyncio.create_task(
            run_caller(
                SILENT_AFTER_MENU,
                host="127.0.0.1",
                port=bot.port,
                clock=clock,
                ear=PromptEar(bot.services.prompts),
                voice=CallerVoice(),
                call_id=call_id,
                call_timeout_s=90,
            )
        )
        # What the supervisor sees: the call, live, with the first answer stored.
        live = None
        for _ in range(300):
            calls = {c.call_id: c for c in await store.live_calls()}
            live = calls.get(call_id)
            if live is not None and "case_type" in live.slots:
                break
            await asyncio.sleep(0.1)
        assert live is not None and "case_type" in live.slots, "the call never showed up"
        assert "0911222333" not in repr(live)
        assert live.caller == ("•••••••333" if channel_known else "—")
        asked_at = time.monotonic()
        await store.request_handback(live.ticket_id, actor="giamsat")
        result = await caller
        asked_after_s = time.monotonic() - asked_at
        await clock.close()
        for _ in range(100):  # the session closes the ticket just after the hangup frame
            ticket = await store.get_ticket_for_call(call_id)
            if ticket is not None and ticket.end_reason is not None:
                break
            await asyncio.sleep(0.1)
        call_s, polls_at_end = time.monotonic() - call_started, watch.polls
        await asyncio.sleep(2.5)  # more than two polls: none comes with no call up
        reads = {
            "per_call": statements["handback_pending"],
            "polls": statements["pending_handbacks"],
            "polls_at_end": polls_at_end,
            "polls_after_end": watch.polls,
            "call_s": call_s,
            "still_polling": watch.polling,
            "watched": watch.watched,
        }
        turns = await store.list_turns(call_id)
        history = await store.list_history(live.ticket_id)
        pending = await store.handback_pending(call_id)
        return result, ticket, turns, history, dict(ami.variables), pending, asked_after_s, reads
