"""Which agencies get a ticket, and by when: rules from ``config/routing.toml``.

``route(ticket, rules)`` is a pure function: the place (``ticket.admin_unit``, a 2021
district or a 2025 ward by its canonical name) picks the People's Committee of that unit, the
case type adds agencies (support policies → Sở Nội vụ) and sets the SLA. The decision
explains itself in one line, which the store keeps as the ticket's ``routing_rule``.

``route_ticket(store, ticket_id, rules)`` applies a decision: ``store.set_routing`` (an event;
a ``new`` ticket becomes ``routed``), then one outbox delivery per agency. Both steps are
idempotent, and ``TicketPipeline.sweep()`` finds tickets a crash left between them, so a
process killed at any point loses no routing.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any

from callbot.nlu.admin_units import (
    SCHEME_DISTRICT_2021,
    AdminUnit,
    district_2021_to_wards_2025,
    find_unit,
    units_by_name,
)
from callbot.tickets.cases import link_household
from callbot.tickets.deliveries import AgencyTarget, Delivery
from callbot.tickets.model import Ticket, TicketStatus
from callbot.tickets.store.base import TransitionError
from callbot.tickets.store.sql_store import SqlTicketStore

log = logging.getLogger(__name__)

ROUTER_ACTOR = "router"
CASE_TYPES = ("essentials", "support_policy", "vulnerable", "other")
_PLACEHOLDERS = {"unit", "code", "key"}
# Issue 17: a raised ticket's SLA (hours) when shorter than its case type's; overridden by
# [priority_sla_hours] in the rules file. docs/triage.md says why these.
PRIORITY_SLA_HOURS = {"urgent": 4.0, "emergency": 1.0}
DEFAULT_HOUSEHOLD_WINDOW_DAYS = 30.0  # docs/tickets.md, "One case per household"


class RulesError(ValueError):
    """The routing rules file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Agency:
    id: str  # "ubnd-770", "so-noi-vu": stable, part of the idempotency key
    name: str  # what ticket.agency_responsible says
    endpoint: str = ""  # webhook URL; empty: the agency reads tickets on the dashboard
    secret_env: str = ""  # environment variable holding the HMAC secret for the endpoint
    former_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitteeTemplate:
    id: str = "ubnd-{code}"
    name: str = "Ủy ban nhân dân {unit}"
    endpoint: str = ""
    secret_env: str = ""

    def agency(self, unit: AdminUnit) -> Agency:
        values = {"unit": unit.name, "code": unit.code, "key": unit.key}
        return Agency(
            id=self.id.format(**values),
            name=self.name.format(**values),
            endpoint=self.endpoint.format(**values),
            secret_env=self.secret_env.format(**values),
        )


@dataclass(frozen=True)
class RoutingRules:
    committees: CommitteeTemplate = field(default_factory=CommitteeTemplate)
    case_agencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sla_hours: dict[str, float] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)  # named ones and overrides
    route_incomplete: bool = False
    priority_sla_hours: dict[str, float] = field(default_factory=lambda: dict(PRIORITY_SLA_HOURS))
    # Issue 18: a new ticket about the household of an open case filed this many days back
    # is linked to that case instead of routed again (callbot/tickets/cases.py); 0: never.
    household_window_days: float = DEFAULT_HOUSEHOLD_WINDOW_DAYS

    def committee(self, unit: AdminUnit) -> Agency:
        templated = self.committees.agency(unit)
        override = self.agencies.get(templated.id)
        if override is None:
            return templated
        # A listed committee keeps the templated name unless it gives its own.
        return Agency(
            templated.id,
            override.name or templated.name,
            override.endpoint or templated.endpoint,
            override.secret_env or templated.secret_env,
            override.former_names,
        )

    def agency(self, agency_id: str) -> Agency | None:
        """The agency with this id today (the outbox resolves endpoints at send time, so a
        corrected URL applies to deliveries still pending)."""
        unit = _committee_units(self.committees.id).get(agency_id)
        return self.committee(unit) if unit is not None else self.agencies.get(agency_id)


@dataclass(frozen=True)
class RoutingDecision:
    agencies: tuple[Agency, ...]  # the primary (responsible) agency first
    agency_responsible: str
    rule: str  # why, in one line; stored as ticket.routing_rule
    expected_datetime: datetime | None  # requested_datetime + the case type's SLA
    place_scheme: str  # "district_2021" or "ward_2025"
    wards_2025: tuple[str, ...]  # the 2025 wards the place is (or became)

    @property
    def primary(self) -> Agency:
        return self.agencies[0]


# --- Loading the rules ---------------------------------------------------------------------


def load_rules(path: str | Path) -> RoutingRules:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise RulesError(f"routing rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: {error}") from None
    return parse_rules(data, where=str(path))


def parse_rules(data: dict[str, Any], *, where: str = "routing rules") -> RoutingRules:
    known = {"route_incomplete", "committees", "case_agencies", "sla_hours", "agencies"}
    known |= {"priority_sla_hours", "household_window_days"}  # issues 17, 18
    unknown = set(data) - known
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}")
    committees = CommitteeTemplate(**_table(data, "committees", where, CommitteeTemplate))
    for part in ("id", "name", "endpoint", "secret_env"):
        template = getattr(committees, part)
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        if names - _PLACEHOLDERS:
            raise RulesError(
                f"{where}: committees.{part} uses {sorted(names - _PLACEHOLDERS)};"
                f" placeholders are {sorted(_PLACEHOLDERS)}"
            )
    agencies: dict[str, Agency] = {}
    for agency_id, spec in data.get("agencies", {}).items():
        if not isinstance(spec, dict):
            raise RulesError(f"{where}: agencies.{agency_id} must be a table")
        extra = set(spec) - {"name", "endpoint", "secret_env", "former_names"}
        if extra:
            raise RulesError(f"{where}: agencies.{agency_id}: unknown keys {sorted(extra)}")
        agencies[agency_id] = Agency(
            id=agency_id,
            name=str(spec.get("name", "")),
            endpoint=str(spec.get("endpoint", "")),
            secret_env=str(spec.get("secret_env", "")),
            former_names=tuple(spec.get("former_names", ())),
        )
        if agencies[agency_id].endpoint and not agencies[agency_id].secret_env:
            raise RulesError(f"{where}: agencies.{agency_id} has an endpoint but no secret_env")
    if committees.endpoint and not committees.secret_env:
        raise RulesError(f"{where}: committees has an endpoint but no secret_env")
    case_agencies: dict[str, tuple[str, ...]] = {}
    for case, ids in data.get("case_agencies", {}).items():
        _check_case(case, where, "case_agencies")
        for agency_id in ids:
            if agency_id not in agencies or not agencies[agency_id].name:
                raise RulesError(
                    f"{where}: case_agencies.{case} names {agency_id!r}, which is not an"
                    " [agencies.…] table with a name"
                )
        case_agencies[case] = tuple(ids)
    sla_hours: dict[str, float] = {}
    for case, hours in data.get("sla_hours", {}).items():
        _check_case(case, where, "sla_hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise RulesError(f"{where}: sla_hours.{case} must be a positive number of hours")
        sla_hours[case] = float(hours)
    priority_sla, table = dict(PRIORITY_SLA_HOURS), data.get("priority_sla_hours", {})
    if not isinstance(table, dict):
        raise RulesError(f"{where}: [priority_sla_hours] must be a table")
    for level, hours in table.items():
        if level not in PRIORITY_SLA_HOURS:
            raise RulesError(f"{where}: priority_sla_hours.{level}: levels are urgent, emergency")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise RulesError(f"{where}: priority_sla_hours.{level} must be a positive number")
        priority_sla[level] = float(hours)
    route_incomplete = data.get("route_incomplete", False)
    if not isinstance(route_incomplete, bool):
        raise RulesError(f"{where}: route_incomplete must be true or false")
    window = data.get("household_window_days", DEFAULT_HOUSEHOLD_WINDOW_DAYS)
    if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
        raise RulesError(f"{where}: household_window_days must be a number of days, 0 or more")
    return RoutingRules(
        committees, case_agencies, sla_hours, agencies, route_incomplete, priority_sla, window
    )


def _table(data: dict[str, Any], name: str, where: str, kind: type) -> dict[str, str]:
    table = data.get(name, {})
    allowed = {f for f in kind.__dataclass_fields__}
    if not isinstance(table, dict) or set(table) - allowed:
        raise RulesError(f"{where}: [{name}] takes only {sorted(allowed)}")
    return {key: str(value) for key, value in table.items()}


def _check_case(case: str, where: str, table: str) -> None:
    if case not in CASE_TYPES:
        raise RulesError(f"{where}: {table}.{case}: case types are {', '.join(CASE_TYPES)}")


# --- The decision --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _committee_units(id_template: str) -> dict[str, AdminUnit]:
    units = units_by_name().values()
    return {id_template.format(unit=u.name, code=u.code, key=u.key): u for u in units}


def route(ticket: Ticket, rules: RoutingRules) -> RoutingDecision | None:
    """Where the ticket goes; None when its place is unknown (a supervisor routes it)."""
    unit = find_unit(ticket.admin_unit) if ticket.admin_unit else None
    if unit is None:
        return None
    committee = rules.committee(unit)
    case = ticket.service_code or "other"
    extra = [rules.agencies[agency_id] for agency_id in rules.case_agencies.get(case, ())]
    agencies = (committee, *(a for a in extra if a.id != committee.id))
    if unit.scheme == SCHEME_DISTRICT_2021:
        wards = district_2021_to_wards_2025().get(unit.name, ())
        where = f"place {unit.name} (2021 district; 2025 wards: {', '.join(wards) or 'none'})"
    else:
        wards = (unit.name,)
        where = f"place {unit.name} (2025 ward)"
    parts = [f"{where} → {committee.name}"]
    if extra:
        parts.append(f"case {case} → also {', '.join(a.name for a in extra)}")
    hours, why = rules.sla_hours.get(case), case
    raised = rules.priority_sla_hours.get(str(ticket.priority))
    if raised is not None and (hours is None or raised < hours):
        hours, why = raised, f"priority {ticket.priority}"
    expected = None
    if hours is not None:
        expected = ticket.requested_datetime + timedelta(hours=hours)
        parts.append(f"SLA {why} {hours:g} h")
    return RoutingDecision(
        agencies=agencies,
        agency_responsible=committee.name,
        rule="; ".join(parts),
        expected_datetime=expected,
        place_scheme=unit.scheme,
        wards_2025=tuple(wards),
    )


def should_route(ticket: Ticket, rules: RoutingRules) -> bool:
    """Complete tickets always; incomplete ones only when the rules say so (they wait in the
    callback queue otherwise and are routed once a person completes them)."""
    if ticket.status not in (TicketStatus.NEW, TicketStatus.ROUTED):
        return False  # an agency has it already; moving it is a person's decision
    return ticket.complete or (rules.route_incomplete and ticket.service_code is not None)


# --- Applying it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    ticket: Ticket
    decision: RoutingDecision
    deliveries: list[Delivery]
    rerouted: bool  # a routed ticket went elsewhere (a new routing version)


async def route_ticket(
    store: SqlTicketStore,
    ticket_id: int,
    rules: RoutingRules,
    *,
    actor: str = ROUTER_ACTOR,
    force: bool = False,
) -> Routed | None:
    """Route one ticket and enqueue its deliveries; None when it is not to be routed.

    Idempotent: a ticket already routed the same way only gets its missing deliveries, so
    calling it again after a crash (or from two machines) neither adds a routing version nor
    sends twice. ``force`` routes an incomplete ticket regardless of ``route_incomplete``
    (a supervisor's decision).
    """
    ticket = await store.get_ticket(ticket_id)
    if ticket is None or ticket.case_id is not None:  # a linked call: its case is routed
        return None
    if not (should_route(ticket, rules) or (force and ticket.status is TicketStatus.NEW)):
        return None
    first_routing = ticket.status is TicketStatus.NEW and not force
    window = rules.household_window_days
    if first_routing and await link_household(store, ticket, window, rules.case_agencies):
        return None  # the household's open case has it now
    decision = route(ticket, rules)
    if decision is None:
        log.info("ticket %d: place unknown, left for a supervisor to route", ticket_id)
        return None
    was_routed = ticket.status is TicketStatus.ROUTED
    unchanged = (
        was_routed
        and ticket.agency_responsible == decision.agency_responsible
        and ticket.routing_rule == decision.rule
    )
    if not unchanged:
        try:
            ticket = await store.set_routing(
                ticket_id,
                decision.agency_responsible,
                decision.rule,
                decision.expected_datetime,
                actor=actor,
            )
        except TransitionError:
            return None  # an officer accepted it meanwhile
    targets = [AgencyTarget(a.id, a.name, bool(a.endpoint)) for a in decision.agencies]
    deliveries = await store.enqueue_deliveries(ticket_id, targets)
    return Routed(ticket, decision, deliveries, rerouted=was_routed and not unchanged)


class TicketPipeline:
    """What happens to a ticket after its call: routing, then the outbox.

    The call server calls ``after_call(ticket)`` once ``end_call`` returned; ``sweep()``
    (run at start-up and by the outbox worker now and then) routes what a crash left behind.
    ``notify`` wakes the outbox worker when deliveries were enqueued.
    """

    def __init__(
        self,
        store: SqlTicketStore,
        rules: RoutingRules,
        *,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.notify = notify

    async def after_call(self, ticket: Ticket) -> Routed | None:
        # Never lets an exception out: the call is over and its ticket is stored; a routing
        # failure is retried by the next sweep.
        try:
            routed = await route_ticket(self.store, ticket.id, self.rules)
        except Exception:
            log.exception("ticket %d: routing failed; the next sweep retries", ticket.id)
            return None
        if routed is not None and self.notify is not None:
            self.notify()
        return routed

    async def sweep(self, *, limit: int = 100) -> int:
        """Route complete tickets still ``new`` and enqueue missing deliveries; returns how
        many tickets were routed or completed."""
        ids = await self.store.tickets_to_route(limit=limit)
        ids += await self.store.routed_without_deliveries(limit=limit)
        done = 0
        for ticket_id in ids:
            if await route_ticket(self.store, ticket_id, self.rules) is not None:
                done += 1
        if done:
            log.info("routing sweep: %d tickets routed or their deliveries enqueued", done)
            if self.notify is not None:
                self.notify()
        return done
