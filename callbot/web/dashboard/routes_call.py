"""One call's page: recording, transcript, slots, history; and the actions on its ticket."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.model import (
    STATUS_TRANSITIONS,
    SlotSource,
    SlotValue,
    Speaker,
    Ticket,
    TicketStatus,
    TurnKind,
    utcnow,
)
from callbot.tickets.service_requests import PERSONAL_SLOTS
from callbot.tickets.store.base import NotFoundError, TransitionError
from callbot.web.dashboard import labels, replay, wording
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import Session, checked_form, current_session
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.queries import is_overdue
from callbot.web.dashboard.recordings import (
    RecordingPathError,
    recording_response,
    resolve_recording,
)
from callbot.web.dashboard.templating import render
from callbot.web.input_guard import ticket_id as parse_ticket_id

log = logging.getLogger(__name__)

router = APIRouter()

# A playback makes several range requests (and a seek makes more): replays by one person of
# one call within this window are one entry in the log.
REPLAY_DEDUPE = timedelta(minutes=2)
# How the readback prompt begins (prompts/texts.toml, readback_intro).
READBACK_MARK = "Xin nhắc lại thông tin"
MAX_TEXT = 2000

NOT_FOUND = "Không tìm thấy phiếu này, hoặc bạn không có quyền xem."


# A public note is published on Open311: 9+ digits in a run (single spaces, dots or dashes
# between them) is a phone number; a date (8 digits) is not.
PHONE_LIKE = re.compile(r"(?:[0-9][ .\-]?){8}[0-9]")


async def visible_ticket(
    request: Request, session: Session, ticket_id: str
) -> tuple[Ticket, frozenset[str]]:
    """The ticket if this user may see it, with the agencies it is delivered to (for an
    officer of a second agency). Another agency's ticket, and an id that cannot be one
    ("²", 2**64), answer 404 like a missing one, so ids cannot be probed."""
    store = request.app.state.store
    number = parse_ticket_id(ticket_id)
    ticket = await store.get_ticket(number) if number is not None else None
    delivered: frozenset[str] = frozenset()
    user = session.user
    if ticket is not None and not user.sees_all and ticket.case_id is not None:
        # A call linked to a household's case (issue 18) is seen by whoever sees the case.
        case, delivered = await visible_ticket(request, session, str(ticket.case_id))
        return ticket, delivered | {case.agency_responsible or ""}
    if ticket is not None and not user.sees_all and ticket.agency_responsible != user.agency:
        deliveries = await store.list_deliveries(ticket_id=ticket.id)
        delivered = frozenset(
            d.agency_name for d in deliveries if d.status is not DeliveryStatus.SUPERSEDED
        )
    if ticket is None or not user.can_see(ticket, delivered):
        raise DashboardError(404, NOT_FOUND)
    return ticket, delivered


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    kind: str
    details: list[tuple[str, str]]
    reason: str | None = None


@router.get("/tickets/{ticket_id}")
async def ticket_page(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    store = request.app.state.store
    ticket, delivered = await visible_ticket(request, session, ticket_id)
    turns = await store.list_turns(ticket.call_id) if ticket.call_id else []
    accounts = AccountStore(store)
    clock = labels.Clock(request.app.state.settings.web.timezone)
    history = [
        HistoryLine(
            event.at,
            wording.actor(event.actor),
            str(event.kind),
            wording.event_details(str(event.kind), event.data, clock.datetime),
            event.reason,
        )
        for event in await store.list_history(ticket.id)
    ]
    history += [
        HistoryLine(note.at, note.actor, "note", [("", note.text)])
        for note in await accounts.list_notes(ticket.id)
    ]
    history.sort(key=lambda line: line.at)
    readbacks = [
        turn.seq
        for turn in turns
        if turn.speaker is Speaker.BOT
        and turn.kind is TurnKind.PROMPT
        and turn.text.startswith(READBACK_MARK)
    ]
    replays = await accounts.list_replays(ticket_id=ticket.id) if session.user.sees_replays else []
    lanes = replay.lanes(turns, _duration_ms(request, ticket)) if ticket.recording_path else None
    return render(
        request,
        "ticket.html",
        {
            "session": session,
            "ticket": ticket,
            "turns": turns,
            "readbacks": readbacks,
            "confirmed_readback": readbacks[-1] if readbacks and ticket.complete else None,
            "history": history,
            "replays": replays,
            "overdue": is_overdue(ticket, utcnow()),
            "next_statuses": [str(s) for s in sorted(STATUS_TRANSITIONS[ticket.status])],
            "missing_slots": [name for name in labels.SLOT if name not in ticket.slots],
            "routing_rule": wording.routing_rule(ticket.routing_rule),
            "lanes": lanes,
            "lane_width": replay.LANE_WIDTH,
            "can_act": session.user.can_act(ticket, delivered),
            "manages": session.user.manages_calls,
            # Issue 18: the calls linked to this ticket's household case (routes_cases.py)
            "case_calls": [] if ticket.case_id else await store.case_calls(ticket.id),
            "error": request.query_params.get("error", "")[:300],
        },
    )


def _duration_ms(request: Request, ticket: Ticket) -> int | None:
    try:
        path = resolve_recording(
            Path(request.app.state.settings.recordings.dir), ticket.recording_path or ""
        )
    except RecordingPathError:
        return None
    return replay.recording_duration_ms(path)


@router.get("/tickets/{ticket_id}/recording")
async def recording(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, _ = await visible_ticket(request, session, ticket_id)
    if not ticket.recording_path:
        raise DashboardError(404, "Cuộc gọi này không có ghi âm.")
    recordings_dir = Path(request.app.state.settings.recordings.dir)
    try:
        path = resolve_recording(recordings_dir, ticket.recording_path)
    except RecordingPathError:
        log.warning("ticket %d: recording path outside the recordings directory refused", ticket.id)
        raise DashboardError(404, "Không tìm thấy ghi âm.") from None
    try:
        response = recording_response(path)
    except OSError:  # gone (the retention job), or not a regular file
        raise DashboardError(404, "Không tìm thấy ghi âm.") from None
    range_header = request.headers.get("range")
    # A playback starts at byte 0; later range requests are the same playback seeking.
    if not range_header or range_header.replace(" ", "").startswith("bytes=0-"):
        now = utcnow()
        await AccountStore(request.app.state.store).log_replay(
            session.user, ticket.id, ticket.call_id, now, now - REPLAY_DEDUPE
        )
    return response


def _back(ticket_id: int, error: str = "") -> RedirectResponse:
    from urllib.parse import urlencode

    suffix = "?" + urlencode({"error": error}) if error else ""
    return RedirectResponse(f"/dashboard/tickets/{ticket_id}{suffix}#actions", status_code=303)


def _text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return str(value).strip()[:MAX_TEXT] if isinstance(value, str) else ""


async def _acting(
    request: Request, session: Session, ticket_id: str, *, manager: bool = False
) -> tuple[Ticket, Any]:
    """Check CSRF first (a forged form learns nothing), then the right to act."""
    form = await checked_form(request, session)
    ticket, delivered = await visible_ticket(request, session, ticket_id)
    allowed = session.user.manages_calls if manager else session.user.can_act(ticket, delivered)
    if not allowed:
        raise DashboardError(403, "Bạn không có quyền thực hiện thao tác này.")
    return ticket, form


@router.post("/tickets/{ticket_id}/slots")
async def correct_slot(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id, manager=True)
    name, value = _text(form, "name"), _text(form, "value")
    if name not in labels.SLOT or not value:
        return _back(ticket.id, "Chọn thông tin cần sửa và nhập giá trị mới.")
    if ticket.call_id is None:
        return _back(ticket.id, "Phiếu này không gắn với cuộc gọi.")
    slot = SlotValue(name, value, SlotSource.SUPERVISOR, 1.0, heard="")
    await request.app.state.store.set_slot(ticket.call_id, slot, actor=session.user.login)
    log.info("ticket %d: slot %s corrected on the dashboard", ticket.id, name)
    return _back(ticket.id)


@router.post("/tickets/{ticket_id}/status")
async def change_status(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id)
    try:
        new_status = TicketStatus(_text(form, "status"))
    except ValueError:
        return _back(ticket.id, "Trạng thái không hợp lệ.")
    # Two notes (issue 15): "note", the form's first field and the only one older forms
    # send, is internal; "public_note" becomes Open311's status_notes, which anyone reads.
    internal, public = _text(form, "note"), _text(form, "public_note")
    reason = _text(form, "reason")
    if new_status is TicketStatus.REJECTED and not reason:
        return _back(ticket.id, "Từ chối phiếu cần ghi lý do.")
    problem = public_note_problem(public, ticket)
    if problem:
        return _back(ticket.id, problem)
    try:
        await request.app.state.store.change_status(
            ticket.id, new_status, session.user.login, public, reason=reason or None
        )
    except TransitionError:
        return _back(ticket.id, "Không thể chuyển sang trạng thái này từ trạng thái hiện tại.")
    except NotFoundError:
        raise DashboardError(404, NOT_FOUND) from None
    if internal:  # after the change, so a refused transition leaves no orphan note
        await AccountStore(request.app.state.store).add_note(
            ticket.id, session.user.login, internal, utcnow()
        )
    return _back(ticket.id)


def public_note_problem(note: str, ticket: Ticket) -> str | None:
    """Why this public note must not be published, or None. A last guard only: the form
    says the note is public; this catches the caller's own details typed into it."""
    if not note:
        return None
    if PHONE_LIKE.search(note):
        return "Ghi chú công khai không được chứa số điện thoại; hãy ghi vào ghi chú nội bộ."
    personal = [ticket.caller_number, ticket.callback_number, ticket.description]
    personal += [ticket.slots[name].value for name in PERSONAL_SLOTS if name in ticket.slots]
    folded = note.casefold()
    if any(value and len(value) >= 4 and value.casefold() in folded for value in personal):
        return "Ghi chú công khai chứa thông tin cá nhân của người gọi; hãy ghi vào ghi chú nội bộ."
    return None


@router.post("/tickets/{ticket_id}/routing")
async def reroute(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id, manager=True)
    agency = _text(form, "agency")[:200]
    if not agency:
        return _back(ticket.id, "Nhập cơ quan tiếp nhận.")
    expected = ticket.expected_datetime
    due = _text(form, "expected_date")
    if due:
        try:
            day = datetime.strptime(due, "%Y-%m-%d").date()
        except ValueError:
            return _back(ticket.id, "Hạn xử lý không hợp lệ.")
        zone = ZoneInfo(request.app.state.settings.web.timezone)
        expected = datetime.combine(day, time(17, 0), tzinfo=zone)  # end of the working day
    try:
        await request.app.state.store.set_routing(
            ticket.id, agency, "dashboard", expected, actor=session.user.login
        )
    except TransitionError:
        return _back(ticket.id, "Phiếu đã được tiếp nhận, không thể chuyển cơ quan.")
    return _back(ticket.id)


@router.post("/tickets/{ticket_id}/notes")
async def add_note(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id)
    text = _text(form, "text")
    if not text:
        return _back(ticket.id, "Ghi chú trống.")
    await AccountStore(request.app.state.store).add_note(
        ticket.id, session.user.login, text, utcnow()
    )
    return _back(ticket.id)
