"""Status by phone (issue 18) over real AudioSocket TCP against a real callbot: the offline
Whisper model, a real SQLite file, recordings on disk, and an AMI peer that behaves like
Asterisk (its UserEvent gives the caller's number).

The first request is filed through the store's call-path writes (the ones a call makes),
then routed. Two calls run at once:
- a second call from the same number hears the status (ticket number, agency, status),
  keys 1 and says one sentence: that addition lands on the first ticket as a note, and
  the call's own ticket (recording and transcript kept) is closed as linked to it;
- a caller without caller ID keys the first ticket's number and a callback number that is
  not its own: "not found", nothing of the ticket read out, then the intake.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from callbot.simulation.caller import CallerVoice, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.tickets.model import TicketStatus, TurnKind
from callbot.web.dashboard.accounts_store import AccountStore
from telephony.frame_clock import FrameClock

try:
    from ami_server import callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami
    from ticket_helpers import call_ticket
except ImportError:  # tests imported as a package
    from tests.ami_server import callbot_call_event
    from tests.callbot_harness import callbot_settings, callbot_with_ami
    from tests.ticket_helpers import call_ticket

pytestmark = pytest.mark.slow

NUMBER = "0911222333"  # the caller's own number (caller ID), also on the first ticket
AGENCY = "Ủy ban nhân dân Phường Bàn Cờ"

RETURNING = CallerScript(
    "returning-caller",
    {
        "status_menu": (Reply("keys", "1"),),
        "status_ask_addition": (Reply("say", "mo_ta"),),
        "ask_case_type": (Reply("hangup"),),  # only if the addition was never heard
    },
    expect_complete=False,
)


def keyed_caller(ticket_id: int) -> CallerScript:
    return CallerScript(
        "keys-someone-elses-ticket",
        {
            "status_offer_keyed": (Reply("keys", f"{ticket_id}#"),),
            "status_ask_keyed_callback": (Reply("keys", "0988777666#"),),  # not its number
            "ask_case_type": (Reply("hangup"),),
        },
        expect_complete=False,
    )


def test_a_returning_caller_hears_the_status_and_adds_to_the_first_ticket(
    whisper_engine, tmp_path: Path
) -> None:
    out = asyncio.run(run_calls(whisper_engine, tmp_path))
    first, returning, keyed = out["first"], out["returning"], out["keyed"]

    heard = [p for turn in returning["result"].prompts_heard for p in turn]
    assert not returning["result"].error, returning["result"].error
    assert "status_intro" in heard and "status_menu" in heard
    at = heard.index("status_intro")
    assert "".join(p[6:] for p in heard[at + 1 :] if p.startswith("digit_")).startswith(
        str(first.id)
    )  # "Yêu cầu số <first>", read before anything else is asked
    assert "status_routed" in heard and "status_added" in heard
    assert "ask_case_type" not in heard  # no second intake
    # The addition is a note on the first ticket, in the caller's words as transcribed.
    notes = out["notes"]
    assert len(notes) == 1 and notes[0].actor == "caller"
    addition = returning["ticket"].slots["addition"].value
    assert addition and addition in notes[0].text
    # The call's own ticket: linked, closed, out of the callback queue, nothing lost.
    own = returning["ticket"]
    assert own.slots["follow_up_of"].value == str(first.id)
    assert own.status is TicketStatus.CLOSED and not own.needs_callback
    assert own.status_notes == f"follow-up of ticket {first.id}"
    assert own.recording_path and (tmp_path / "recordings" / own.recording_path).exists()
    speech = [t.text for t in returning["turns"] if t.kind == TurnKind.SPEECH]
    assert addition in speech
    assert out["first_after"].status is TicketStatus.ROUTED  # the request goes on as it was

    # Without caller ID, a ticket number keyed with another callback number: nothing.
    heard = [p for turn in keyed["result"].prompts_heard for p in turn]
    assert not keyed["result"].error, keyed["result"].error
    assert "status_not_found" in heard
    assert not {"status_intro", "status_menu", "status_routed"} & set(heard)
    assert heard.index("status_not_found") < heard.index("ask_case_type")
    bot_said = " ".join(t.text for t in keyed["turns"] if t.kind == TurnKind.PROMPT)
    assert AGENCY not in bot_said and "Yêu cầu số" not in bot_said


async def run_calls(engine, tmp: Path) -> dict:
    settings = callbot_settings(tmp)
    async with callbot_with_ami(settings, engine, operator_status=0) as (bot, ami):
        store = bot.services.store
        # The city's script, with keyed ticket numbers on (ivr.py leaves them off).
        assert bot.services.caller_line is not None
        bot.services.caller_line = replace(bot.services.caller_line, by_ticket_number=True)
        first = await call_ticket(store, caller_number=NUMBER)
        first = await store.set_routing(first.id, AGENCY, "committee", None)
        clock = FrameClock()
        ear = PromptEar(bot.services.prompts)
        voice = CallerVoice()
        returning_call = str(uuid.uuid4())
        await ami.send_event(callbot_call_event(returning_call, "Lê Thị Hoa", NUMBER))

        async def call(plan: CallerScript, call_id: str | None, delay: float) -> dict:
            await asyncio.sleep(delay)
            result = await run_caller(
                plan, host="127.0.0.1", port=bot.port, clock=clock, ear=ear, voice=voice,
                call_id=call_id,
            )  # fmt: skip
            return {"result": result}

        returning, keyed = await asyncio.gather(
            call(RETURNING, returning_call, 0.0), call(keyed_caller(first.id), None, 0.5)
        )
        await clock.close()
        for done in (returning, keyed):
            call_id = done["result"].call_id
            for _ in range(50):  # the after-call step runs as the session ends
                ticket = await store.get_ticket_for_call(call_id)
                if ticket is not None and ticket.end_reason is not None:
                    break
                await asyncio.sleep(0.1)
            done["turns"] = await store.list_turns(call_id)
        await asyncio.sleep(0.5)
        for done in (returning, keyed):
            done["ticket"] = await store.get_ticket_for_call(done["result"].call_id)
        return {
            "first": first,
            "first_after": await store.get_ticket(first.id),
            "returning": returning,
            "keyed": keyed,
            "notes": await AccountStore(store).list_notes(first.id),
        }
