"""One case per household on the dashboard (issue 18 item 3): a supervisor's link or split
by hand (the ticket page, routes_call.py, shows a ticket's case and the calls linked to it).

The store keeps the rules (callbot/tickets/store/sql_cases.py: cases do not nest, only open
tickets); a refused link comes back as the form's error, never a 500. A split ticket is
routed at once on its own, as the match would have left it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from callbot.tickets.household import MatchBy
from callbot.tickets.store.base import CaseLinkError, NotFoundError
from callbot.web.dashboard.auth import Session, current_session
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.routes_call import NOT_FOUND, _acting, _back, _text
from callbot.web.input_guard import ticket_id as parse_ticket_id
from callbot.web.open311 import ticket_pipeline

log = logging.getLogger(__name__)

router = APIRouter()


@router.post("/tickets/{ticket_id}/case")
async def link(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id, manager=True)
    case_id = parse_ticket_id(_text(form, "case"))
    if case_id is None:
        return _back(ticket.id, "Nhập số phiếu của hồ sơ cần gộp vào.")
    store = request.app.state.store
    try:
        await store.link_to_case(
            ticket.id, case_id, actor=session.user.login, by=str(MatchBy.SUPERVISOR)
        )
    except NotFoundError:
        return _back(ticket.id, f"Không có phiếu #{case_id}.")
    except CaseLinkError as error:
        log.info("ticket %d: link to case %d refused: %s", ticket.id, case_id, error)
        return _back(ticket.id, REFUSAL[error.code])
    log.info("ticket %d: linked to case %d on the dashboard", ticket.id, case_id)
    return _back(ticket.id)


@router.post("/tickets/{ticket_id}/case/split")
async def split(
    request: Request, ticket_id: str, session: Annotated[Session, Depends(current_session)]
) -> Response:
    ticket, form = await _acting(request, session, ticket_id, manager=True)
    reason = _text(form, "reason")
    if not reason:
        return _back(ticket.id, "Tách phiếu khỏi hồ sơ cần ghi lý do.")
    store = request.app.state.store
    try:
        await store.split_from_case(ticket.id, actor=session.user.login, reason=reason)
    except CaseLinkError as error:
        return _back(ticket.id, REFUSAL[error.code])
    except NotFoundError:
        raise DashboardError(404, NOT_FOUND) from None
    # Its own case now: routed as any new ticket (the match does not run again).
    await ticket_pipeline(request).after_call(await store.get_ticket(ticket.id))
    log.info("ticket %d: split from its case on the dashboard", ticket.id)
    return _back(ticket.id)


REFUSAL = {  # the store's reason (CaseLinkError.code), in the supervisor's language
    "already_linked": "Phiếu này đã thuộc một hồ sơ khác: tách ra trước.",
    "nested": "Phiếu đó đã được gộp vào hồ sơ khác: hãy gộp vào hồ sơ gốc.",
    "has_calls": "Phiếu này đang là hồ sơ có cuộc gọi gộp vào: tách các cuộc gọi đó trước.",
    "itself": "Không thể gộp phiếu vào chính nó.",
    "not_open": "Chỉ gộp được các phiếu đang xử lý vào một hồ sơ đang mở.",
    "not_linked": "Phiếu này không thuộc hồ sơ nào.",
}
