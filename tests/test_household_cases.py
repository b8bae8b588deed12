"""One case per household (issue 18 item 3): the match, the store's links and splits, the
routing that skips a linked ticket, a case's status reaching its calls — on SQLite and
PostgreSQL — and the rule itself (callbot/tickets/household.py), with hypothesis."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ticket_helpers import T0, call_ticket

from callbot.config import Settings
from callbot.nlu.admin_units import find_unit
from callbot.tickets.household import (
    Household,
    MatchBy,
    Relation,
    address_relation,
    parse_address,
    place_relation,
    same_household,
)
from callbot.tickets.model import Channel, EventKind, SlotSource, SlotValue, TicketStatus
from callbot.tickets.routing import RulesError, load_rules, parse_rules, route_ticket
from callbot.tickets.store.base import CaseLinkError
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]

RULES = load_rules(Settings().routing.rules_file)


def home(number: str | None = None, place: str | None = "Quận 3", address: str | None = None):
    from callbot.tickets.store.sql_callers import number_forms

    unit = find_unit(place) if place else None
    return Household(frozenset(number_forms(number or "")), unit, address)


async def web_request(store, **slots: str):
    """A complete request filed through Open311 (the web channel) with these slots."""
    values = [SlotValue(name, text, SlotSource.NETWORK, 1.0, "") for name, text in slots.items()]
    return await store.file_request(
        channel=Channel.WEB,
        service_code="essentials",
        description="hết gạo",
        slots=values,
        complete=True,
        actor="open311",
    )


# ── the rule ──


def test_one_household_by_number_or_by_address_in_the_same_place():
    assert same_household(home("0903456789"), home("+84903456789")) is MatchBy.NUMBER
    a = home("0903456789", address="123/4 Lê Văn Sỹ")
    assert same_household(a, home("0911000111", address="hẻm 123 le van si, nhà số 4")) is (
        MatchBy.ADDRESS
    )
    # a 2025 ward inside the 2021 district is the same place
    ward = home("0911000111", place="Phường Xuân Hòa", address="số 123/4 đường Lê Văn Sỹ")
    assert same_household(a, ward) is MatchBy.ADDRESS


def test_neighbours_rooms_other_districts_and_a_shared_phone_are_other_households():
    a = home("0903456789", address="123/4 Lê Văn Sỹ")
    for other in (
        home("0911000111", address="123/6 Lê Văn Sỹ"),  # next door
        home("0911000111", address="123 Lê Văn Sỹ"),  # the house on the street
        home("0911000111", address="123/4 Lê Văn Thọ"),  # another street
        home("0903456789", address="45 Nguyễn Trãi"),  # one phone, another family
        home("0903456789", place="Quận 5", address="123/4 Lê Văn Sỹ"),  # same text, Quận 5
    ):
        assert same_household(a, other) is None, other
    assert address_relation("nhà trọ 12 Lê Lợi phòng 3", "nhà trọ 12 Lê Lợi, phòng 5") is (
        Relation.DIFFERENT
    )
    assert address_relation("45 Nguyễn Trãi", "45A Nguyễn Trãi") is Relation.DIFFERENT


def test_an_address_without_a_house_number_says_too_little():
    assert parse_address("gần chợ Bà Chiểu") is None
    assert address_relation("gần chợ Bà Chiểu", "12 Lê Lợi") is Relation.UNKNOWN
    # the ward, district and neighbourhood numbers are not house numbers
    parsed = parse_address("12 Lê Lợi, tổ 5, Phường 12, Q.3")
    assert parsed is not None and dict(parsed.numbers) == {"12": 1}
    assert same_household(home(None, address="gần chợ"), home(None, address="gần chợ")) is None


def test_places_known_and_incompatible_are_never_one_household():
    q3, q5 = find_unit("Quận 3"), find_unit("Quận 5")
    assert place_relation(q3, q5) is Relation.DIFFERENT
    assert place_relation(q3, find_unit("Phường Bàn Cờ")) is Relation.SAME
    assert place_relation(find_unit("Phường Bàn Cờ"), find_unit("Phường Xuân Hòa")) is (
        Relation.DIFFERENT
    )
    assert place_relation(None, q3) is Relation.UNKNOWN


texts = st.text(alphabet=st.sampled_from("0123456789/ abcdeghiklmnopqrstuvxyđơưáàảãạ,.-"))
numbers = st.one_of(st.none(), st.from_regex(r"(\+84|84|0)[35789][0-9]{8}", fullmatch=True))
places = st.sampled_from([None, "Quận 3", "Quận 5", "Phường Bàn Cờ", "Huyện Củ Chi"])


@given(texts, texts)
def test_any_address_text_parses_and_the_relation_is_symmetric(a, b):
    parse_address(a)
    assert address_relation(a, b) is address_relation(b, a)


@given(numbers, numbers, places, places, texts, texts)
def test_the_match_is_symmetric_and_a_household_with_an_address_is_itself(n1, n2, p1, p2, a, b):
    one, other = home(n1, p1, a), home(n2, p2, b)
    assert same_household(one, other) is same_household(other, one)
    if p1 and parse_address(a) and parse_address(a).street:  # type: ignore[union-attr]
        assert same_household(one, home(None, p1, a)) is MatchBy.ADDRESS


def test_the_window_is_read_from_the_rules_file():
    assert RULES.household_window_days == 30
    assert parse_rules({"household_window_days": 0}).household_window_days == 0
    for bad in (-1, "30", True):
        with pytest.raises(RulesError, match="household_window_days"):
            parse_rules({"household_window_days": bad})


# ── the store and routing (SQLite and PostgreSQL) ──

OTHER_HOME = {"callback_number": "0977000111", "address": "45 Nguyễn Trãi"}


async def test_a_second_call_from_the_household_joins_its_case_and_is_not_routed_again(store):
    first = await call_ticket(store, caller_number="0911222333")
    assert await route_ticket(store, first.id, RULES) is not None
    again = await call_ticket(  # no house number this time: the number decides
        store,
        caller_number="+84911222333",
        started_at=T0 + timedelta(days=2),
        slots={"address": "gần chợ Bàn Cờ"},
    )
    assert await route_ticket(store, again.id, RULES) is None  # its case is routed
    again = await store.get_ticket(again.id)
    assert again.case_id == first.id and again.status is TicketStatus.NEW
    assert await store.list_deliveries(ticket_id=again.id) == []
    for ticket in (first.id, again.id):
        linked = [e for e in await store.list_history(ticket) if e.kind is EventKind.CASE_LINKED]
        assert [e.data for e in linked] == [{"case": first.id, "ticket": again.id, "by": "number"}]
    assert [t.id for t in await store.case_calls(first.id)] == [again.id]
    # the routing sweep leaves it alone; the status line reads the case, not the call
    assert again.id not in await store.tickets_to_route()
    assert [t.id for t in await store.open_tickets_for_number("0911222333")] == [first.id]


async def test_a_relative_from_another_phone_at_the_same_address_joins_by_address(store):
    first = await call_ticket(store, caller_number="0911222333", slots={"address": "12/3 Lê Lợi"})
    await route_ticket(store, first.id, RULES)
    relative = await call_ticket(
        store,
        caller_number="0988777666",
        place="Phường Xuân Hòa",  # the 2025 ward the caller's Quận 3 street is in
        slots={"callback_number": "0988777666", "address": "hẻm 12 đường Lê Lợi, nhà số 3"},
    )
    await route_ticket(store, relative.id, RULES)
    assert (await store.get_ticket(relative.id)).case_id == first.id
    events = await store.list_history(relative.id)
    assert [e.data["by"] for e in events if e.kind is EventKind.CASE_LINKED] == ["address"]


async def test_a_shared_phone_for_another_family_or_an_old_case_files_a_new_case(store):
    first = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, first.id, RULES)
    volunteer = await call_ticket(store, caller_number="0911222333", slots=OTHER_HOME)
    assert await route_ticket(store, volunteer.id, RULES) is not None
    late = await call_ticket(store, caller_number="0922000333", started_at=T0)
    await route_ticket(store, late.id, RULES)
    months = await call_ticket(
        store, caller_number="0922000333", started_at=T0 + timedelta(days=45)
    )
    assert await route_ticket(store, months.id, RULES) is not None  # past the 30-day window
    off = replace(RULES, household_window_days=0)
    same = await call_ticket(store, caller_number="0922000333", started_at=T0 + timedelta(days=46))
    assert await route_ticket(store, same.id, off) is not None  # matching switched off


async def test_an_open311_request_from_the_number_of_an_open_call_joins_its_case(store):
    from callbot.tickets.routing import TicketPipeline

    call = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, call.id, RULES)
    web = await web_request(store, callback_number="84911222333", place="Quận 3")
    assert await TicketPipeline(store, RULES).after_call(web) is None
    assert (await store.get_ticket(web.id)).case_id == call.id


async def test_a_split_ticket_is_routed_on_its_own_and_never_matched_again(store):
    first = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, first.id, RULES)
    again = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, again.id, RULES)
    assert await store.split_from_case(again.id, actor="giamsat", reason="hộ khác") == first.id
    assert await route_ticket(store, again.id, RULES) is not None
    ticket = await store.get_ticket(again.id)
    assert ticket.case_id is None and ticket.status is TicketStatus.ROUTED
    split = [e for e in await store.list_history(first.id) if e.kind is EventKind.CASE_SPLIT]
    assert len(split) == 1 and split[0].reason == "hộ khác" and split[0].actor == "giamsat"
    with pytest.raises(CaseLinkError) as refused:
        await store.split_from_case(again.id, actor="giamsat", reason="x")
    assert refused.value.code == "not_linked"


async def test_links_by_hand_keep_cases_flat_and_open(store: SqlTicketStore):
    a = await call_ticket(store, caller_number="0911000001", slots=OTHER_HOME)
    b = await call_ticket(
        store, caller_number="0911000002", slots={"callback_number": "0911000002"}
    )
    c = await call_ticket(
        store, caller_number="0911000003", slots={"callback_number": "0911000003"}
    )
    assert await store.link_to_case(b.id, a.id, actor="giamsat", by="supervisor")
    assert not await store.link_to_case(b.id, a.id, actor="giamsat", by="supervisor")  # replay
    refusals = [
        (c.id, b.id, "nested"),  # b is itself in a case
        (a.id, c.id, "has_calls"),  # a has b
        (b.id, c.id, "already_linked"),
        (c.id, c.id, "itself"),
    ]
    for ticket, case, code in refusals:
        with pytest.raises(CaseLinkError) as refused:
            await store.link_to_case(ticket, case, actor="giamsat", by="supervisor")
        assert refused.value.code == code
    await store.change_status(a.id, TicketStatus.REJECTED, "officer", reason="trùng")
    await store.change_status(a.id, TicketStatus.CLOSED, "officer")
    with pytest.raises(CaseLinkError) as refused:
        await store.link_to_case(c.id, a.id, actor="giamsat", by="supervisor")
    assert refused.value.code == "not_open"


async def test_the_calls_of_a_case_follow_it_when_it_is_resolved_and_closed(store):
    first = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, first.id, RULES)
    again = await call_ticket(store, caller_number="0911222333")
    await route_ticket(store, again.id, RULES)
    await store.set_notify_consent(again.id, True, actor="callbot")
    for status in (TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
        await store.change_status(first.id, status, "officer")
    assert (await store.get_ticket(again.id)).status is TicketStatus.RESOLVED
    messages = await store.list_notifications(ticket_id=again.id)
    assert [str(m.event) for m in messages] == ["resolution"]  # told under its own number
    await store.change_status(first.id, TicketStatus.CLOSED, "officer")
    assert (await store.get_ticket(again.id)).status is TicketStatus.CLOSED
    # a closed case takes no new calls: the next one is a case of its own
    third = await call_ticket(store, caller_number="0911222333")
    assert await route_ticket(store, third.id, RULES) is not None


async def test_a_request_for_another_agency_is_its_own_case(store):
    food = await call_ticket(store, caller_number="0911222333", case_type="essentials")
    await route_ticket(store, food.id, RULES)
    policy = await call_ticket(store, caller_number="0911222333", case_type="support_policy")
    routed = await route_ticket(store, policy.id, RULES)  # Sở Nội vụ must get it
    assert routed is not None and len(routed.decision.agencies) == 2
    # food after a policy case reaches no agency the case does not: linked
    more_food = await call_ticket(store, caller_number="0911222333", case_type="essentials")
    assert await route_ticket(store, more_food.id, RULES) is None
    assert (await store.get_ticket(more_food.id)).case_id == policy.id


async def test_a_case_sharing_the_number_is_a_candidate_before_the_wards_newer_tickets(store):
    from callbot.tickets.store.sql_callers import number_forms

    case = await call_ticket(store, caller_number="0911222333")
    for n in range(3):  # newer open tickets of other households in the same district
        other = f"097700011{n}"
        slots = {"callback_number": other, "address": f"{50 + n} Nguyễn Trãi"}
        await call_ticket(store, caller_number=other, slots=slots)
    new = await call_ticket(store, caller_number="0911222333")
    found = await store.household_candidates(
        new.id, numbers=number_forms("0911222333"), places=["Quận 3"], since=T0, limit=2
    )
    assert found[0].id == case.id and len(found) == 2


async def test_a_request_without_a_number_is_matched_by_its_place_and_address(store):
    first = await call_ticket(store, caller_number="0911222333", slots={"address": "7 Lê Lợi"})
    await route_ticket(store, first.id, RULES)
    web = await web_request(store, place="Quận 3", address="số 7 đường Lê Lợi")
    found = await store.household_candidates(web.id, numbers=[], places=["Quận 3"], since=T0)
    assert [t.id for t in found] == [first.id]
    assert await route_ticket(store, web.id, RULES) is None
    assert (await store.get_ticket(web.id)).case_id == first.id
