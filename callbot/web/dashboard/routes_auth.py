"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from callbot.web.dashboard import auth
from callbot.web.dashboard.auth import Session, current_session
from callbot.web.dashboard.templating import render

router = APIRouter()

LOGIN_FORM_MAX_AGE = 3600


def _safe_next(value: str | None) -> str:
    # Only paths on this dashboard: "next=https://evil.example" must not become a redirect.
    target = unquote(value or "")
    if target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return "/dashboard/"


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    token = auth.login_csrf(request)
    response = render(
        request, "login.html", {"next": next_url, "error": error, "csrf": token}, status
    )
    signed = auth.sign(request.app.state.secret_key, token)
    auth.set_cookie(request, response, auth.LOGIN_CSRF_COOKIE, signed, LOGIN_FORM_MAX_AGE)
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await auth.clean_form(request)
    auth.check_login_csrf(request, form.get(auth.CSRF_FIELD))
    login_name = str(form.get("login", "")).strip()[:100]
    password = str(form.get("password", ""))[:1000]
    next_url = _safe_next(str(form.get("next", "")))
    result = await auth.authenticate(request, login_name, password)
    if result.locked:
        message = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 5 phút."
        return _login_page(request, next_url, message, 429)
    if result.user is None:
        return _login_page(request, next_url, "Tên đăng nhập hoặc mật khẩu không đúng.", 401)
    response = RedirectResponse(next_url, status_code=303)
    await auth.start_session(request, response, result.user)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    await auth.checked_form(request, session)
    response = RedirectResponse("/dashboard/login", status_code=303)
    await auth.end_session(request, response, session)
    return response
