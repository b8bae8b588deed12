"""Status by phone (issue 18): the status line as the dialog runs it (real ivr.py script, no
audio), the store's look-ups on a real SQLite file and a real PostgreSQL schema, and the
after-call link of a follow-up to its first ticket."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from test_dialog import asked
from ticket_helpers import call_ticket

import ivr
from callbot.call.consent import after_intake
from callbot.call.dialog import (
    Ask,
    Dialog,
    Digits,
    End,
    HandBack,
    Heard,
    Pressed,
    Prompt,
    Say,
    SetSlot,
    Silence,
    Text,
)
from callbot.call.status_line import (
    ADD,
    NEW,
    OPERATOR,
    CallerLine,
    StatusLine,
    opening,
    respond,
    status_pieces,
    understand_menu,
)
from callbot.tickets.model import EventKind, Ticket, TicketStatus
from callbot.tickets.service_requests import PERSONAL_SLOTS
from callbot.tickets.store.sql_callers import number_forms, same_number
from callbot.web.dashboard.accounts_store import AccountStore

pytest_plugins = ["conftest_store"]


def open_ticket(**fields) -> Ticket:
    defaults = dict(
        id=42,
        call_id="c1",
        channel="voice",
        status=TicketStatus.ROUTED,
        complete=True,
        agency_responsible="Ủy ban nhân dân Phường Bàn Cờ",
        requested_datetime=datetime(2026, 11, 29, 20, 0, tzinfo=UTC),  # 30/11 in Hồ Chí Minh
        callback_number="0903456789",
    )
    return Ticket(**{**defaults, **fields})


def prompts_of(actions) -> list[str]:
    return [
        p.name
        for a in actions
        if isinstance(a, Say | Ask)
        for p in a.pieces
        if isinstance(p, Prompt)
    ]


def vn_time():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


# ── what is read out ──


def test_the_status_names_number_day_agency_and_status_and_nothing_personal():
    pieces = status_pieces(open_ticket(), vn_time())
    assert Digits("42") in pieces
    assert Text("30 tháng 11") in pieces  # the city's day, not UTC's
    assert Text("Ủy ban nhân dân Phường Bàn Cờ") in pieces
    assert Prompt("status_routed") in pieces
    said = " ".join(str(p) for p in pieces)
    assert "0903456789" not in said  # no number, name or address is ever read out


def test_a_ticket_not_yet_routed_is_waiting_for_an_agency():
    pieces = status_pieces(open_ticket(status=TicketStatus.NEW, agency_responsible=None), UTC)
    assert Prompt("status_waiting") in pieces and Prompt("status_new") in pieces


def test_every_status_prompt_the_line_can_say_exists():
    from callbot.speech.prompts import PromptLibrary

    texts = PromptLibrary(ivr_prompts_dir()).texts
    for status in ("new", "routed", "accepted", "in_progress"):
        assert f"status_{status}" in texts
    for name in ("status_menu", "status_added", "status_not_found", "ask_notify_consent"):
        assert texts[name]


def ivr_prompts_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "prompts"


# ── the menu ──


def dialog_with(line: StatusLine, operator: bool = False) -> Dialog:
    return Dialog(ivr.SCRIPT, ticket_id=77, opening=line, operator_available=lambda: operator)


def test_a_caller_with_an_open_ticket_hears_its_status_then_the_menu():
    dialog = dialog_with(StatusLine(open_ticket()))
    actions = dialog.start()
    assert prompts_of(actions)[:2] == ["greeting", "status_intro"]
    assert asked(actions) == "status_menu"


def test_adding_information_is_stored_as_a_follow_up_and_ends_the_call():
    dialog = dialog_with(StatusLine(open_ticket()))
    dialog.start()
    assert asked(dialog.handle(Pressed("1"))) == "status_ask_addition"
    actions = dialog.handle(Heard("nhà tôi có thêm hai người già", 0.8))
    slots = {a.slot.name: a.slot.value for a in actions if isinstance(a, SetSlot)}
    assert slots == {"follow_up_of": "42", "addition": "nhà tôi có thêm hai người già"}
    assert prompts_of(actions) == ["status_added", "goodbye_end"]
    assert Digits("42") in next(a for a in actions if isinstance(a, Say)).pieces
    end = actions[-1]
    assert isinstance(end, End) and not end.complete and dialog.done


def test_a_new_request_goes_on_with_the_intake():
    dialog = dialog_with(StatusLine(open_ticket()))
    dialog.start()
    assert asked(dialog.handle(Heard("tôi muốn gửi yêu cầu mới", 0.8))) == "ask_case_type"
    assert dialog.aside is None


def test_the_operator_option_hands_back_or_says_nobody_is_free_and_asks_again():
    dialog = dialog_with(StatusLine(open_ticket()), operator=True)
    dialog.start()
    assert any(isinstance(a, HandBack) for a in dialog.handle(Pressed("2")))
    dialog = dialog_with(StatusLine(open_ticket()), operator=False)
    dialog.start()
    actions = dialog.handle(Pressed("2"))
    assert prompts_of(actions) == ["no_operator", "status_menu"]


def test_unclear_or_silent_twice_goes_on_with_a_new_request():
    dialog = dialog_with(StatusLine(open_ticket()))
    dialog.start()
    assert asked(dialog.handle(Pressed("7"))) == "status_menu"
    assert asked(dialog.handle(Silence())) == "ask_case_type"


def test_the_menu_in_words():
    assert understand_menu("bổ sung thông tin") == ADD
    assert understand_menu("bấm hai") == OPERATOR
    assert understand_menu("cho tôi gặp tổng đài viên") == OPERATOR
    assert understand_menu("yêu cầu mới") == NEW
    assert understand_menu("ba") == NEW
    assert understand_menu("bổ sung hay yêu cầu mới") is None  # two options: unclear
    assert understand_menu("alo") is None


@given(st.text(max_size=200))
def test_any_words_give_one_option_or_none(text):
    assert understand_menu(text) in (ADD, OPERATOR, NEW, None)


@given(st.text(max_size=30))
def test_number_forms_never_fail_and_a_number_matches_itself(text):
    forms = number_forms(text)
    assert all(isinstance(f, str) and f for f in forms)
    if forms:
        assert same_number(text, text)


def test_number_spellings_asterisk_may_give():
    assert same_number("0903456789", "+84903456789")
    assert same_number("84903456789", "0903456789")
    assert not same_number("0903456789", "0903456788")
    assert not same_number("", "0903456789") and not same_number(None, "0903456789")


# ── the store, the session's side (SQLite and PostgreSQL) ──


async def test_the_open_ticket_is_found_by_caller_or_callback_number(store):
    first = await call_ticket(store, caller_number="0911222333")
    await call_ticket(store, caller_number="0911222333", complete=False)  # not a request
    line = CallerLine()
    found = await opening(line, store, ticket_id=999, number="+84911222333")
    assert found is not None and found.found is not None and found.found.id == first.id
    by_callback = await store.open_tickets_for_number("0903456789")
    assert [t.id for t in by_callback] == [first.id]
    assert await opening(line, store, ticket_id=first.id, number="0911222333") is None
    assert await opening(line, store, ticket_id=999, number="0999999999") is None
    assert await opening(CallerLine(by_number=False), store, 999, "0911222333") is None


async def test_a_closed_or_rejected_ticket_is_not_read_out(store):
    first = await call_ticket(store, caller_number="0911222333")
    await store.change_status(first.id, TicketStatus.REJECTED, "officer", reason="trùng")
    assert await store.open_tickets_for_number("0911222333") == []


async def test_a_keyed_ticket_number_reads_nothing_unless_the_callback_number_matches(store):
    first = await call_ticket(store, caller_number=None)  # callback 0903456789
    line = StatusLine(keyed=True)
    dialog = dialog_with(line)
    assert asked(dialog.start()) == "status_offer_keyed"
    assert asked(dialog.handle(Pressed(f"{first.id}#"))) == "status_ask_keyed_callback"
    actions = await respond(dialog, Pressed("0911000000#"), store, line)
    assert prompts_of(actions) == ["status_not_found", "ask_case_type"]
    assert not any(Digits(str(first.id)) in a.pieces for a in actions if isinstance(a, Say))
    # The right number: the status.
    line = StatusLine(keyed=True)
    dialog = dialog_with(line)
    dialog.start()
    dialog.handle(Pressed(str(first.id)))
    actions = await respond(dialog, Pressed("0903456789#"), store, line)
    assert "status_intro" in prompts_of(actions) and asked(actions) == "status_menu"
    # No such ticket sounds the same as someone else's.
    assert await store.open_ticket_keyed(first.id + 100, "0903456789") is None


def test_a_caller_who_keys_nothing_or_speaks_goes_on_with_the_intake():
    for event in (Silence(), Heard("tôi cần gạo", 0.8), Pressed("#")):
        dialog = dialog_with(StatusLine(keyed=True))
        dialog.start()
        assert asked(dialog.handle(event)) == "ask_case_type"


async def test_after_the_call_a_follow_up_is_a_note_on_the_first_and_is_closed_linked(store):
    first = await call_ticket(store, caller_number="0911222333")
    follow = await call_ticket(store, caller_number="0911222333", complete=False)
    from callbot.tickets.model import SlotSource, SlotValue

    for slot in (
        SlotValue("follow_up_of", str(first.id), SlotSource.NETWORK, 1.0, "status line"),
        SlotValue("addition", "thêm hai người già", SlotSource.SPEECH, 0.8, "thêm hai người già"),
    ):
        await store.set_slot(follow.call_id, slot)
    routed: list[int] = []

    async def route(ticket: Ticket) -> None:
        routed.append(ticket.id)

    after = after_intake(store, route, None)
    await after(await store.get_ticket(follow.id))
    await after(await store.get_ticket(follow.id))  # a replay: nothing twice
    notes = await AccountStore(store).list_notes(first.id)
    assert len(notes) == 1 and "thêm hai người già" in notes[0].text
    assert notes[0].actor == "caller" and str(follow.id) in notes[0].text
    linked = await store.get_ticket(follow.id)
    assert linked.status is TicketStatus.CLOSED and not linked.needs_callback
    assert linked.status_notes == f"follow-up of ticket {first.id}"
    assert routed == []  # linked, never routed
    history = [e for e in await store.list_history(follow.id) if e.kind == EventKind.STATUS_CHANGED]
    assert [(e.data["from"], e.data["to"]) for e in history] == [
        ("new", "rejected"),
        ("rejected", "closed"),
    ]
    # An ordinary ticket is routed as before.
    other = await call_ticket(store)
    await after(other)
    assert routed == [other.id]
    # Retention forgets the addition on both tickets, as it forgets a description.
    for ticket_id in (follow.id, first.id):
        await store.purge_personal_data(ticket_id, personal_slots=PERSONAL_SLOTS, actor="t")
    assert "addition" not in (await store.get_ticket(follow.id)).slots
    assert [n.text for n in await AccountStore(store).list_notes(first.id)] == [""]
