"""Jinja2 rendering for the dashboard: autoescape always on, Vietnamese labels and dates
as filters, and the security headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from callbot.web.dashboard import labels, wording
from callbot.web.dashboard.auth import CSRF_FIELD

TEMPLATES = Path(__file__).parent / "templates"

# Scripts, styles and media only from this server: an injected <script> in a transcript
# would be escaped anyway, and this is the second lock on that door.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self';"
        " script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its extension
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    status=lambda code: labels.label(labels.STATUS, code),
    case_type=lambda code: labels.label(labels.CASE_TYPE, code),
    end_reason=lambda code: labels.label(labels.END_REASON, code),
    slot=lambda code: labels.label(labels.SLOT, code),
    slot_source=lambda code: labels.label(labels.SLOT_SOURCE, code),
    speaker=lambda code: labels.label(labels.SPEAKER, code),
    channel=labels.channel,
    slot_value=labels.slot_value,
    system_turn=wording.system_turn,
    role=lambda code: labels.label(labels.ROLE, code),
    event=lambda code: labels.label(labels.EVENT, code),
    priority=lambda code: labels.label(labels.PRIORITY, code),
    offset=labels.offset,
    percent=labels.percent,
    confidence=lambda value: "—" if value is None else f"{value:.2f}".replace(".", ","),
)
_env.globals["CSRF_FIELD"] = CSRF_FIELD
_env.globals["slot_choices"] = labels.SLOT_VALUE  # coded slots are corrected from a list


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    clock = labels.Clock(request.app.state.settings.web.timezone)
    html = _env.get_template(template).render(
        request=request,
        dt=clock.datetime,
        date=clock.date,
        session=context.pop("session", None),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
