"""The supervisors' live view (issue 17, item 5): the calls the bot holds now.

Built from the store alone (callbot/tickets/store/sql_live.py), because the dashboard may
run in another process or on another machine than the calls. ``/dashboard/live`` is a plain
list that reloads itself without JavaScript; with it, live.js follows
``/dashboard/live/events``: server-sent events from a once-a-second poll of the store, each
call sent only when something in it changed, and a ``gone`` event when it ended. "Hand back
now" is a form (CSRF-checked like every dashboard POST) that records the request in the
store; the call's session picks it up within about a second. Only the call centre's own
staff (administrators, supervisors) see calls in progress, and numbers only masked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from callbot.tickets.store.base import NotFoundError, StoreError
from callbot.tickets.store.sql_live import HandbackOutcome, LiveCall
from callbot.web.dashboard import labels
from callbot.web.dashboard.auth import Session, checked_form, current_session, optional_session
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.templating import SECURITY_HEADERS, render
from callbot.web.input_guard import ticket_id as parse_ticket_id

log = logging.getLogger(__name__)

router = APIRouter()

POLL_S = 1.0  # how often the stream reads the store
KEEPALIVE_S = 15.0  # a comment line so proxies keep an idle stream open
REFRESH_S = 5  # the page's own reload when there is no JavaScript
NOT_ALLOWED = "Chỉ giám sát viên và quản trị viên xem được cuộc gọi đang diễn ra."
NOT_LIVE = "Không tìm thấy cuộc gọi đang diễn ra của phiếu này."

# Streams open now, in this process: each polls the store once a second, so a leak shows.
open_streams = 0


def _supervisor(session: Session) -> Session:
    if not session.user.manages_calls:
        raise DashboardError(403, NOT_ALLOWED)
    return session


def call_data(call: LiveCall, clock: labels.Clock) -> dict[str, object]:
    """What the page shows of one call, as JSON for the stream (the same fields the HTML
    list renders, so the two cannot disagree)."""
    return {
        "ticket_id": call.ticket_id,
        "started": clock.datetime(call.started_at),
        "caller": call.caller,
        "priority": str(call.priority),
        "priority_label": labels.label(labels.PRIORITY, call.priority),
        "question": call.question or "",
        "slots": [
            [labels.label(labels.SLOT, name), labels.slot_value(name, value)]
            for name, value in sorted(call.slots.items())
            if name != "urgency"  # shown as the priority badge
        ],
        "turns": [[labels.label(labels.SPEAKER, t.speaker), t.kind, t.text] for t in call.turns],
        "handback": str(call.handback) if call.handback else "",
    }


@router.get("/live")
async def live_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    _supervisor(session)
    clock = labels.Clock(request.app.state.settings.web.timezone)
    calls = await request.app.state.store.live_calls()
    return render(
        request,
        "live.html",
        {
            "session": session,
            "calls": [call_data(call, clock) for call in calls],
            "refresh_s": REFRESH_S,
            "handback_label": labels.HANDBACK_STATE,
        },
    )


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def live_events(
    request: Request, clock: labels.Clock, *, poll_s: float = POLL_S
) -> AsyncIterator[str]:
    """Changes only: a call when it is new or something in it changed, ``gone`` when it
    ended. Stops when the client goes away (checked every poll)."""
    global open_streams
    open_streams += 1
    try:
        async for chunk in _changes(request, clock, poll_s):
            yield chunk
    finally:  # the client went away, or the server is stopping
        open_streams -= 1


async def _changes(request: Request, clock: labels.Clock, poll_s: float) -> AsyncIterator[str]:
    store = request.app.state.store
    sent: dict[int, str] = {}
    quiet = 0.0
    yield "retry: 2000\n\n"  # the browser's EventSource reconnects after 2 s
    while not await request.is_disconnected():
        try:
            calls = await store.live_calls()
        except StoreError as error:  # the store is down: say nothing new, try again
            log.warning("live view: %s", error)
            calls = None
        if calls is not None:
            now = {}
            for call in calls:
                data = call_data(call, clock)
                now[call.ticket_id] = json.dumps(data, ensure_ascii=False, sort_keys=True)
                if sent.get(call.ticket_id) != now[call.ticket_id]:
                    quiet = 0.0
                    yield _event("call", data)
            for gone in sent.keys() - now.keys():
                quiet = 0.0
                yield _event("gone", {"ticket_id": gone})
            sent = now
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(poll_s)
        quiet += poll_s


@router.get("/live/events")
async def live_stream(request: Request) -> Response:
    # A stream is not a page: without a session it answers 401 rather than a redirect to
    # the sign-in form, which EventSource would follow and read as garbage.
    session = await optional_session(request)
    if session is None:
        raise DashboardError(401, "Cần đăng nhập.")
    _supervisor(session)
    clock = labels.Clock(request.app.state.settings.web.timezone)
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}  # nginx: no buffering
    return StreamingResponse(
        live_events(request, clock), media_type="text/event-stream", headers=headers
    )


@router.post("/live/{ticket_id}/handback")
async def hand_back_now(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    _supervisor(session)
    await checked_form(request, session)
    number = parse_ticket_id(ticket_id)
    if number is None:
        raise DashboardError(404, NOT_LIVE)
    try:
        outcome = await request.app.state.store.request_handback(number, actor=session.user.login)
    except NotFoundError:
        raise DashboardError(404, NOT_LIVE) from None
    if outcome is HandbackOutcome.ENDED:
        raise DashboardError(409, "Cuộc gọi này vừa kết thúc.")
    log.info("live view: hand-back of ticket %d asked (%s)", number, outcome)
    return RedirectResponse("/dashboard/live", status_code=303)
