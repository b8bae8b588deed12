"""A caller in an emergency, over real AudioSocket TCP against a real callbot (the offline
Whisper model, a real SQLite file) and an AMI peer that behaves like Asterisk with a free
operator: the bot hears the emergency in what the caller says, tells them the emergency
numbers, raises the ticket to the top priority and hands the call back at once.

The caller's words are espeak-ng speech rendered here, at the start of the test. Whisper
base reads espeak-ng Vietnamese badly (docs/performance.md); these short sentences are
ones whose word "cháy" (fire) it hears whatever the silence around them. The caller says
them to the open questions (two tries each) and answers the menus with keys, so a bot
that missed the emergency finishes the intake and the test fails on what it checks.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from callbot.simulation.caller import CallerVoice, check_ticket, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.speech.prompts import PromptLibrary
from callbot.speech.tts import EspeakTts
from callbot.tickets.model import CallEndReason, Priority, TurnKind
from telephony.frame_clock import FrameClock

try:
    from ami_server import callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami
except ImportError:  # tests imported as a package
    from tests.ami_server import callbot_call_event
    from tests.callbot_harness import callbot_settings, callbot_with_ami

pytestmark = pytest.mark.slow

# "There's a fire here", a few ways and speeds (words a minute): the ones Whisper base read
# with "cháy" under every pre-roll and trailing silence tried (0.1-0.3 s, 0.7-1.2 s).
CLIPS = {
    "fire_1": ("đây có cháy", 120),
    "fire_2": ("bây giờ có cháy", 140),
    "fire_3": ("có đám cháy", 100),
    "fire_4": ("trời ơi cháy", 100),
    "fire_5": ("bây giờ có cháy", 100),
    "fire_6": ("đây có cháy", 140),
}
CHANNEL = "PJSIP/trunk-0000002a"  # the channel callbot_call_event names


def caller_voice(folder: Path) -> CallerVoice:
    lines = ["[prompts]", *(f'{name} = "{text}"' for name, (text, _) in CLIPS.items())]
    (folder / "texts.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, (_, speed) in CLIPS.items():
        tts = EspeakTts(voice="vi", speed_wpm=speed, cache_dir=folder / "cache")
        PromptLibrary(folder, tts=tts).render_all(names=[name])
    return CallerVoice(folder)


def says(*names: str) -> tuple[Reply, ...]:
    return tuple(Reply("say", name) for name in names)


EMERGENCY_CALLER = CallerScript(
    "emergency",
    {
        # Keys for the menus; the emergency said to the open questions, which Whisper
        # decodes freely (a closed question's answer is cut to its voiced span first).
        "ask_case_type": (Reply("keys", "4"),),
        "ask_subject": (Reply("keys", "1"),),
        "ask_place": (Reply("keys", "3#"),),
        "ask_address": says("fire_1", "fire_2"),
        "ask_household": (Reply("keys", "2#"),),
        "ask_name": says("fire_3", "fire_4"),
        "ask_callback": (Reply("keys", "0903456789#"),),
        "ask_description": says("fire_5", "fire_6"),
        "confirm": (Reply("keys", "1"),),
    },
    expect={},
    expect_complete=False,  # handed back before the intake was finished
)


def test_an_emergency_caller_hears_the_numbers_and_is_handed_back_at_top_priority(
    whisper_engine, tmp_path: Path
) -> None:
    speech = tmp_path / "speech"
    speech.mkdir()
    voice = caller_voice(speech)
    outcome = asyncio.run(run_call(whisper_engine, tmp_path, voice))
    result, ticket, turns, variables = outcome
    assert not result.error, result.error
    heard = [p for turn in result.prompts_heard for p in turn]
    transcripts = [t.text for t in turns if t.kind == TurnKind.SPEECH]
    assert "emergency_numbers" in heard, (heard, transcripts)
    assert heard.index("emergency_numbers") < heard.index("handback")  # numbers first
    assert "confirm" not in heard  # handed back at once, not after the intake
    assert ticket is not None and ticket.priority is Priority.EMERGENCY
    assert ticket.slots["urgency"].value == "emergency"
    assert ticket.end_reason == CallEndReason.HANDED_BACK
    assert result.bot_hung_up  # the hangup frame: AudioSocket() returns to the dialplan
    assert variables[(CHANNEL, "CALLBOT_HANDBACK")] == "1"
    assert variables[(CHANNEL, "QUEUE_PRIO")] == "100"  # [ami] emergency_queue_prio: the top
    events = [t.text for t in turns if t.kind == TurnKind.EVENT]
    assert "handed back to operators" in events


async def run_call(engine, tmp: Path, voice: CallerVoice):
    settings = callbot_settings(tmp)
    async with callbot_with_ami(settings, engine) as (bot, ami):
        clock = FrameClock()
        call_id = str(uuid.uuid4())
        # The dialplan's UserEvent comes just before AudioSocket() connects.
        await ami.send_event(callbot_call_event(call_id, "Lê Thị Hoa", "0911222333"))
        result = await run_caller(
            EMERGENCY_CALLER, host="127.0.0.1", port=bot.port, clock=clock,
            ear=PromptEar(bot.services.prompts), voice=voice, call_id=call_id,
        )  # fmt: skip
        await check_ticket(result, EMERGENCY_CALLER, bot.services.store)
        await clock.close()
        ticket = await bot.services.store.get_ticket_for_call(call_id)
        turns = await bot.services.store.list_turns(call_id)
        return result, ticket, turns, dict(ami.variables)
