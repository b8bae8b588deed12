"""Routing rules → decisions (pure), and applying them to real stores (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from ticket_helpers import T0, call_ticket

from callbot.config import RoutingSettings
from callbot.nlu.admin_units import district_2021_to_wards_2025, districts_2021, wards_2025
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.model import Channel, EventKind, SlotSource, SlotValue, Ticket, TicketStatus
from callbot.tickets.routing import (
    RoutingRules,
    RulesError,
    TicketPipeline,
    load_rules,
    parse_rules,
    route,
    route_ticket,
)
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]

RULES = load_rules(RoutingSettings().rules_file)


def ticket(place: str | None, case: str | None = "essentials", **fields: object) -> Ticket:
    values: dict[str, object] = {"requested_datetime": T0}
    values.update(fields)
    return Ticket(
        1,
        None,
        Channel.VOICE,
        TicketStatus.NEW,
        True,
        service_code=case,
        admin_unit=place,
        **values,  # type: ignore[arg-type]
    )


# --- The decision (pure) -------------------------------------------------------------------


def test_a_2021_district_goes_to_its_committee_and_records_its_2025_wards() -> None:
    decision = route(ticket("Quận 3"), RULES)
    assert decision is not None
    assert decision.agency_responsible == "Ủy ban nhân dân Quận 3"
    assert [a.id for a in decision.agencies] == ["ubnd-770"]
    assert decision.place_scheme == "district_2021"
    assert decision.wards_2025 == district_2021_to_wards_2025()["Quận 3"]
    assert "Phường Bàn Cờ" in decision.rule and "Quận 3" in decision.rule


def test_a_2025_ward_goes_to_the_ward_committee() -> None:
    decision = route(ticket("Phường Bến Thành"), RULES)
    assert decision is not None
    assert decision.agency_responsible == "Ủy ban nhân dân Phường Bến Thành"
    assert decision.place_scheme == "ward_2025"
    assert decision.wards_2025 == ("Phường Bến Thành",)


def test_every_unit_of_both_schemes_has_a_distinct_committee() -> None:
    units = [*districts_2021(), *wards_2025()]
    agencies = {route(ticket(u.name), RULES).primary.id for u in units}  # type: ignore[union-attr]
    assert len(agencies) == len(units) == 22 + 168


@pytest.mark.parametrize(
    ("case", "hours", "extra"),
    [
        ("essentials", 24, []),
        ("vulnerable", 24, []),
        ("support_policy", 72, ["Sở Nội vụ Thành phố Hồ Chí Minh"]),
        ("other", 120, []),
    ],
)
def test_case_type_sets_the_sla_and_extra_agencies(case: str, hours: int, extra: list) -> None:
    decision = route(ticket("Huyện Củ Chi", case), RULES)
    assert decision is not None
    assert decision.expected_datetime == T0 + timedelta(hours=hours)
    assert [a.name for a in decision.agencies[1:]] == extra
    assert decision.agency_responsible == "Ủy ban nhân dân Huyện Củ Chi"  # always primary
    assert f"SLA {case} {hours} h" in decision.rule


def test_no_known_place_means_no_decision() -> None:
    assert route(ticket(None), RULES) is None
    assert route(ticket("Quận 99"), RULES) is None


def test_committee_override_and_templated_endpoint() -> None:
    rules = parse_rules(
        {
            "committees": {"endpoint": "https://x.example/{code}", "secret_env": "S_{code}"},
            "agencies": {"ubnd-770": {"endpoint": "https://q3.example/in", "secret_env": "Q3"}},
        }
    )
    q3 = route(ticket("Quận 3"), rules).primary  # type: ignore[union-attr]
    assert (q3.endpoint, q3.secret_env, q3.name) == (
        "https://q3.example/in",
        "Q3",
        "Ủy ban nhân dân Quận 3",
    )
    q1 = rules.agency("ubnd-760")
    assert q1 is not None and q1.endpoint == "https://x.example/760" and q1.secret_env == "S_760"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sla_hours": {"food": 24}}, "case types are"),
        ({"sla_hours": {"other": -1}}, "positive"),
        ({"committees": {"name": "UBND {ward}"}}, "placeholders"),
        ({"case_agencies": {"other": ["nobody"]}}, "not an [agencies"),
        ({"agencies": {"a": {"name": "A", "endpoint": "https://a"}}}, "no secret_env"),
        ({"surprise": 1}, "unknown keys"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(data: dict, message: str) -> None:
    with pytest.raises(RulesError, match=message.replace("[", r"\[")):
        parse_rules(data)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="does not exist"):
        load_rules(tmp_path / "none.toml")


# --- Applying it to a store (both engines) -------------------------------------------------


async def test_a_complete_call_is_routed_with_its_rule_and_sla(store: SqlTicketStore) -> None:
    t = await call_ticket(store, case_type="support_policy", place="Quận 3")
    routed = await route_ticket(store, t.id, RULES)
    assert routed is not None and not routed.rerouted
    assert routed.ticket.status is TicketStatus.ROUTED
    assert routed.ticket.agency_responsible == "Ủy ban nhân dân Quận 3"
    assert routed.ticket.routing_rule == routed.decision.rule
    assert routed.ticket.expected_datetime == t.requested_datetime + timedelta(hours=72)
    # No webhook configured by default: the agencies read their tickets on the dashboard.
    assert [(d.agency_id, d.status, d.routing_version) for d in routed.deliveries] == [
        ("ubnd-770", DeliveryStatus.LOCAL, 1),
        ("so-noi-vu", DeliveryStatus.LOCAL, 1),
    ]
    kinds = [e.kind for e in await store.list_history(t.id)]
    assert kinds[-2:] == [EventKind.ROUTED, EventKind.STATUS_CHANGED]


async def test_routing_again_changes_nothing(store: SqlTicketStore) -> None:
    t = await call_ticket(store)
    first = await route_ticket(store, t.id, RULES)
    again = await route_ticket(store, t.id, RULES)
    assert first is not None and again is not None
    assert [d.id for d in again.deliveries] == [d.id for d in first.deliveries]
    history = await store.list_history(t.id)
    assert sum(e.kind is EventKind.ROUTED for e in history) == 1


async def test_a_corrected_place_reroutes_as_a_new_version(store: SqlTicketStore) -> None:
    rules = parse_rules(
        {"committees": {"endpoint": "http://127.0.0.1:9/{code}", "secret_env": "S"}}
    )
    t = await call_ticket(store, place="Quận 3")
    await route_ticket(store, t.id, rules)
    fix = SlotValue("place", "Quận 10", SlotSource.SUPERVISOR, 1.0)
    await store.set_slot(t.call_id, fix, actor="supervisor")  # type: ignore[arg-type]
    rerouted = await route_ticket(store, t.id, rules)
    assert rerouted is not None and rerouted.rerouted
    assert rerouted.ticket.agency_responsible == "Ủy ban nhân dân Quận 10"
    assert [(d.agency_id, d.routing_version) for d in rerouted.deliveries] == [("ubnd-771", 2)]
    old = await store.list_deliveries(ticket_id=t.id)
    assert {(d.routing_version, d.status) for d in old} == {
        (1, DeliveryStatus.SUPERSEDED),
        (2, DeliveryStatus.PENDING),
    }
    assert old[-1].idempotency_key == f"ticket-{t.id}/ubnd-770/v1"


async def test_incomplete_tickets_wait_for_a_callback_unless_the_rules_say(
    store: SqlTicketStore,
) -> None:
    t = await call_ticket(store, complete=False)
    assert await route_ticket(store, t.id, RULES) is None
    assert (await store.get_ticket(t.id)).status is TicketStatus.NEW  # type: ignore[union-attr]
    eager = RoutingRules(**{**RULES.__dict__, "route_incomplete": True})
    routed = await route_ticket(store, t.id, eager)
    assert routed is not None and routed.ticket.needs_callback  # still in the callback queue


async def test_tickets_an_agency_took_are_not_rerouted(store: SqlTicketStore) -> None:
    t = await call_ticket(store)
    await route_ticket(store, t.id, RULES)
    await store.change_status(t.id, TicketStatus.ACCEPTED, "officer")
    assert await route_ticket(store, t.id, RULES) is None


async def test_sweep_routes_what_a_crash_left_behind(store: SqlTicketStore) -> None:
    # Died between end_call and routing: a complete ticket still new.
    unrouted = await call_ticket(store)
    # Died between set_routing and the outbox insert: routed, no deliveries.
    half = await call_ticket(store, place="Phường Bến Thành")
    decision = route(half, RULES)
    assert decision is not None
    await store.set_routing(half.id, decision.agency_responsible, decision.rule, None)
    # Not for the sweep: incomplete, and complete without a known place.
    await call_ticket(store, complete=False)
    await call_ticket(store, place=None)
    woken: list[bool] = []
    pipeline = TicketPipeline(store, RULES, notify=lambda: woken.append(True))
    assert await pipeline.sweep() == 2
    assert woken == [True]
    assert (await store.get_ticket(unrouted.id)).status is TicketStatus.ROUTED  # type: ignore[union-attr]
    assert [d.agency_id for d in await store.list_deliveries(ticket_id=half.id)] == ["ubnd-26743"]
    assert await pipeline.sweep() == 0


async def test_after_call_never_raises(store: SqlTicketStore) -> None:
    t = await call_ticket(store)
    await store.close()  # the store is gone: routing fails, the call ending must not
    assert await TicketPipeline(store, RULES).after_call(t) is None
