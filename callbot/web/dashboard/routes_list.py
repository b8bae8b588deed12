"""The calls-and-tickets list and its CSV export."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from callbot.tickets.model import Channel, TicketStatus, utcnow
from callbot.web.dashboard import labels
from callbot.web.dashboard.auth import Session, current_session
from callbot.web.dashboard.queries import (
    ListQuery,
    distinct_values,
    export_tickets,
    is_overdue,
    list_page,
    page_anchor,
)
from callbot.web.dashboard.templating import render

router = APIRouter()

FACETS_TTL_S = 300.0


async def _facets(request: Request, session: Session) -> dict[str, list[str]]:
    """Drop-down values, cached a few minutes: DISTINCT over 100,000 tickets on every page
    view would cost more than the page itself."""
    key = session.user.agency if not session.user.sees_all else "*"
    cache: dict[str | None, tuple[float, dict[str, list[str]]]] = getattr(
        request.app.state, "dashboard_facets", {}
    )
    request.app.state.dashboard_facets = cache
    cached = cache.get(key)
    if cached and time.monotonic() - cached[0] < FACETS_TTL_S:
        return cached[1]
    store = request.app.state.store
    facets = {
        "case_types": await distinct_values(store, "service_code", session.user),
        "admin_units": await distinct_values(store, "admin_unit", session.user),
        "agencies": await distinct_values(store, "agency_responsible", session.user),
    }
    cache[key] = (time.monotonic(), facets)
    return facets


@router.get("/")
async def ticket_list(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    query = ListQuery.from_params(request.query_params)
    zone = ZoneInfo(request.app.state.settings.web.timezone)
    before = page_anchor(request.query_params)
    page = await list_page(request.app.state.store, query, session.user, zone, before=before)
    params = query.params()
    next_url = "?" + urlencode({**params, "before": page.next_before}) if page.next_before else None
    return render(
        request,
        "list.html",
        {
            "session": session,
            "query": query,
            "page": page,
            "now": utcnow(),
            "is_overdue": is_overdue,
            "next_url": next_url,
            "first_url": "?" + urlencode(params) if before else None,
            "export_url": "export.csv" + ("?" + urlencode(params) if params else ""),
            "statuses": [str(s) for s in TicketStatus],
            "channels": [str(c) for c in Channel],
            "facets": await _facets(request, session),
            "case_labels": labels.CASE_TYPE,
        },
    )


EXPORT_COLUMNS = (
    "id",
    "requested_datetime",
    "status",
    "service_code",
    "admin_unit",
    "agency_responsible",
    "complete",
    "end_reason",
    "needs_callback",
    "caller_number",
    "callback_number",
    "expected_datetime",
    "description",
    "call_id",
)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell starting with = @ (or + - not part of a number)
    # would run as a formula in Excel / LibreOffice.
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


@router.get("/export.csv")
async def export_csv(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    query = ListQuery.from_params(request.query_params)
    settings = request.app.state.settings
    clock = labels.Clock(settings.web.timezone)
    zone = ZoneInfo(settings.web.timezone)
    # The first batch is read before the answer starts: a query that fails does so with an
    # error status, not as a 200 whose file stops after the header (issue 15). A failure
    # later aborts the chunked body, so the client sees a broken download, never a short
    # file that looks whole.
    tickets = export_tickets(request.app.state.store, query, session.user, zone)
    first = await anext(tickets, None)

    async def everything() -> AsyncIterator[Any]:
        if first is not None:
            yield first
            async for ticket in tickets:
                yield ticket

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # BOM: Excel then reads the Vietnamese text as UTF-8
        writer.writerow(EXPORT_COLUMNS)
        async for ticket in everything():
            writer.writerow(
                _cell(value)
                for value in (
                    ticket.id,
                    clock.datetime(ticket.requested_datetime),
                    ticket.status,
                    ticket.service_code,
                    ticket.admin_unit,
                    ticket.agency_responsible,
                    int(ticket.complete),
                    ticket.end_reason,
                    int(ticket.needs_callback),
                    ticket.caller_number,
                    ticket.callback_number,
                    clock.datetime(ticket.expected_datetime) if ticket.expected_datetime else "",
                    ticket.description,
                    ticket.call_id,
                )
            )
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = clock.local(utcnow()).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="phieu-1022-{stamp}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
