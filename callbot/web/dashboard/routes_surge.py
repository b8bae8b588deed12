"""Surge mode's page (issue 17 item 4): its state, the supervisor's switch, every change.

The dashboard may run in another process than the calls: the switch is written to the
store (``callbot/tickets/store/sql_surge.py``) and the call server reads it within a
second at new calls. Only the call centre's supervisors and administrators may set it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from callbot.tickets.store.sql_base import SqlStoreBase
from callbot.tickets.store.sql_surge import SWITCH_VALUES, SurgeStore
from callbot.web.dashboard.auth import Session, checked_form, current_session
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.templating import render

log = logging.getLogger(__name__)

router = APIRouter()

CHOICES = {
    "auto": "Tự động (theo số cuộc gọi)",
    "on": "Bật (kịch bản ngắn cho mọi cuộc gọi mới)",
    "off": "Tắt (kịch bản đầy đủ)",
}
assert tuple(CHOICES) == SWITCH_VALUES
FORBIDDEN = "Chỉ giám sát viên được đổi chế độ cao điểm."


def _surge_store(request: Request) -> SurgeStore:
    store = request.app.state.store
    if not isinstance(store, SqlStoreBase):
        raise DashboardError(404, "Kho phiếu này không lưu chế độ cao điểm.")
    return SurgeStore(store)


@router.get("/surge")
async def surge_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    if not session.user.manages_calls:
        raise DashboardError(403, FORBIDDEN)
    surge = _surge_store(request)
    switch = await surge.switch()
    changes = await surge.changes(50)
    state = next((c for c in changes if c.on is not None), None)
    return render(
        request,
        "surge.html",
        {
            "session": session,
            "switch": switch,
            "value": switch.value if switch else "auto",
            "state": state,
            "changes": changes,
            "choices": CHOICES,
            "error": request.query_params.get("error", "")[:200],
        },
    )


@router.post("/surge")
async def set_surge(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    form = await checked_form(request, session)  # CSRF first: a forged form learns nothing
    if not session.user.manages_calls:
        raise DashboardError(403, FORBIDDEN)
    value = form.get("value")
    if not isinstance(value, str) or value not in SWITCH_VALUES:
        raise DashboardError(400, "Chọn Tự động, Bật hoặc Tắt.")
    await _surge_store(request).set_switch(value, session.user.login)
    log.info("surge switch set to %s on the dashboard by %s", value, session.user.login)
    return RedirectResponse("/dashboard/surge", status_code=303)
