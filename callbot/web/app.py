"""The one ASGI application ``callbot serve`` exposes next to the AudioSocket server.

Each concern is its own router module (dashboard, Open311 API, metrics) included here;
they share the ticket store and settings through ``app.state``.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from callbot.call.metrics import CallMetrics
from callbot.config import Settings
from callbot.tickets.store.base import TicketStore
from callbot.web.dashboard import install as install_dashboard
from callbot.web.metrics import install_metrics
from callbot.web.open311 import router as open311_router


def create_app(
    store: TicketStore, settings: Settings, metrics: CallMetrics | None = None
) -> FastAPI:
    app = FastAPI(title="callbot-1022", docs_url="/api/docs", redoc_url=None)
    app.state.store = store
    app.state.settings = settings
    app.state.metrics = metrics or CallMetrics()
    app.state.secret_key = settings.web.secret_key or secrets.token_urlsafe(32)
    install_metrics(app)  # GET /metrics (Prometheus)
    app.include_router(open311_router)  # /open311/v2/ (GeoReport v2 API, issue 5)
    install_dashboard(app)  # /dashboard/ (supervisor pages)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    return app
