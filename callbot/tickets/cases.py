"""One case per household (issue 18 item 3): before a new ticket is routed, find the open
case of its household and link the ticket to it instead.

Called by ``routing.route_ticket`` for a ``new`` ticket about to be routed, so every path
that routes — after a call, an Open311 POST, a text conversation, the start-up sweep —
matches the same way, once per ticket (``case_checked``): a ticket a supervisor split off
its case is not linked again. A crash between the match and its mark only means the match
runs again. Who is one household: callbot/tickets/household.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from callbot.nlu.admin_units import (
    SCHEME_WARD_2025,
    AdminUnit,
    district_2021_to_wards_2025,
    find_unit,
)
from callbot.tickets.household import first_match, household_of
from callbot.tickets.model import Ticket
from callbot.tickets.store.base import CaseLinkError
from callbot.tickets.store.sql_base import BOT_ACTOR
from callbot.tickets.store.sql_store import SqlTicketStore

log = logging.getLogger(__name__)


async def link_household(
    store: SqlTicketStore,
    ticket: Ticket,
    window_days: float,
    case_agencies: Mapping[str, tuple[str, ...]],
) -> int | None:
    """Link ``ticket`` to its household's open case filed within ``window_days`` before it;
    the case's id, or None (no such case, the match is off, or it already ran).

    ``case_agencies`` (the rules' extra agencies per case type): a case is a candidate only
    when its case type reaches every agency this ticket's would — a support-policy request
    after a food request of the same household must still reach Sở Nội vụ, so it is filed
    as a case of its own."""
    if window_days <= 0 or not await store.case_unchecked(ticket.id):
        return None

    def reaches(case: Ticket) -> bool:
        wanted = set(case_agencies.get(ticket.service_code or "other", ()))
        return wanted <= set(case_agencies.get(case.service_code or "other", ()))

    new = household_of(ticket, _unit(ticket))
    candidates = await store.household_candidates(
        ticket.id,
        numbers=new.numbers,
        places=places_near(new.place),
        since=ticket.requested_datetime - timedelta(days=window_days),
    )
    cases = ((c.id, household_of(c, _unit(c))) for c in candidates if reaches(c))
    match = first_match(new, cases)
    if match is not None:
        case_id, by = match
        try:
            await store.link_to_case(ticket.id, case_id, actor=BOT_ACTOR, by=str(by))
        except CaseLinkError as error:  # the case changed meanwhile (closed, linked)
            log.info("ticket %d: not linked to case %d: %s", ticket.id, case_id, error)
        else:
            log.info("ticket %d: linked to the household's case %d (by %s)", ticket.id, case_id, by)
            return case_id
    await store.mark_case_checked(ticket.id)
    return None


def places_near(unit: AdminUnit | None) -> list[str]:
    """The admin unit names a ticket of the same household may carry: the unit, and for a
    2021 district its 2025 wards, for a 2025 ward the districts it was made from."""
    if unit is None:
        return []
    names = {unit.name}
    for district, wards in district_2021_to_wards_2025().items():
        if unit.scheme == SCHEME_WARD_2025 and unit.name in wards:
            names.add(district)
        elif district == unit.name:
            names.update(wards)
    return sorted(names)


def _unit(ticket: Ticket) -> AdminUnit | None:
    return find_unit(ticket.admin_unit) if ticket.admin_unit else None
