"""The web chat: the intake as a page at ``/chat/``, server-rendered, no build step.

Without JavaScript it is a plain form: each message is a POST answered by a redirect to
the page, which shows the whole conversation read back from the store (so a reload, or a
return hours later, continues it). With JavaScript (``static/web_chat.js``) the same POST
is sent by ``fetch`` and answered in JSON, without reloading.

- The user is a random id in a signed, HttpOnly, SameSite=Lax cookie; nothing personal is
  in it. The CSRF token is an HMAC of that id under the app's secret, checked on every POST.
- Messages are rate-limited per client address (``client_ip``: the TCP peer, or the
  trusted proxy's X-Forwarded-For), in this process: ``RATE_LIMIT`` per ``RATE_WINDOW_S``.
- Bad input is a 4xx with a Vietnamese message (empty, too long, NUL, a bad token); the
  conversation is not touched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from callbot.channels.conversation import (
    MAX_TEXT_CHARS,
    ConversationService,
    Reply,
    event_from_text,
)
from callbot.tickets.model import Channel, Speaker
from callbot.tickets.store.sql_conversations import ConversationConflict
from callbot.web.dashboard.auth import client_ip, set_cookie, sign, unsign
from callbot.web.dashboard.templating import SECURITY_HEADERS
from callbot.web.input_guard import InputError, clean_text

log = logging.getLogger(__name__)

PREFIX = "/chat"
HERE = Path(__file__).parent
COOKIE = "callbot_chat"
COOKIE_MAX_AGE_S = 7 * 24 * 3600  # a request can be finished days later
RATE_LIMIT = 30  # messages per client address …
RATE_WINDOW_S = 60.0  # … per minute: a person types far fewer
MAX_BODY_BYTES = 8192

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class ChatError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class RateLimiter:
    """A sliding window of message times per key, in memory (one process's view)."""

    def __init__(self, limit: int = RATE_LIMIT, window_s: float = RATE_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._seen) > 50_000:  # forget quiet clients rather than grow without end
            self._seen = {k: q for k, q in self._seen.items() if q and q[-1] > now - self.window_s}
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def service(request: Request) -> ConversationService:
    app = request.app
    if getattr(app.state, "conversations", None) is None:
        import ivr
        from callbot.speech.prompts import prompt_library

        prompts = prompt_library(app.state.settings.prompts)
        app.state.conversations = ConversationService(app.state.store, prompts.text_of, ivr.SCRIPT)
    return app.state.conversations


def _csrf(request: Request, user_id: str) -> str:
    key = request.app.state.secret_key.encode()
    return hmac.new(key, f"web-chat {user_id}".encode(), hashlib.sha256).hexdigest()


def _user(request: Request) -> str | None:
    return unsign(request.app.state.secret_key, request.cookies.get(COOKIE))


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = _env.get_template(template).render(request=request, prefix=PREFIX, **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


@router.get("/")
async def page(request: Request) -> Response:
    user = _user(request)
    fresh = user is None
    if user is None:
        user = secrets.token_urlsafe(18)
    view = await service(request).view(Channel.WEB_CHAT, user)
    response = _render(
        request,
        "web_chat.html",
        view=view,
        bot=Speaker.BOT,
        csrf=_csrf(request, user),
        max_chars=MAX_TEXT_CHARS,
    )
    if fresh:
        set_cookie(
            request, response, COOKIE, sign(request.app.state.secret_key, user), COOKIE_MAX_AGE_S
        )
    return response


async def _checked_form(request: Request) -> tuple[str, dict[str, str]]:
    """The user and the POSTed fields, after the size, text and CSRF checks."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ChatError(413, "Tin nhắn quá dài.")
    try:
        form = await request.form()
        fields = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise ChatError(400, "Biểu mẫu không hợp lệ.")
            fields[clean_text(key, "a field name")] = clean_text(value, key[:40])
    except InputError:
        raise ChatError(400, "Tin nhắn có ký tự không hợp lệ.") from None
    user = _user(request)
    sent = fields.get("csrf_token", "")
    if user is None or not hmac.compare_digest(sent, _csrf(request, user)):
        raise ChatError(403, "Phiên trò chuyện đã hết hạn. Hãy tải lại trang.")
    return user, fields


def _limited(request: Request) -> None:
    limiter: RateLimiter = request.app.state.web_chat_limiter
    if not limiter.allow(client_ip(request)):
        raise ChatError(429, "Bạn gửi quá nhanh. Xin chờ một phút rồi gửi tiếp.")


@router.post("/")
async def send(request: Request) -> Response:
    _limited(request)
    user, fields = await _checked_form(request)
    text = (fields.get("choice") or fields.get("text") or "").strip()
    if not text:
        raise ChatError(400, "Xin nhập nội dung tin nhắn.")
    if len(text) > MAX_TEXT_CHARS:
        raise ChatError(400, f"Tin nhắn dài quá {MAX_TEXT_CHARS} ký tự.")
    try:
        reply = await service(request).receive(Channel.WEB_CHAT, user, event_from_text(text))
    except ConversationConflict:
        raise ChatError(409, "Tin nhắn trước chưa xử lý xong. Xin gửi lại.") from None
    if _wants_json(request):
        return JSONResponse(_reply_json(text, reply), headers=SECURITY_HEADERS)
    return RedirectResponse(f"{PREFIX}/#cuoi", status_code=303)


@router.post("/new")
async def new(request: Request) -> Response:
    """Start over: the open request (if any) ends for a callback; a new id, a new ticket."""
    _limited(request)
    user, _ = await _checked_form(request)
    await service(request).hang_up(Channel.WEB_CHAT, user, "started a new request")
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    fresh = secrets.token_urlsafe(18)
    set_cookie(
        request, response, COOKIE, sign(request.app.state.secret_key, fresh), COOKIE_MAX_AGE_S
    )
    return response


def _reply_json(text: str, reply: Reply) -> dict[str, Any]:
    return {
        "you": text,
        "messages": list(reply.messages),
        "buttons": [{"label": b.label, "value": b.value} for b in reply.buttons],
        "done": reply.done,
        "ticket_id": reply.ticket_id,
    }


async def _chat_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ChatError)
    if _wants_json(request):
        body = json.dumps({"error": error.message}, ensure_ascii=False)
        return Response(body, error.status_code, SECURITY_HEADERS, "application/json")
    return _render(request, "web_chat_error.html", error.status_code, message=error.message)


def install(app: FastAPI) -> None:
    app.state.web_chat_limiter = RateLimiter()
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="chat-static")
    app.add_exception_handler(ChatError, _chat_error)

    @app.get(PREFIX, include_in_schema=False)
    async def chat_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)
