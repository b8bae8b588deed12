"""May we text you? (issue 18): the question at readback (real ivr.py script, real NLU, no
audio), and the answer on the ticket after the call through the real store (SQLite and
PostgreSQL): yes queues the receipt when the ticket is routed; no or no answer sends nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_dialog import KEYPAD_ANSWERS, asked, slots_set
from ticket_helpers import T0, call_ticket

import ivr
from callbot.call.consent import ConsentQuestion, after_intake, caller_line
from callbot.call.dialog import Dialog, End, Heard, Pressed, Silence
from callbot.config import Settings
from callbot.tickets.model import SlotSource, SlotValue

pytest_plugins = ["conftest_store"]


def through_readback(consent: bool):
    dialog = Dialog(ivr.SCRIPT, ticket_id=7, consent=ConsentQuestion() if consent else None)
    actions = dialog.start()
    for _ in range(40):
        question = asked(actions)
        if question == "confirm":
            return dialog, dialog.handle(Pressed("1"))
        actions = dialog.handle(KEYPAD_ANSWERS[question])
    raise AssertionError("no readback")


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        (Pressed("1"), "yes"),
        (Pressed("2"), "no"),
        (Heard("có", 0.9), "yes"),
        (Heard("dạ không cần", 0.9), "no"),
    ],
)
def test_the_answer_is_a_slot_then_the_goodbye_of_a_complete_ticket(answer, stored):
    dialog, actions = through_readback(consent=True)
    assert asked(actions) == "ask_notify_consent"
    actions = dialog.handle(answer)
    assert slots_set(actions) == {"notify_consent": stored}
    assert actions[-1] == End(actions[-1].reason, True)  # still the complete goodbye


def test_silence_or_two_unclear_answers_store_nothing():
    dialog, _ = through_readback(consent=True)
    actions = dialog.handle(Silence())
    assert "notify_consent" not in slots_set(actions) and isinstance(actions[-1], End)
    dialog, _ = through_readback(consent=True)
    assert asked(dialog.handle(Pressed("5"))) == "ask_notify_consent"
    actions = dialog.handle(Heard("gì cơ", 0.9))
    assert "notify_consent" not in dialog.state.slots and isinstance(actions[-1], End)


def test_no_channel_no_question():
    _, actions = through_readback(consent=False)
    assert asked(actions) is None and isinstance(actions[-1], End)


def test_the_question_is_asked_only_when_notify_is_enabled():
    settings = Settings()
    assert caller_line(settings, ivr.SCRIPT).notify_channel is None
    settings.notify.enabled = True
    assert caller_line(settings, ivr.SCRIPT).notify_channel == "sms"
    settings.notify.zns_receipt_template = "r"
    settings.notify.zns_resolution_template = "s"
    assert caller_line(settings, ivr.SCRIPT).notify_channel == "zns"


EXPECTED = T0 + timedelta(days=2)


async def answered(store, value: str | None):
    ticket = await call_ticket(store)
    if value is not None:
        slot = SlotValue("notify_consent", value, SlotSource.KEYPAD, 1.0, "1")
        await store.set_slot(ticket.call_id, slot)
    return await store.get_ticket(ticket.id)


async def test_yes_is_stored_before_routing_so_the_receipt_is_queued(store):
    ticket = await answered(store, "yes")
    routed = []

    async def route(t):
        routed.append(t.id)
        await store.set_routing(t.id, "UBND Q3", "committee", EXPECTED)

    await after_intake(store, route, "sms")(ticket)
    stored = await store.get_ticket(ticket.id)
    assert stored.notify_consent is True and stored.notify_channel == "sms"
    assert routed == [ticket.id]
    messages = await store.list_notifications(ticket_id=ticket.id)
    assert [str(m.event) for m in messages] == ["receipt"]


@pytest.mark.parametrize("value", ["no", None])
async def test_no_or_no_answer_sends_nothing(store, value):
    ticket = await answered(store, value)

    async def route(t):
        await store.set_routing(t.id, "UBND Q3", "committee", EXPECTED)

    await after_intake(store, route, "sms")(ticket)
    stored = await store.get_ticket(ticket.id)
    assert stored.notify_consent is (False if value == "no" else None)
    assert await store.list_notifications(ticket_id=ticket.id) == []


async def test_without_a_channel_the_slot_is_not_taken_as_consent(store):
    ticket = await answered(store, "yes")
    await after_intake(store, None, None)(ticket)
    assert (await store.get_ticket(ticket.id)).notify_consent is None
