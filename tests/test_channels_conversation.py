"""The channel-neutral conversation service: the phone intake's dialog driven by text, its
state persisted after every message, on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ivr
from callbot.call.dialog import DialogState, Phase, Pressed, Silence
from callbot.channels.conversation import ConversationService, event_from_text
from callbot.channels.state_codec import StateFormatError, decode, encode
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import CallEndReason, Channel, SlotSource, SlotValue, Speaker, utcnow
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_conversations import ConversationConflict, ConversationStore

try:
    from ticket_helpers import TYPED_INTAKE_CORRECTED
except ImportError:  # tests imported as a package
    from tests.ticket_helpers import TYPED_INTAKE_CORRECTED

pytest_plugins = ["conftest_store"]

PROMPTS = PromptLibrary(Path(__file__).resolve().parent.parent / "prompts")

LINES = TYPED_INTAKE_CORRECTED


def service(store) -> ConversationService:
    return ConversationService(store, PROMPTS.text_of, ivr.SCRIPT)


def assert_phone_call_slots(ticket) -> None:
    """The slots tests/test_chat.py (and so a phone call answered alike) gives."""
    assert ticket.complete and not ticket.needs_callback
    assert ticket.slots["case_type"].value == "essentials"
    assert ticket.slots["subject"].value == "self"
    assert ticket.slots["place"].value == "Phường Bến Thành"
    assert ticket.slots["callback_number"].value == "0912345678"
    assert ticket.slots["household_size"].value == "4"
    assert "14" in ticket.slots["address"].value  # the corrected value won
    assert ticket.service_code == "essentials" and ticket.callback_number == "0912345678"


async def test_a_whole_intake_by_text_files_the_phone_calls_ticket(store):
    talk = service(store)
    replies = [await talk.receive(Channel.WEB_CHAT, "u1", event_from_text(x)) for x in LINES]
    assert all(not r.done for r in replies[:-1]) and replies[-1].done
    # The first message answered the first question: the opening is not sent again.
    assert not any("Xin chào" in m for m in replies[0].messages)
    assert any("Xin nhắc lại thông tin" in m for m in replies[-4].messages)
    assert str(replies[-1].ticket_id) in " ".join(replies[-1].messages).replace(" ", "")
    ticket = await store.get_ticket(replies[-1].ticket_id)
    assert ticket.channel is Channel.WEB_CHAT
    assert ticket.end_reason is CallEndReason.COMPLETED
    assert_phone_call_slots(ticket)
    turns = await store.list_turns(ticket.call_id)
    assert [t.seq for t in turns] == list(range(len(turns)))
    assert turns[0].speaker is Speaker.BOT and "Xin chào" in turns[0].text  # greeting stored
    assert [t.text for t in turns if t.speaker is Speaker.CALLER] == [
        "nhà tôi hết gạo rồi", "1", "phường bến thành", "số 12 đường lê lợi",
        "nhà có bốn người", "tôi tên là trần thị mai",
        "không chín một hai ba bốn năm sáu bảy tám", "cả nhà mất việc", "sai địa chỉ",
        "số 14 đường lê lợi", "đúng rồi",
    ]  # fmt: skip


async def test_a_restart_mid_conversation_loses_nothing(store_url):
    async with open_store(store_url) as first:
        for line in LINES[:5]:
            reply = await service(first).receive(Channel.ZALO, "u2", event_from_text(line))
    async with open_store(store_url) as second:  # another process, hours later
        # What `callbot serve` does at start on SQLite: every open phone call is stale.
        assert await second.end_stale_calls(utcnow()) == []  # a paused chat is not
        talk = service(second)
        view = await talk.view(Channel.ZALO, "u2")
        assert [line.text for line in view.lines if line.speaker is Speaker.CALLER] == LINES[:5]
        for line in LINES[5:]:
            last = await talk.receive(Channel.ZALO, "u2", event_from_text(line))
        assert last.done and last.ticket_id == reply.ticket_id
        assert_phone_call_slots(await second.get_ticket(last.ticket_id))


async def test_menus_come_as_buttons_and_a_greeting_is_not_a_failed_answer(store):
    talk = service(store)
    opening = talk.opening()
    assert [b.value for b in opening.buttons] == ["1", "2", "3", "4"]
    reply = await talk.receive(Channel.WEB_CHAT, "u3", event_from_text("xin chào"))
    assert "Xin chào" in reply.messages[0] and len(reply.buttons) == 4
    stored = await ConversationStore(store).load("web_chat", "u3")
    state, _ = decode(stored.state)
    assert state.speech_failures == 0  # "xin chào" before seeing the menu is not a try
    reply = await talk.receive(Channel.WEB_CHAT, "u3", Pressed("2"))  # a tapped button
    assert next(b.label for b in reply.buttons) == "Bản thân"
    ticket = await store.get_ticket(reply.ticket_id)
    assert ticket.slots["case_type"].value == "support_policy"
    assert ticket.slots["case_type"].source is SlotSource.KEYPAD


async def test_a_repeated_event_is_handled_once(store):
    talk = service(store)
    first = await talk.receive(Channel.ZALO, "u4", event_from_text("1"), event_id="m-1")
    again = await talk.receive(Channel.ZALO, "u4", event_from_text("1"), event_id="m-1")
    assert again.duplicate and again.messages == ()
    turns = await store.list_turns((await store.get_ticket(first.ticket_id)).call_id)
    assert [t.text for t in turns if t.speaker is Speaker.CALLER] == ["1"]


async def test_a_save_over_a_newer_version_is_refused(store):
    talk = service(store)
    await talk.receive(Channel.ZALO, "u5", event_from_text("1"))
    conversations = ConversationStore(store)
    stale = await conversations.load("zalo", "u5")
    await talk.receive(Channel.ZALO, "u5", event_from_text("2"))  # another process answered
    with pytest.raises(ConversationConflict):
        await conversations.save(stale, expected_version=stale.version)
    assert (await conversations.load("zalo", "u5")).version == stale.version + 1


async def test_leaving_or_going_idle_ends_the_ticket_for_a_callback(store):
    talk = service(store)
    left = await talk.receive(Channel.ZALO, "u6", event_from_text("1"))
    ticket = await talk.hang_up(Channel.ZALO, "u6", "unfollow")
    assert ticket.id == left.ticket_id and ticket.needs_callback and not ticket.complete
    assert await talk.hang_up(Channel.ZALO, "u6") is None  # nothing open any more
    idle = await talk.receive(Channel.WEB_CHAT, "u7", event_from_text("1"))
    assert await talk.end_idle(utcnow() - timedelta(hours=1)) == []  # written to just now
    assert await talk.end_idle(utcnow() + timedelta(seconds=1)) == [idle.ticket_id]
    ended = await store.get_ticket(idle.ticket_id)
    assert ended.end_reason is CallEndReason.NO_INPUT and ended.needs_callback
    again = await talk.receive(Channel.WEB_CHAT, "u7", event_from_text("2"))
    assert again.ticket_id != idle.ticket_id  # a new request, a new ticket


def test_event_from_text():
    assert isinstance(event_from_text("  "), Silence)
    assert event_from_text("0903456789#") == Pressed("0903456789")
    assert event_from_text("#") == Pressed("#")
    assert event_from_text("quận 3").text == "quận 3"


slot_values = st.builds(
    SlotValue,
    name=st.sampled_from(["case_type", "place", "callback_number"]),
    value=st.text(max_size=30),
    source=st.sampled_from(list(SlotSource)),
    confidence=st.floats(0, 1),
    heard=st.text(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(
    phase=st.sampled_from(list(Phase)),
    index=st.integers(0, 20),
    flags=st.lists(st.booleans(), min_size=6, max_size=6),
    offered=st.sets(st.text(max_size=10), max_size=3),
    slots=st.lists(slot_values, max_size=3),
    missing=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
    seq=st.integers(0, 10_000),
)
def test_the_state_survives_json(phase, index, flags, offered, slots, missing, seq):
    state = DialogState(phase=phase, index=index, offered=offered, missing=missing)
    state.keypad_only, state.correcting, state.human_requested = flags[:3]
    state.callback_promised, state.handing_back, state.offering = flags[3:]
    state.slots = {slot.name: slot for slot in slots}
    assert decode(encode(state, seq)) == (state, seq)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=50).map(repr)))
def test_a_damaged_state_is_refused_cleanly(text):
    with contextlib.suppress(StateFormatError):
        decode(text)


@pytest.mark.parametrize(
    "damaged",
    [
        '{"format": 2, "seq": 0}',
        '{"format": 1}',
        '{"format": 1, "seq": 0, "phase": "nowhere"}',
        '{"format": 1, "seq": 0, "index": "3"}',
        '{"format": 1, "seq": 0, "from_the_future": 1}',
        '{"format": 1, "seq": 0, "slots": {"place": [1]}}',
        '{"format": 1, "seq": 0, "said": 5}',
    ],
)
def test_damaged_states_named(damaged):
    with pytest.raises(StateFormatError):
        decode(damaged)


async def test_a_finished_conversation_keeps_no_personal_data(store):
    talk = service(store)
    for line in LINES:
        last = await talk.receive(Channel.WEB_CHAT, "u8", event_from_text(line))
    assert last.done
    stored = await ConversationStore(store).load("web_chat", "u8")
    state, seq = decode(stored.state)
    assert state.slots == {} and seq > 0
    assert "0912345678" not in stored.state and "Mai" not in stored.state
    view = await talk.view(Channel.WEB_CHAT, "u8")  # the transcript is the ticket's turns
    assert view.done and view.ticket_id == last.ticket_id and view.buttons == ()


async def test_housekeeping_ends_requests_idle_for_two_days(store):
    now = [utcnow()]
    talk = ConversationService(store, PROMPTS.text_of, ivr.SCRIPT, clock=lambda: now[0])
    left = await talk.receive(Channel.ZALO, "u9", event_from_text("1"), event_id="e-1")
    now[0] += timedelta(days=8)  # 48 h idle, and the event id is older than a week
    other = await talk.receive(Channel.ZALO, "u10", event_from_text("1"))
    ticket = await store.get_ticket(left.ticket_id)
    assert ticket.end_reason is CallEndReason.NO_INPUT and ticket.needs_callback
    assert not (await store.get_ticket(other.ticket_id)).end_reason  # the new one is open
    assert not await ConversationStore(store).seen_event("zalo", "e-1")
