"""The one ASGI application ``callbot serve`` exposes next to the AudioSocket server.

Each concern is its own router module (dashboard, Open311 API, metrics) included here;
they share the ticket store and settings through ``app.state``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from callbot.call.metrics import CallMetrics
from callbot.channels.web_chat import install as install_web_chat
from callbot.channels.zalo_webhook import install as install_zalo
from callbot.config import Settings
from callbot.tickets.store.base import TicketStore
from callbot.web.dashboard import install as install_dashboard
from callbot.web.input_guard import InputGuard
from callbot.web.metrics import install_metrics
from callbot.web.open311 import router as open311_router

log = logging.getLogger(__name__)
READY_TIMEOUT_S = 2.0  # a store slower than this to answer one read is not ready


def create_app(
    store: TicketStore, settings: Settings, metrics: CallMetrics | None = None
) -> FastAPI:
    # No Swagger UI / ReDoc page: FastAPI loads them from a CDN, and this runs offline (the
    # Swagger UI on PyPI, 4.x, cannot show OpenAPI 3.1). The API is described in
    # docs/tickets.md and, machine-readable, at /openapi.json.
    app = FastAPI(title="callbot-1022", docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.settings = settings
    app.state.metrics = metrics or CallMetrics()
    app.state.secret_key = settings.web.secret_key or secrets.token_urlsafe(32)
    install_metrics(app)  # GET /metrics (Prometheus)
    app.include_router(open311_router)  # /open311/v2/ (GeoReport v2 API, issue 5)
    install_dashboard(app)  # /dashboard/ (supervisor pages)
    install_web_chat(app)  # /chat/ (the intake as a web chat, issue 19)
    install_zalo(app)  # /channels/zalo/webhook (the Zalo Official Account, issue 19)
    app.add_middleware(InputGuard)  # NUL / invalid UTF-8 in a path or query string: 400

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. Touches nothing, however often it is polled."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the store answers a read and the speech model opens a stream. 503
        names the part that is not ready; why goes to the log only (it may hold a host)."""
        checks = {"store": await _store_ready(request.app), "model": _model_ready(request.app)}
        ready = all(state == "ok" for state in checks.values())
        body = {"status": "ready" if ready else "not ready", **checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    return app


async def _store_ready(app: FastAPI) -> str:
    try:
        await asyncio.wait_for(app.state.store.get_ticket(0), READY_TIMEOUT_S)
    except Exception as error:  # whatever it is, the store cannot serve a call now
        log.warning("not ready: ticket store: %s", error or type(error).__name__)
        return "unavailable"
    return "ok"


def _model_ready(app: FastAPI) -> str:
    services = getattr(app.state, "services", None)  # set by callbot.server
    if services is None:
        return "not loaded"
    try:
        services.asr.open_stream().cancel()
    except Exception as error:
        log.warning("not ready: speech model: %s", error)
        return "unavailable"
    return "ok"
