"""The calls-and-tickets list: filters, search, keyset pagination, CSV export.

Pagination is keyset, not OFFSET: the next page starts after the last ticket shown,
``(requested_datetime, id) < (its values)``, which the ``tickets_newest`` index (and each
filter's index, which ends in the same two columns) answers by a range scan, so page 2,000
costs what page 1 costs. OFFSET would read and drop every earlier row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callbot.tickets.model import Channel, Ticket, TicketStatus, utcnow
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.roles import User, agency_scope
from callbot.web.dashboard.search import MAX_CANDIDATES, Query, search_clause, search_words
from callbot.web.input_guard import InputError, clean_text, day, optional_id

PAGE_SIZE = 50
EXPORT_BATCH = 1000
# Finished tickets are never overdue, whatever their SLA said.
DONE_STATUSES = ("resolved", "closed", "rejected")


def is_postgres(store: SqlTicketStore) -> bool:
    # The lock suffix is the one engine difference the shared store exposes as data.
    return store._lock_row != ""


def _date(value: str | None) -> date | None:
    # Checked by from_params (ListQuery never holds a bad date).
    return day(value, "date") if value else None


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


@dataclass(frozen=True)
class ListQuery:
    """What the list's filter form asks for; every field is a query-string parameter."""

    date_from: str = ""  # yyyy-mm-dd, local (Asia/Ho_Chi_Minh) day, inclusive
    date_to: str = ""  # inclusive
    status: str = ""
    case_type: str = ""
    admin_unit: str = ""
    agency: str = ""
    channel: str = ""  # a Channel value: calls, web forms, web chat, Zalo (issue 19)
    complete: str = ""  # "", "yes", "no"
    handed_back: str = ""  # "", "1"
    overdue: str = ""  # "", "1"
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        """The form's filters. Unknown choices are dropped (a stale bookmark still opens);
        a malformed date, NUL or invalid text is a 400 (issue 15: never a 500)."""
        statuses = tuple(str(s) for s in TicketStatus)
        try:
            for name in ("case_type", "admin_unit", "agency", "q", "date_from", "date_to"):
                clean_text(params.get(name, ""), name)
            for name in ("date_from", "date_to"):
                _date(params.get(name, "").strip())
        except InputError as error:
            raise DashboardError(400, f"Bộ lọc không hợp lệ: {error}.") from None
        return cls(
            date_from=params.get("date_from", "").strip(),
            date_to=params.get("date_to", "").strip(),
            status=_choice(params.get("status"), statuses),
            case_type=params.get("case_type", "")[:100],
            admin_unit=params.get("admin_unit", "")[:200],
            agency=params.get("agency", "")[:200],
            channel=_choice(params.get("channel"), tuple(str(c) for c in Channel)),
            complete=_choice(params.get("complete"), ("yes", "no")),
            handed_back=_choice(params.get("handed_back"), ("1",)),
            overdue=_choice(params.get("overdue"), ("1",)),
            q=params.get("q", "")[:200],
        )

    def params(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @property
    def active(self) -> bool:
        return bool(self.params())


def where_clause(
    store: SqlTicketStore, query: ListQuery, user: User, zone: ZoneInfo, now: datetime
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        clauses.append(sql)
        args.extend(values)

    scope, scope_args = agency_scope(user)
    if scope:
        # An agency officer's list is their agency's tickets, whatever the form says.
        add(scope, *scope_args)
    day_from, day_to = _date(query.date_from), _date(query.date_to)
    if day_from:
        start = datetime.combine(day_from, time(), tzinfo=zone)
        add("tickets.requested_datetime >= ?", store._dt_in(start.astimezone(now.tzinfo)))
    if day_to:
        end = datetime.combine(day_to + timedelta(days=1), time(), tzinfo=zone)
        add("tickets.requested_datetime < ?", store._dt_in(end.astimezone(now.tzinfo)))
    if query.status:
        add("tickets.status = ?", query.status)
    if query.case_type:
        add("tickets.service_code = ?", query.case_type)
    if query.admin_unit:
        add("tickets.admin_unit = ?", query.admin_unit)
    if query.agency and user.sees_all:
        add("tickets.agency_responsible = ?", query.agency)
    if query.channel:
        add("tickets.channel = ?", query.channel)
    if query.complete:
        add("tickets.complete = ?", query.complete == "yes")
    if query.handed_back:
        add("tickets.end_reason = 'handed_back'")
    if query.overdue:
        add(
            "tickets.expected_datetime < ?"
            " AND tickets.status NOT IN ('resolved', 'closed', 'rejected')",
            store._dt_in(now),
        )
    words = search_words(query.q)
    if words:
        sql, arg = search_clause(words, postgres=is_postgres(store))
        add(sql, arg)
    return clauses, args


@dataclass
class Page:
    tickets: list[Ticket]
    next_before: int | None  # the id to continue after, or None on the last page
    # A search that had more candidates than it reads: only the newest were looked at.
    searched_newest: int | None = None


async def _fetch(
    store: SqlTicketStore,
    clauses: list[str],
    args: list[Any],
    before: int | None,
    limit: int,
    *,
    with_slots: bool,
) -> list[Ticket]:
    async with store._transaction("dashboard_list", write=False) as tx:
        clauses, args = list(clauses), list(args)
        if before is not None:
            anchor = await tx.fetch(
                "SELECT requested_datetime, id FROM tickets WHERE id = ?", before
            )
            if anchor:
                clauses.append("(tickets.requested_datetime, tickets.id) < (?, ?)")
                args += [anchor[0]["requested_datetime"], anchor[0]["id"]]
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        rows = await tx.fetch(
            f"""
            SELECT tickets.* FROM tickets
            {where}
            ORDER BY tickets.requested_datetime DESC, tickets.id DESC
            LIMIT ?
            """,
            *args,
            limit,
        )
        slots = await store._slots_of(tx, [row["id"] for row in rows]) if with_slots else {}
    return [store._ticket(row, slots.get(row["id"], {})) for row in rows]


async def list_page(
    store: SqlTicketStore,
    query: ListQuery,
    user: User,
    zone: ZoneInfo,
    *,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    clauses, args = where_clause(store, query, user, zone, utcnow())
    search = Query(query.q)
    if search:
        return await _search_page(store, clauses, args, search, before, limit)
    tickets = await _fetch(store, clauses, args, before, limit + 1, with_slots=True)
    more = len(tickets) > limit
    tickets = tickets[:limit]
    return Page(tickets, tickets[-1].id if more and tickets else None)


async def _caller_texts(store: SqlTicketStore, tickets: list[Ticket]) -> dict[int, list[str]]:
    """What each ticket's callers said (speech and keypad turns) and its slot values: the
    texts a search matches. The bot's prompts are left out on purpose (see search.py)."""
    texts = {ticket.id: [slot.value for slot in ticket.slots.values()] for ticket in tickets}
    by_call = {ticket.call_id: ticket.id for ticket in tickets if ticket.call_id}
    calls = list(by_call)
    async with store._transaction("dashboard_search", write=False) as tx:
        for start in range(0, len(calls), 500):
            chunk = calls[start : start + 500]
            rows = await tx.fetch(
                f"""
                SELECT call_id, text FROM turns
                WHERE call_id IN ({", ".join("?" * len(chunk))})
                  AND speaker = 'caller' AND kind IN ('speech', 'keypad')
                """,
                *chunk,
            )
            for row in rows:
                texts[by_call[row["call_id"]]].append(row["text"])
    return texts


async def _matching(
    store: SqlTicketStore, tickets: list[Ticket], search: Query
) -> list[tuple[int, Ticket]]:
    """The tickets the search keeps, each with its score, in the order given."""
    texts = await _caller_texts(store, tickets)
    scored = [(search.score(texts[ticket.id]), ticket) for ticket in tickets]
    return [(score, ticket) for score, ticket in scored if score is not None]


async def _search_page(
    store: SqlTicketStore,
    clauses: list[str],
    args: list[Any],
    search: Query,
    before: int | None,
    limit: int,
) -> Page:
    """A page of search results: exact tone marks first, then newest first. The ranking
    needs every match, so the candidates (newest first, at most MAX_CANDIDATES) are read
    whole and the page is cut from the ranked list; ``before`` is where the last page ended."""
    candidates = await _fetch(store, clauses, args, None, MAX_CANDIDATES + 1, with_slots=True)
    capped = len(candidates) > MAX_CANDIDATES
    matches = await _matching(store, candidates[:MAX_CANDIDATES], search)
    # sorted() is stable: within a score the candidates keep their newest-first order.
    ranked = [ticket for _, ticket in sorted(matches, key=lambda match: -match[0])]
    ids = [ticket.id for ticket in ranked]
    start = ids.index(before) + 1 if before in ids else 0
    shown = ranked[start : start + limit]
    more = len(ranked) > start + limit
    return Page(shown, shown[-1].id if more and shown else None, MAX_CANDIDATES if capped else None)


async def export_tickets(
    store: SqlTicketStore, query: ListQuery, user: User, zone: ZoneInfo
) -> AsyncIterator[Ticket]:
    """Every ticket the filter selects, newest first, read in keyset batches so an export
    of the whole store holds one batch in memory and no read transaction open for long.
    A search exports every match (no candidate limit), newest first, unranked."""
    clauses, args = where_clause(store, query, user, zone, utcnow())
    search = Query(query.q)
    before: int | None = None
    while True:
        batch = await _fetch(store, clauses, args, before, EXPORT_BATCH, with_slots=True)
        kept = [ticket for _, ticket in await _matching(store, batch, search)] if search else batch
        for ticket in kept:
            yield ticket
        if len(batch) < EXPORT_BATCH:
            return
        before = batch[-1].id


async def distinct_values(store: SqlTicketStore, column: str, user: User) -> list[str]:
    """Values for a filter's drop-down (column names are ours, never the user's)."""
    assert column in ("service_code", "admin_unit", "agency_responsible")
    where = f"WHERE {column} IS NOT NULL"
    scope, args = agency_scope(user)
    if scope:
        where += f" AND {scope}"
    async with store._transaction("dashboard_facets", write=False) as tx:
        rows = await tx.fetch(
            f"SELECT DISTINCT {column} AS value FROM tickets {where} ORDER BY 1 LIMIT 500", *args
        )
    return [row["value"] for row in rows]


def page_anchor(params: Mapping[str, str]) -> int | None:
    """The ``before`` id of a list page (ASCII digits within bigint range), or a 400."""
    try:
        return optional_id(params.get("before"), "before")
    except InputError as error:
        raise DashboardError(400, f"Tham số không hợp lệ: {error}.") from None


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return (
        ticket.expected_datetime is not None
        and ticket.expected_datetime < now
        and str(ticket.status) not in DONE_STATUSES
    )
