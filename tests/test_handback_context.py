"""Hand-back with context and the expected wait, against the AMI test peer over TCP: a
handed-back call (over a real AudioSocket connection, to a real callbot) carries its
ticket's details as channel variables; the queue's expected wait reaches a global; and the
sample dialplan in docs/asterisk/ is the one the code expects (names, sounds, the URL)."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.call.asterisk_link import HANDBACK_VARIABLE, AsteriskLink
from callbot.call.handback_context import (
    CONTEXT_VARIABLES,
    WAIT_MINUTES_VARIABLE,
    WAIT_SECONDS_VARIABLE,
    HandbackContext,
    QueueFigures,
    clean_value,
    expected_wait_s,
    wait_variables,
)
from callbot.config import AmiSettingsSection
from callbot.simulation.caller import CallerVoice, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from callbot.speech.asterisk_prompts import asterisk_sounds
from callbot.speech.prompts import PromptLibrary
from callbot.web.dashboard import PREFIX
from telephony.frame_clock import FrameClock

try:
    from ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, callbot_call_event
    from callbot_harness import callbot_settings, callbot_with_ami
except ImportError:
    from tests.ami_server import (
        AmiTestServer,
        FakeCaller,
        FakeMember,
        FakeQueue,
        callbot_call_event,
    )
    from tests.callbot_harness import callbot_settings, callbot_with_ami

ROOT = Path(__file__).resolve().parent.parent
ASTERISK_DOCS = ROOT / "docs" / "asterisk"
CHANNEL = "PJSIP/trunk-0000002a"  # the channel callbot_call_event reports
CALLER_NUMBER = "0911222333"


# ── the dialplan sample, read as Asterisk would ──────────────────────────────────────────


def contexts(conf: str) -> dict[str, list[str]]:
    """Context name → its lines (comments dropped)."""
    out: dict[str, list[str]] = {}
    current = ""
    for raw in conf.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            out[current] = []
        else:
            out.setdefault(current, []).append(line)
    return out


def app_args(line: str, app: str) -> list[str] | None:
    """The comma-separated arguments of ``app(…)`` on a line, respecting parentheses."""
    start = line.find(f"{app}(")
    if start < 0:
        return None
    depth, args, current = 0, [], ""
    for char in line[start + len(app) + 1 :]:
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            args.append(current)
            current = ""
        else:
            current += char
    return [*args, current]


DIALPLAN = (ASTERISK_DOCS / "extensions.conf").read_text(encoding="utf-8")
QUEUES = (ASTERISK_DOCS / "queues.conf").read_text(encoding="utf-8")
PLAN = contexts(DIALPLAN)


def test_the_dialplan_clears_every_context_variable_before_the_bot():
    hotline = PLAN["hotline"]
    audiosocket = next(i for i, line in enumerate(hotline) if "AudioSocket(" in line)
    for name in (HANDBACK_VARIABLE, *CONTEXT_VARIABLES):
        assert any(f"Set({name}=)" in line for line in hotline[:audiosocket]), name


def test_the_handback_queue_announces_the_ticket_and_sends_its_dashboard_page():
    hotline = PLAN["hotline"]
    queues = [args for line in hotline if (args := app_args(line, "Queue"))]
    assert len(queues) == 2  # before the bot, and the hand-back
    handback = queues[1]
    assert handback[3] == "${CALLBOT_ANNOUNCE}"  # announceoverride: played to the operator
    assert handback[2] == "${CALLBOT_URL}"
    url = next(line for line in hotline if "Set(CALLBOT_URL=${" in line)
    # The dashboard's ticket page, as callbot/web/dashboard routes it.
    assert f"{PREFIX}/tickets/${{CALLBOT_TICKET}}" in url
    gosub = re.fullmatch(r"b\((\w[\w-]*)\^s\^1\)", handback[1])
    assert gosub and gosub.group(1) in PLAN  # the operator channel's language
    assert any("Set(CHANNEL(language)=vi)" in line for line in PLAN[gosub.group(1)])


def test_every_callbot_variable_the_dialplan_reads_is_set_by_it_or_by_the_bot():
    set_here = set(re.findall(r"Set\((CALLBOT_\w+)=", DIALPLAN))
    set_here |= set(re.findall(r"^(CALLBOT_\w+)=", DIALPLAN, flags=re.M))  # [globals]
    by_bot = {HANDBACK_VARIABLE, *CONTEXT_VARIABLES, WAIT_MINUTES_VARIABLE}
    read = set(re.findall(r"\$\{(?:GLOBAL\()?(CALLBOT_\w+)", DIALPLAN))
    assert read <= set_here | by_bot, read - set_here - by_bot
    assert f"${{GLOBAL({WAIT_MINUTES_VARIABLE})}}" in DIALPLAN


def test_every_sound_the_samples_play_is_rendered_for_asterisk():
    sounds = asterisk_sounds(PromptLibrary())
    played = set(re.findall(r"Playback\(([\w/]+)\)", DIALPLAN))
    played |= set(re.findall(r"^\s*periodic-announce\s*=\s*([\w/]+)", QUEUES, flags=re.M))
    played.add(re.search(r"HANDBACK_TIMEOUT_SOUND=([\w/]+)", DIALPLAN).group(1))
    assert played and played <= set(sounds), played - set(sounds)
    for app_sound in ("queue-thereare", "queue-callswaiting", "queue-youarenext", "digits/20"):
        assert app_sound in sounds  # announce-position and SayNumber, in Vietnamese


def test_pressing_2_in_the_queue_reaches_the_bot():
    options = dict(
        (k.strip(), v.split(";")[0].strip())
        for k, v in (line.split("=", 1) for line in contexts(QUEUES)["support"] if "=" in line)
    )
    assert options["announce-position"] == "yes"
    assert options["periodic-announce"] == "callbot/offer_bot"
    assert 0 < int(options["periodic-announce-frequency"]) <= 60  # "after a short wait"
    keys = PLAN[options["context"]]
    assert [line for line in keys if line.startswith("exten => ")] == [keys[0]]
    assert keys[0].startswith("exten => 2,1,")  # only 2 leaves the queue
    assert any("Goto(hotline,1022,bot)" in line for line in keys)
    assert any("same => n(bot)," in line for line in PLAN["hotline"])


# ── the context's values ─────────────────────────────────────────────────────────────────


def test_the_announcement_reads_the_ticket_digit_by_digit():
    context = HandbackContext(402, "essentials", "Quận 3", "0903 456 789", "Nhà hết gạo")
    sounds = context.announcement().split("&")
    assert sounds[:4] == [
        "callbot/handback_ticket", "callbot/digit_4", "callbot/digit_0", "callbot/digit_2",
    ]  # fmt: skip
    assert sounds[4] == "callbot/case_essentials" and sounds[5].startswith("callbot/place_")
    assert set(sounds) <= set(asterisk_sounds(PromptLibrary()))
    values = dict(context.channel_variables())
    assert values["_CALLBOT_CALLBACK"] == "0903456789"
    assert values["_CALLBOT_SUMMARY"] == "Phiếu 402 · lương thực · Quận 3 · Nhà hết gạo"
    assert "0903" not in repr(context)  # personal data stays out of reprs and logs
    # No ticket (the store refused it): no announcement, nothing spoken wrong.
    assert HandbackContext(None).announcement() == ""


@given(st.text(max_size=400))
def test_any_text_becomes_one_short_line_ami_can_carry(text):
    value = clean_value(text)
    assert "\r" not in value and "\n" not in value and len(value) <= 120
    context = HandbackContext(7, text, text, text, text)
    for name, value in context.channel_variables():
        assert not re.search(r"[\x00-\x1f\x7f]", value), name
    assert "," not in context.announcement()  # it is one argument of Queue()


@given(
    st.integers(0, 50), st.integers(0, 50), st.integers(0, 200),
    st.none() | st.integers(0, 500), st.integers(0, 3000),
)  # fmt: skip
def test_the_expected_wait_is_bounded_and_never_invented(logged, free, waiting, answered, hold):
    figures = QueueFigures(logged, min(free, logged), waiting, answered, 600.0, hold)
    wait = expected_wait_s(figures)
    if logged == 0 or (not answered and hold == 0 and figures.available <= waiting):
        assert wait is None
    else:
        assert wait is not None and 0 <= wait <= 3600
    minutes, seconds = (value for _, value in wait_variables(wait))
    assert (minutes == "") == (wait is None) == (seconds == "")
    if wait:
        assert int(minutes) * 60 >= wait  # rounded up: never a promise shorter than it is


def test_more_callers_ahead_means_a_longer_wait():
    waits = [expected_wait_s(QueueFigures(2, 0, n, 10, 600.0)) for n in range(5)]
    assert waits == sorted(waits) and waits[0] == 60 and waits[4] == 300
    assert expected_wait_s(QueueFigures(2, 1, 0, None, 600.0)) == 0  # someone is free


async def test_the_expected_wait_reaches_a_global_and_follows_the_queue():
    queue = FakeQueue(
        "support",
        members=[FakeMember("Tổng đài viên 1", "PJSIP/op1", status=2, in_call=True)],
        ringinuse=False,
    )
    queue.holdtime = 150
    async with AmiTestServer(queues=[queue]) as ami:
        link = AsteriskLink(
            AmiSettingsSection(enabled=True, port=ami.port, secret=ami.secret), wait_refresh_s=0.1
        )
        await link.start()
        try:
            await until(lambda: ami.variable("", WAIT_SECONDS_VARIABLE) == "150")
            assert ami.variable("", WAIT_MINUTES_VARIABLE) == "3"  # 2.5 min, rounded up
            sets = len(ami.actions_named("Setvar"))
            await asyncio.sleep(0.35)
            assert len(ami.actions_named("Setvar")) == sets  # unchanged: nothing re-sent
            await ami.set_member_status("support", "PJSIP/op1", 1)  # the operator frees up
            await until(lambda: ami.variable("", WAIT_MINUTES_VARIABLE) == "0")
            # Asterisk restarts (globals lost): the figure is sent again after the login.
            await ami.drop_clients()
            ami.variables.clear()
            await until(lambda: ami.variable("", WAIT_MINUTES_VARIABLE) == "0", timeout=10)
            assert all(not a.get("Channel") for a in ami.actions_named("Setvar"))
        finally:
            await link.stop()


async def until(check, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


# ── a whole call, handed back ────────────────────────────────────────────────────────────

WANTS_A_PERSON = CallerScript(
    "asks-for-human-after-place",
    {
        "ask_case_type": (Reply.parse("keys:1", "ask_case_type"),),
        "ask_subject": (Reply.parse("keys:1", "ask_subject"),),
        "ask_place": (Reply.parse("keys:3#", "ask_place"),),
        "ask_address": (Reply.parse("keys:0", "ask_address"),),  # 0: a person, now
    },
    {},
    expect_complete=False,
)


@pytest.mark.slow
async def test_a_handed_back_call_carries_its_ticket_to_the_operator(
    whisper_engine, tmp_path: Path, caplog
):
    # INFO: what a deployment logs. (telephony/correlation.py's DEBUG line still prints
    # the caller's number; reported, not this module's to change.)
    caplog.set_level(logging.INFO)
    settings = callbot_settings(tmp_path)
    async with callbot_with_ami(settings, whisper_engine) as (bot, ami):
        call_id = str(uuid.uuid4())
        await ami.send_event(callbot_call_event(call_id, "Trần Văn Bình", CALLER_NUMBER))
        clock = FrameClock()
        try:
            result = await run_caller(
                WANTS_A_PERSON, host="127.0.0.1", port=bot.port, clock=clock,
                ear=PromptEar(bot.services.prompts), voice=CallerVoice(), call_id=call_id,
            )  # fmt: skip
        finally:
            await clock.close()
        ticket = await bot.services.store.get_ticket_for_call(call_id)
    assert result.bot_hung_up and ticket is not None
    assert ami.variable(CHANNEL, HANDBACK_VARIABLE) == "1"
    assert ami.variable(CHANNEL, "CALLBOT_TICKET") == str(ticket.id)
    assert ami.variable(CHANNEL, "CALLBOT_CASE") == "essentials"
    assert ami.variable(CHANNEL, "CALLBOT_PLACE") == "Quận 3"
    assert ami.variable(CHANNEL, "CALLBOT_CALLBACK") == CALLER_NUMBER  # the number called from
    assert "lương thực" in (ami.variable(CHANNEL, "CALLBOT_SUMMARY") or "")
    announce = (ami.variable(CHANNEL, "CALLBOT_ANNOUNCE") or "").split("&")
    digits = [f"callbot/digit_{d}" for d in str(ticket.id)]
    assert announce[: 1 + len(digits)] == ["callbot/handback_ticket", *digits]
    assert set(announce) <= set(asterisk_sounds(bot.services.prompts))
    # The channel Queue() makes to ring the operator inherits the details (a member Gosub
    # or the operator's phone can read them); the flag itself stays on the caller's side.
    inherited = ami.inherited(CHANNEL)
    assert inherited["CALLBOT_TICKET"] == str(ticket.id) and HANDBACK_VARIABLE not in inherited
    # Every detail set before the flag the dialplan tests once AudioSocket() returns.
    order = [a.get("Variable") for a in ami.actions_named("Setvar") if a.get("Channel")]
    assert order[-1] == HANDBACK_VARIABLE
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("callbot", "telephony"))
    )
    assert "handed back with ticket" in ours
    assert CALLER_NUMBER not in ours and "Quận 3" not in ours


def test_the_test_peer_reads_variables_as_asterisk_does():
    ami = AmiTestServer(queues=[FakeQueue("support", callers=[FakeCaller(CHANNEL)])])
    ami.variables[(CHANNEL, "_CALLBOT_TICKET")] = "12"
    ami.variables[(CHANNEL, "__CALLBOT_DEEP")] = "x"
    ami.variables[(CHANNEL, "CALLBOT_HANDBACK")] = "1"
    assert ami.variable(CHANNEL, "CALLBOT_TICKET") == "12"
    assert ami.inherited(CHANNEL) == {"CALLBOT_TICKET": "12", "__CALLBOT_DEEP": "x"}


# ── an emergency hand-back goes to the top of the queue (issue 17) ───────────────────────


@pytest.mark.parametrize("urgency", ["emergency", "urgent"])
async def test_an_emergency_hand_back_sets_the_top_queue_priority_first(urgency, tmp_path: Path):
    from callbot.call.handback_context import QUEUE_PRIO_VARIABLE
    from callbot.tickets.model import CallRecord, SlotSource, SlotValue, utcnow
    from callbot.tickets.store.factory import open_store
    from telephony.correlation import CallerInfo

    store = await open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    call_id = str(uuid.uuid4())
    await store.begin_call(CallRecord(call_id, utcnow()))
    await store.set_slot(call_id, SlotValue("urgency", urgency, SlotSource.SPEECH, 1.0))
    async with AmiTestServer(queues=[FakeQueue("support")]) as ami:
        settings = AmiSettingsSection(
            enabled=True, port=ami.port, secret=ami.secret, emergency_queue_prio=50
        )
        link = AsteriskLink(settings, tickets=store)
        await link.start()
        try:
            await asyncio.wait_for(ami.logged_in.wait(), 10)
            assert await link.hand_back(call_id, CallerInfo(call_id, channel=CHANNEL))
        finally:
            await link.stop()
            await store.close()
    order = [a.get("Variable") for a in ami.actions_named("Setvar") if a.get("Channel")]
    assert order[-1] == HANDBACK_VARIABLE  # the flag the dialplan tests, after everything
    if urgency == "emergency":
        assert ami.variable(CHANNEL, QUEUE_PRIO_VARIABLE) == "50"
        assert QUEUE_PRIO_VARIABLE not in ami.inherited(CHANNEL)  # the operator's leg: no
    else:  # only the top level jumps the line: an urgent caller keeps HANDBACK_PRIO
        assert QUEUE_PRIO_VARIABLE not in order


def test_the_dialplan_keeps_the_bots_higher_queue_priority_at_hand_back():
    hotline = PLAN["hotline"]
    handback = next(line for line in hotline if "(handback)" in line)
    assert "QUEUE_PRIO=${IF($[${QUEUE_PRIO} > ${HANDBACK_PRIO}]" in handback
    start = next(i for i, line in enumerate(hotline) if "Set(QUEUE_PRIO=0)" in line)
    assert start < next(i for i, line in enumerate(hotline) if "AudioSocket(" in line)
