"""The supervisor dashboard: server-rendered pages under ``/dashboard/``.

``install(app)`` adds its routes, its static files (plain CSS and one small script, no
build step) and the handlers that turn its errors into HTML pages. See docs/dashboard.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from callbot.web.dashboard.errors import DashboardError, SignInRequired

PREFIX = "/dashboard"
STATIC = Path(__file__).parent / "static"


def build_router() -> APIRouter:
    from callbot.web.dashboard import (
        routes_auth,
        routes_call,
        routes_cases,
        routes_list,
        routes_live,
        routes_overview,
        routes_surge,
    )

    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    for module in (
        routes_auth,
        routes_list,
        routes_call,
        routes_cases,
        routes_overview,
        routes_surge,
        routes_live,
    ):
        router.include_router(module.router)
    return router


async def _dashboard_error(request: Request, error: Exception) -> Response:
    from callbot.web.dashboard.auth import optional_session
    from callbot.web.dashboard.templating import render

    assert isinstance(error, DashboardError)
    session = await optional_session(request)
    return render(
        request, "error.html", {"session": session, "message": error.message}, error.status_code
    )


async def _sign_in_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    return RedirectResponse(f"{PREFIX}/login?next={error.next_url}", status_code=303)


def install(app: FastAPI) -> None:
    app.include_router(build_router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.add_exception_handler(DashboardError, _dashboard_error)
    app.add_exception_handler(SignInRequired, _sign_in_required)

    @app.get(PREFIX, include_in_schema=False)
    async def dashboard_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)
