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
- Sign-in limits (issue 15): within ``FAILURE_WINDOW``, at most ``MAX_FAILURES`` attempts
  per login from one address, ``MAX_PER_ADDRESS`` per address (any login),
  ``MAX_PER_LOGIN`` per login (any address) and ``MAX_TOTAL`` in all. Each attempt is
  counted atomically *before* its password is checked and given back when it succeeds, so
  parallel attempts cannot race past the count. The client address is the TCP peer;
  ``X-Forwarded-For`` is believed only from ``web.trusted_proxies`` (uvicorn's own proxy
  header handling is off, see callbot/server.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
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
from callbot.web.input_guard import InputError, clean_fields

log = logging.getLogger(__name__)

SESSION_COOKIE = "callbot_session"
LOGIN_CSRF_COOKIE = "callbot_login_csrf"
IDLE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=5)
MAX_FAILURES = 5  # one login from one address
MAX_PER_ADDRESS = 20  # one address, every login: guessing many accounts
MAX_PER_LOGIN = 20  # one login, every address: a distributed guess at one account
MAX_TOTAL = 200  # the whole dashboard: a botnet's spread-out guessing stops here
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(entries: list[str]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:  # config validation names it at start-up; never trust garbage
            log.warning("web.trusted_proxies: %r is not an IP or CIDR, ignored", entry)
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: Request) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    right-most ``X-Forwarded-For`` hop that is not itself a trusted proxy (each proxy
    appends the address it saw, so hops left of that were written by the client)."""
    peer = request.client.host if request.client else "unknown"
    trusted = _networks(request.app.state.settings.web.trusted_proxies)

    def is_trusted(address: object) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not trusted or not is_trusted(_address(peer)):
        return peer
    hops = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage where our proxy writes: fall back to the proxy's own address
        if not is_trusted(address):
            return str(address)
    return peer


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
    form = await clean_form(request)
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf_token):
        log.warning("form without a valid CSRF token refused (%s)", request.url.path)
        raise DashboardError(
            403, "Biểu mẫu không hợp lệ (thiếu mã chống giả mạo). Hãy tải lại trang."
        )
    return form


async def clean_form(request: Request) -> FormData:
    """The POSTed form, refused (400) if a field holds NUL or a lone surrogate, which no
    store can keep (PostgreSQL text refuses NUL)."""
    form = await request.form()
    try:
        clean_fields(form.multi_items())
    except InputError as error:
        raise DashboardError(400, f"Biểu mẫu không hợp lệ: {error}.") from None
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


def limit_keys(login: str, ip: str) -> dict[str, tuple[str, int]]:
    """The counters one attempt is charged to, by kind: ``(key, limit)``."""
    return {
        "pair": (f"pair {ip} {login}", MAX_FAILURES),
        "address": (f"address {ip}", MAX_PER_ADDRESS),
        "login": (f"login {login}", MAX_PER_LOGIN),
        "all": ("all", MAX_TOTAL),
    }


async def authenticate(request: Request, login: str, password: str) -> SignInResult:
    store = accounts(request)
    ip = client_ip(request)
    now = utcnow()
    keys = limit_keys(login, ip)
    over = await store.reserve_attempt(list(keys.values()), now, now - FAILURE_WINDOW)
    if over is not None:
        kind = next(kind for kind, (key, _) in keys.items() if key == over)
        log.warning("sign-in refused from %s: the %s limit is reached", ip, kind)
        return SignInResult(None, locked=True)
    found = await store.find_login(login)
    password_hash = found[1] if found else _DUMMY_HASH
    # In a thread: argon2 takes tens of milliseconds of CPU, which on the event loop would
    # stall every other request (and calls' web traffic) during a burst of sign-ins.
    ok = await asyncio.to_thread(verify_password, password_hash, password)
    if found is None or not ok or found[0].disabled:
        await store.forget_attempts(now - FAILURE_WINDOW)
        log.info("failed sign-in from %s", ip)
        return SignInResult(None)  # the reserved attempt stays counted: it failed
    pair = keys["pair"][0]
    await store.release_attempt([key for key, _ in keys.values() if key != pair], [pair])
    log.debug("signed in: %s", login)
    return SignInResult(found[0])
