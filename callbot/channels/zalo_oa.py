"""The Zalo Official Account protocol, Sans-IO: bytes and dicts in, events and requests
out, no sockets (``zalo_client.py`` does the HTTP, ``zalo_webhook.py`` the endpoint).

What Zalo documents (see docs/channels.md for the sources):

- Webhook: Zalo POSTs each event as JSON with the header ``X-ZEvent-Signature:
  mac=<hex>``, where the hex is SHA-256 of ``app_id + body + timestamp + OA secret key``
  (the raw body, the ``timestamp`` field of that body, and the *OA* secret key, not the
  app's). It expects 200 within 2 s, else it delivers the event again.
- Events: ``user_send_text`` (``sender.id``, ``message.text``, ``message.msg_id``),
  ``follow`` and ``unfollow`` (``follower.id``); ids can be longer than a float holds, so
  they are kept as strings.
- Sending: ``POST {api}/v3.0/oa/message/cs`` with header ``access_token``; the answer is
  HTTP 200 with ``{"error": 0, "data": {"message_id": …}}`` or a negative ``error`` code.
- Tokens: ``POST {oauth}/v4/oa/access_token`` with header ``secret_key`` (the app's) and
  form ``refresh_token``, ``app_id``, ``grant_type=refresh_token``; the answer has a new
  ``access_token``, a new ``refresh_token`` (each one works once) and ``expires_in``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from callbot.channels.buttons import Button
from callbot.web.input_guard import InputError, parse_json

SIGNATURE_HEADER = "X-ZEvent-Signature"
SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
# Send-API codes that mean "this access token is no good" (invalid, expired): refresh it
# and send again. Others are about the message or the user and are not retried.
TOKEN_ERRORS = frozenset({-124, -216})
# Send-API codes that may pass if tried again later (Zalo's rate limits, internal errors).
RETRYABLE_ERRORS = frozenset({-32, -50, -10000})
MAX_TEXT_CHARS = 2000  # Zalo's limit for one text message
MAX_BUTTONS = 5


class ZaloEventError(ValueError):
    """An event body that is not a Zalo event (the message says what is wrong)."""


@dataclass(frozen=True)
class TextMessage:
    user_id: str
    text: str
    msg_id: str
    timestamp: str


@dataclass(frozen=True)
class Follow:
    user_id: str
    timestamp: str


@dataclass(frozen=True)
class Unfollow:
    user_id: str
    timestamp: str


@dataclass(frozen=True)
class Ignored:
    """An event the intake does not use (a sticker, a read receipt…): answered 200."""

    event_name: str


ZaloEvent = TextMessage | Follow | Unfollow | Ignored


def event_id(event: ZaloEvent) -> str | None:
    """What makes a delivery the same delivery again (Zalo retries an unanswered event)."""
    match event:
        case TextMessage(msg_id=msg_id):
            return f"msg:{msg_id}"
        case Follow(user_id, timestamp) | Unfollow(user_id, timestamp):
            return f"{type(event).__name__.lower()}:{user_id}:{timestamp}"
    return None


# --- The webhook -------------------------------------------------------------------


def mac(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    data = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(data).hexdigest()


def signature_header(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    return f"mac={mac(app_id, body, timestamp, oa_secret_key)}"


def read_body(body: bytes) -> dict[str, Any]:
    """The event's JSON object (bounded nesting and numbers, no NUL): ZaloEventError if not."""
    try:
        data = parse_json(body)
    except InputError as error:
        raise ZaloEventError(str(error)) from None
    if not isinstance(data, dict):
        raise ZaloEventError("the event is not a JSON object")
    return data


def verify(header: str | None, app_id: str, body: bytes, data: dict[str, Any], key: str) -> bool:
    """The signature header matches this body, for our app, under the OA secret key."""
    if not header or not key or not app_id:
        return False
    given = header.strip()
    given = given[4:] if given.startswith("mac=") else given
    timestamp = _id(data.get("timestamp"))
    if timestamp is None or str(_id(data.get("app_id"))) != app_id:
        return False
    return hmac.compare_digest(given.lower(), mac(app_id, body, timestamp, key))


def _id(value: Any) -> str | None:
    """An id or timestamp as text: Zalo sends strings; a number is taken as its digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable():
        return value
    return None


def parse_event(data: dict[str, Any]) -> ZaloEvent:
    name = data.get("event_name")
    if not isinstance(name, str):
        raise ZaloEventError("no event_name")
    timestamp = _id(data.get("timestamp")) or ""
    if name == "user_send_text":
        sender, message = data.get("sender"), data.get("message")
        if not isinstance(sender, dict) or not isinstance(message, dict):
            raise ZaloEventError("user_send_text without sender or message")
        user_id, msg_id = _id(sender.get("id")), _id(message.get("msg_id"))
        text = message.get("text")
        if user_id is None or msg_id is None or not isinstance(text, str):
            raise ZaloEventError("user_send_text without sender.id, message.msg_id or text")
        return TextMessage(user_id, text, msg_id, timestamp)
    if name in ("follow", "unfollow"):
        follower = data.get("follower")
        user_id = _id(follower.get("id")) if isinstance(follower, dict) else None
        if user_id is None:
            raise ZaloEventError(f"{name} without follower.id")
        return (Follow if name == "follow" else Unfollow)(user_id, timestamp)
    return Ignored(name[:64])


# --- Sending -----------------------------------------------------------------------


def message_body(user_id: str, text: str, buttons: tuple[Button, ...] = ()) -> dict[str, Any]:
    """A consultation ("cs") message; with buttons, each sends its value back as the user's
    text (``oa.query.show``), so a tap arrives as an ordinary ``user_send_text``."""
    message: dict[str, Any] = {"text": text[:MAX_TEXT_CHARS]}
    if buttons:
        message["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {"title": b.label[:100], "payload": b.value, "type": "oa.query.show"}
                    for b in buttons[:MAX_BUTTONS]
                ]
            },
        }
    return {"recipient": {"user_id": user_id}, "message": message}


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: int | None = None
    message: str = ""
    token_rejected: bool = False  # refresh the token and send again
    retryable: bool = False  # try again later


def send_result(status: int, body: bytes) -> SendResult:
    if status >= 500 or status == 429:
        return SendResult(False, None, f"HTTP {status}", retryable=True)
    try:
        data = read_body(body)
    except ZaloEventError:
        return SendResult(False, None, f"HTTP {status}, unreadable answer", retryable=True)
    code = data.get("error")
    if status == 200 and code == 0:
        return SendResult(True, 0)
    if not isinstance(code, int) or isinstance(code, bool):
        return SendResult(False, None, f"HTTP {status}", retryable=status >= 500)
    text = str(data.get("message", ""))[:200]
    return SendResult(
        False, code, text, token_rejected=code in TOKEN_ERRORS, retryable=code in RETRYABLE_ERRORS
    )


# --- Tokens ------------------------------------------------------------------------
