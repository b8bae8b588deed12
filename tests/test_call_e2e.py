"""Whole calls over real AudioSocket TCP against a real callbot: the offline Whisper model,
a real SQLite file, recordings on disk, and (for hand-back) an AMI peer that behaves like
Asterisk. Scripted callers hear which prompt the bot played and answer as a person would.

Calls run in real time (a call is one to three minutes), so every scenario of this module
runs concurrently in one batch; each test then checks its own call.
"""

from __future__ import annotations

import asyncio
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from callbot.simulation.caller import CallerResult, CallerVoice, check_ticket, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply, load_scripts
from callbot.tickets.model import CallEndReason, Speaker, Ticket, TicketStatus, Turn, TurnKind
from telephony.frame_clock import FrameClock

try:
    from ami_server import callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami
except ImportError:  # tests imported as a package
    from tests.ami_server import callbot_call_event
    from tests.callbot_harness import callbot_settings, callbot_with_ami

pytestmark = pytest.mark.slow

SCRIPTS = {s.name: s for s in load_scripts()}


def script(name: str, answers: dict[str, str], **expect: str) -> CallerScript:
    replies = {k: tuple(Reply.parse(v, k) for v in v.split("|")) for k, v in answers.items()}
    return CallerScript(name, replies, expect, expect_complete=False)


HUMAN_CALLER = script(
    "asks-for-human",
    {"ask_case_type": "keys:1", "ask_subject": "keys:0"},  # 0: a human, at any point
    case_type="essentials",
)


# No UserEvent ties this call to a channel, so the bot cannot hand it back even with an
# operator free: it must say so, keep collecting, and leave the ticket for a callback.
UNTRANSFERABLE_CALLER = script(
    "asks-for-human-unknown-channel",
    {
        "ask_case_type": "keys:1",
        "ask_subject": "keys:0|keys:1",
        "ask_place": "keys:3#",
        "ask_callback": "keys:0903456789#",
        "ask_household": "keys:5#",
        "ask_address": "say:dia_chi",
        "ask_name": "say:ho_ten",
        "ask_description": "say:mo_ta",
        "confirm": "keys:1",
    },
    case_type="essentials",
    place="Quận 3",
    callback_number="0903456789",
)


@dataclass
class Outcome:
    result: CallerResult
    ticket: Ticket | None
    turns: list[Turn]
    recordings_dir: Path
    ami_variables: dict[tuple[str, str], str] | None = None
    ami_monitors: dict[str, str] | None = None


@pytest.fixture(scope="module")
def outcomes(whisper_engine, tmp_path_factory) -> dict[str, Outcome]:
    tmp = tmp_path_factory.mktemp("calls")
    return asyncio.run(run_all(whisper_engine, tmp))


async def run_all(engine, tmp: Path) -> dict[str, Outcome]:
    settings = callbot_settings(tmp)
    settings.ami.mixmonitor_dir = "/var/spool/asterisk/monitor/callbot"
    async with callbot_with_ami(settings, engine) as (bot, ami):
        clock = FrameClock()
        ear = PromptEar(bot.services.prompts)
        voice = CallerVoice()
        human_call = str(uuid.uuid4())
        # The dialplan's UserEvent comes just before AudioSocket() connects.
        await ami.send_event(callbot_call_event(human_call, "Trần Văn Bình", "0911222333"))
        plans = [
            (SCRIPTS["keypad-essentials"], None),
            (SCRIPTS["speech-first"], None),
            (SCRIPTS["policy-keypad-correction"], None),
            (SCRIPTS["hangs-up-mid-sentence"], None),
            (SCRIPTS["silent-caller"], None),
            (HUMAN_CALLER, human_call),
            (UNTRANSFERABLE_CALLER, None),
        ]

        async def one(plan: CallerScript, call_id: str | None, delay: float) -> Outcome:
            await asyncio.sleep(delay)
            result = await run_caller(
                plan, host="127.0.0.1", port=bot.port, clock=clock, ear=ear, voice=voice,
                call_id=call_id,
            )  # fmt: skip
            await check_ticket(result, plan, bot.services.store)
            turns = await bot.services.store.list_turns(result.call_id)
            return Outcome(result, result.ticket, turns, Path(settings.recordings.dir))

        done = await asyncio.gather(*(one(p, c, i * 0.7) for i, (p, c) in enumerate(plans)))
        await clock.close()
        for outcome in done:  # as the store holds them now (routing runs after the call)
            outcome.ticket = await bot.services.store.get_ticket_for_call(outcome.result.call_id)
        outcomes = {o.result.script: o for o in done}
        outcomes["asks-for-human"].ami_variables = dict(ami.variables)
        outcomes["asks-for-human"].ami_monitors = dict(ami.monitors)
        return outcomes


def recording_seconds(outcome: Outcome) -> float:
    assert outcome.ticket is not None and outcome.ticket.recording_path
    with wave.open(str(outcome.recordings_dir / outcome.ticket.recording_path), "rb") as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 8000
        return wav.getnframes() / 8000


def test_keypad_call_gives_a_complete_ticket_with_the_exact_slots(outcomes):
    o = outcomes["keypad-essentials"]
    assert o.result.ok, o.result.mismatches or o.result.error
    t = o.ticket
    assert t is not None and t.complete and t.end_reason == CallEndReason.COMPLETED
    assert t.slots["case_type"].value == "essentials"
    assert t.slots["place"].value == "Quận 3"
    assert t.slots["callback_number"].value == "0903456789"
    assert t.slots["household_size"].value == "5"
    assert t.service_code == "essentials" and t.callback_number == "0903456789"
    assert t.status == TicketStatus.ROUTED and "Quận 3" in (t.agency_responsible or "")
    assert t.expected_datetime is not None  # the SLA of its case type
    assert o.result.ticket_heard == str(t.id)  # the bot read the ticket number out
    assert o.result.bot_hung_up  # it ended the call with a hangup frame
    assert [turn.seq for turn in o.turns] == list(range(len(o.turns)))
    assert [turn.at for turn in o.turns] == sorted(turn.at for turn in o.turns)  # in order
    keys = [i for i, turn in enumerate(o.turns) if turn.kind == TurnKind.KEYPAD]
    assert o.turns[keys[0] - 1].kind == TurnKind.PROMPT  # a key answers the prompt before it
    assert recording_seconds(o) > 30


def test_speech_call_reaches_readback_with_real_transcripts(outcomes):
    o = outcomes["speech-first"]
    heard_prompts = [p for turn in o.result.prompts_heard for p in turn]
    assert "confirm" in heard_prompts  # reached the readback
    speech = [t for t in o.turns if t.speaker == Speaker.CALLER and t.kind == TurnKind.SPEECH]
    assert speech and all(t.text.strip() for t in speech)
    assert all(t.confidence is not None and 0 <= t.confidence <= 1 for t in speech)
    assert all(t.start_ms is not None and t.end_ms > t.start_ms for t in speech)
    assert o.ticket is not None and o.ticket.slots["callback_number"].value == "0903456789"
    assert o.result.ok, o.result.mismatches


def test_correction_at_readback(outcomes):
    o = outcomes["policy-keypad-correction"]
    assert o.result.ok, o.result.mismatches or o.result.error
    assert o.ticket is not None and o.ticket.slots["place"].value == "Quận 10"
    heard = [p for turn in o.result.prompts_heard for p in turn]
    assert heard.count("confirm") == 2 and "which_field" in heard


def test_caller_hanging_up_mid_sentence_leaves_an_incomplete_ticket_and_recording(outcomes):
    o = outcomes["hangs-up-mid-sentence"]
    t = o.ticket
    assert t is not None and not t.complete and t.needs_callback
    assert t.end_reason == CallEndReason.CALLER_HANGUP
    assert t.slots["case_type"].value == "vulnerable"  # what was heard is kept
    assert recording_seconds(o) > 10


def test_silent_caller_is_ended_politely(outcomes):
    o = outcomes["silent-caller"]
    t = o.ticket
    assert t is not None and not t.complete and t.end_reason == CallEndReason.NO_INPUT
    assert o.result.bot_hung_up
    heard = [p for turn in o.result.prompts_heard for p in turn]
    assert "no_input_goodbye" in heard
    assert sum(1 for turn in o.turns if turn.kind == TurnKind.SILENCE) == 2


def test_a_hand_back_that_cannot_be_made_is_never_announced(outcomes):
    o = outcomes["asks-for-human-unknown-channel"]
    assert o.result.ok, o.result.mismatches or o.result.error
    heard = [p for turn in o.result.prompts_heard for p in turn]
    assert "handback_failed" in heard and "handback" not in heard
    assert heard.count("ask_subject") == 2  # asked again after the failed transfer
    t = o.ticket
    assert t is not None and t.end_reason == CallEndReason.COMPLETED
    assert not t.complete and t.needs_callback  # the callback the bot promised
    assert t.callback_number == "0903456789"
    events = [turn.text for turn in o.turns if turn.kind == TurnKind.EVENT]
    assert any(text.startswith("hand-back failed: channel unknown") for text in events)
    assert "handed back to operators" not in events


def test_asking_for_a_human_hands_back_with_the_callers_number(outcomes):
    o = outcomes["asks-for-human"]
    t = o.ticket
    assert t is not None and t.end_reason == CallEndReason.HANDED_BACK
    assert t.caller_number == "0911222333"  # from the AMI correlation
    assert o.result.bot_hung_up  # hangup frame: AudioSocket() returns to the dialplan
    assert o.ami_variables is not None
    assert o.ami_variables[("PJSIP/trunk-0000002a", "CALLBOT_HANDBACK")] == "1"
    heard = [p for turn in o.result.prompts_heard for p in turn]
    assert "handback" in heard
    assert o.ami_monitors is not None  # Asterisk-side recording started, named by the call
    assert o.ami_monitors["PJSIP/trunk-0000002a"].endswith(f"{o.result.call_id}.wav")
