"""Sign-in, sessions and CSRF for the dashboard.

- Passwords: argon2id (argon2-cffi's defaults); an unknown login still costs one hash check,
  so response time does not tell which logins exist.
- Sessions: the cookie carries a random token plus an HMAC of it under the app's secret key
  (a forged or truncated cookie is refused without a database read); the store keeps only
  the token's SHA-256 in ``dashboard_sessions``, so logout, ``users disable`` and
  ``users set-password`` end a session at once. Cookies are HttpOnly, SameSite=Lax, and
  Secure when ``web.secure_cookies`` is on. Sessions slide: each use (at most one write per
  ``TOUCH_EVERY``) pushes the expiry ``IDLE_TIMEOUT`` ahead.
- CSRF: each session has its own token, put in every form; every POST is checked
  (``checked_form``). The sign-in form, before any session, uses a signed double-submit
  cookie instead.
- Rate limit: ``MAX_FAILURES`` failed sign-ins per login and client address within
  ``FAILURE_WINDOW`` lock that pair until the oldest failure ages out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from callbot.tickets.model import utcnow
from callbot.web.dashboard.accounts_store import AccountStore, SessionInfo
from callbot.web.dashboard.errors import DashboardError, SignInRequired
from callbot.web.dashboard.roles import User

log = logging.getLogger(__name__)

SESSION_COOKIE = "callbot_session"
LOGIN_CSRF_COOKIE = "callbot_login_csrf"
IDLE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=5)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=5)
CSRF_FIELD = "csrf_token"

_hasher = PasswordHasher()
# Checked against when the login does not exist, so both paths cost one argon2 verify.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret_key: str, value: str) -> str:
    digest = hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret_key: str, value: str) -> str:
    return f"{value}.{_mac(secret_key, value)}"


def unsign(secret_key: str, signed: str | None) -> str | None:
    """The value if the signature is right, else None."""
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    return value if hmac.compare_digest(mac, _mac(secret_key, value)) else None


@dataclass(frozen=True)
class Session:
    """The signed-in user of one request, with what forms need."""

    user: User
    csrf_token: str
    token_hash: str


def accounts(request: Request) -> AccountStore:
    return AccountStore(request.app.state.store)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.settings.web.secure_cookies),
    )


async def optional_session(request: Request) -> Session | None:
    signed = request.cookies.get(SESSION_COOKIE)
    token = unsign(request.app.state.secret_key, signed)
    if token is None:
        return None
    token_hash = _token_hash(token)
    now = utcnow()
    store = accounts(request)
    info: SessionInfo | None = await store.live_session(token_hash, now)
    if info is None:
        return None
    if now - info.seen_at >= TOUCH_EVERY:
        await store.extend_session(token_hash, now, now + IDLE_TIMEOUT)
    return Session(info.user, info.csrf_token, token_hash)


async def current_session(request: Request) -> Session:
    """FastAPI dependency: the session, or a redirect to the sign-in page."""
    session = await optional_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(quote(target, safe=""))
    return session


async def start_session(request: Request, response: Response, user: User) -> None:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await accounts(request).start_session(
        user.id, _token_hash(token), secrets.token_urlsafe(32), now, now + IDLE_TIMEOUT
    )
    max_age = int(IDLE_TIMEOUT.total_seconds())
    set_cookie(
        request, response, SESSION_COOKIE, sign(request.app.state.secret_key, token), max_age
    )


async def end_session(request: Request, response: Response, session: Session) -> None:
    await accounts(request).end_session(session.token_hash, utcnow())
    response.delete_cookie(SESSION_COOKIE, path="/")


async def checked_form(request: Request, session: Session) -> FormData:
    """The POSTed form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf_token):
        log.warning("form without a valid CSRF token refused (%s)", request.url.path)
        raise DashboardError(
            403, "Biểu mẫu không hợp lệ (thiếu mã chống giả mạo). Hãy tải lại trang."
        )
    return form


def login_csrf(request: Request) -> str:
    """The pre-session CSRF token of the sign-in form (kept in a signed cookie)."""
    current = unsign(request.app.state.secret_key, request.cookies.get(LOGIN_CSRF_COOKIE))
    return current or secrets.token_urlsafe(24)


def check_login_csrf(request: Request, sent: object) -> None:
    expected = unsign(request.app.state.secret_key, request.cookies.get(LOGIN_CSRF_COOKIE))
    if expected is None or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise DashboardError(403, "Biểu mẫu đăng nhập hết hạn. Hãy tải lại trang.")


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked: bool = False


async def authenticate(request: Request, login: str, password: str) -> SignInResult:
    store = accounts(request)
    ip = client_ip(request)
    now = utcnow()
    if await store.recent_failures(login, ip, now - FAILURE_WINDOW) >= MAX_FAILURES:
        log.warning("sign-in locked for a login from %s after repeated failures", ip)
        return SignInResult(None, locked=True)
    found = await store.find_login(login)
    password_hash = found[1] if found else _DUMMY_HASH
    ok = verify_password(password_hash, password)
    if found is None or not ok or found[0].disabled:
        await store.record_failure(login, ip, now, forget=now - FAILURE_WINDOW)
        log.info("failed sign-in from %s", ip)
        return SignInResult(None)
    await store.clear_failures(login, ip)
    log.debug("signed in: %s", login)
    return SignInResult(found[0])
