"""Zalo ZNS (Zalo Notification Service): a pre-approved template message to the Zalo account
of a phone number (https://developers.zalo.me/docs/zalo-notification-service/,
https://zalo.cloud/zns/guidelines/handle-error-code).

The request: ``POST https://business.openapi.zalo.me/message/template`` with header
``access_token`` (the Official Account's) and JSON ``phone`` (``84…``), ``template_id``,
``template_data`` (the template's parameters) and ``tracking_id`` (ours, echoed back and in
Zalo's callbacks: the notification's key). The answer: ``{"error": 0, "message":
"Success", "data": {"msg_id": …, "sent_time": …, "quota": …}}`` or a negative ``error``.

Codes: 0 sent; -124 access token invalid or expired → refresh it (``POST
{oauth}/v4/oa/access_token``, header ``secret_key``, form ``refresh_token``, ``app_id``,
``grant_type=refresh_token``; each refresh token works once, so the pair is kept in the
store beside the OA channel's, ``ConversationStore.save_token("zalo")``) and send once
more; -100 unknown error → retry later; -108 phone invalid, -109 template id invalid, -111
template data empty, -112 template data invalid, -115 out of quota, -118 no Zalo account,
-119 account cannot receive ZNS and any other code → permanent. Rate limits: HTTP 429
(with ``Retry-After``) and 5xx are retried.

ZNS has no duplicate check on ``tracking_id``: a crash after Zalo's answer and before the
store records it can send one message twice (the window is one store write).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from callbot.tickets.notify.base import (
    Message,
    Notifier,
    NotifyChannel,
    Receipt,
    SendOutcome,
    SendResult,
    retry_after_s,
    template_data,
)
from callbot.tickets.store.sql_conversations import ChannelToken
from callbot.tickets.zalo_oauth import TokenError, parse_token, refresh_form

log = logging.getLogger(__name__)

DEFAULT_URL = "https://business.openapi.zalo.me/message/template"
TOKEN_PATH = "/v4/oa/access_token"
APP_SECRET_ENV = "CALLBOT_ZALO_APP_SECRET_KEY"  # the same app and OA as the Zalo channel
REFRESH_TOKEN_ENV = "CALLBOT_ZALO_REFRESH_TOKEN"
TOKEN_CHANNEL = "zalo"  # the store's token row, shared with callbot.channels.zalo_client
TOKEN_ERRORS = frozenset({-124})
RETRYABLE = {-100: "unknown Zalo error"}
PERMANENT = {
    -108: "phone number invalid",
    -109: "template id invalid",
    -111: "template data empty",
    -112: "template data invalid",
    -115: "out of ZNS quota",
    -118: "no Zalo account for the number",
    -119: "account cannot receive ZNS",
}


@dataclass(frozen=True)
class ZnsTemplates:
    receipt: str
    resolution: str


class TokenStore(Protocol):
    async def load_token(self, channel: str) -> ChannelToken | None: ...
    async def save_token(self, channel: str, token: ChannelToken) -> None: ...


def build_request(
    templates: ZnsTemplates, phone: str, message: Message, key: str
) -> dict[str, Any]:
    template = templates.receipt if isinstance(message, Receipt) else templates.resolution
    return {
        "phone": phone,
        "template_id": template,
        "template_data": template_data(message),
        "tracking_id": key,
    }


def parse_response(status: int, headers: Mapping[str, str], body: bytes) -> SendResult:
    if status == 429 or status >= 500:
        pause = retry_after_s(headers.get("retry-after")) if status in (429, 503) else None
        return SendResult(SendOutcome.RETRY, f"HTTP {status}", "throttled", retry_after_s=pause)
    try:
        data = json.loads(body)
        code = int(data["error"])
    except (ValueError, KeyError, TypeError):
        if 400 <= status < 500:  # the request itself was refused
            return SendResult(SendOutcome.FAILED, f"HTTP {status}", "request refused")
        return SendResult(SendOutcome.RETRY, f"HTTP {status}", "answer without an error code")
    if code == 0:
        detail = data.get("data")
        msg_id = detail.get("msg_id") if isinstance(detail, dict) else None
        return SendResult(SendOutcome.SENT, "0", message_id=str(msg_id) if msg_id else None)
    if code in TOKEN_ERRORS:
        return SendResult(SendOutcome.TOKEN, str(code), "access token invalid or expired")
    if code in RETRYABLE:
        return SendResult(SendOutcome.RETRY, str(code), RETRYABLE[code])
    return SendResult(SendOutcome.FAILED, str(code), PERMANENT.get(code, "unlisted ZNS code"))


class MemoryTokens:
    """A token store for tests and for a deployment without the Zalo channel's table."""

    def __init__(self) -> None:
        self.tokens: dict[str, ChannelToken] = {}

    async def load_token(self, channel: str) -> ChannelToken | None:
        return self.tokens.get(channel)

    async def save_token(self, channel: str, token: ChannelToken) -> None:
        self.tokens[channel] = token


class ZnsNotifier(Notifier):
    channel = NotifyChannel.ZNS

    def __init__(
        self,
        templates: ZnsTemplates,
        tokens: TokenStore,
        *,
        app_id: str,
        app_secret_key: str,
        first_refresh_token: str = "",
        url: str = DEFAULT_URL,
        oauth_url: str = "https://oauth.zaloapp.com",
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.templates = templates
        self.tokens = tokens
        self.app_id = app_id
        self.app_secret_key = app_secret_key
        self.first_refresh_token = first_refresh_token
        self.url = url
        self.oauth_url = oauth_url.rstrip("/")
        self.clock = clock
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._own_client = client is None
        self._refreshing = asyncio.Lock()

    async def send(self, phone: str, message: Message, key: str) -> SendResult:
        body = build_request(self.templates, phone, message, key)
        result = await self._guarded(lambda: self._post(body, refresh=False))
        if result.outcome is SendOutcome.TOKEN:
            result = await self._guarded(lambda: self._post(body, refresh=True))
            if result.outcome is SendOutcome.TOKEN:  # a fresh token refused: not ours to fix
                return SendResult(SendOutcome.RETRY, result.code, result.error)
        return result

    async def _guarded(self, attempt: Callable[[], Awaitable[SendResult]]) -> SendResult:
        try:
            return await attempt()
        except TokenError as error:
            return SendResult(SendOutcome.RETRY, None, f"token refresh: {error}")
        except httpx.HTTPError as error:
            return SendResult(SendOutcome.RETRY, None, type(error).__name__)

    async def _post(self, body: dict[str, Any], *, refresh: bool) -> SendResult:
        token = await self._access_token(refresh=refresh)
        answer = await self._client.post(self.url, json=body, headers={"access_token": token})
        return parse_response(answer.status_code, answer.headers, answer.content)

    async def _access_token(self, *, refresh: bool) -> str:
        stored = await self.tokens.load_token(TOKEN_CHANNEL)
        if stored is not None and not refresh and stored.expires_at > self.clock():
            return stored.access_token
        async with self._refreshing:
            again = await self.tokens.load_token(TOKEN_CHANNEL)
            if again is not None and again != stored and again.expires_at > self.clock():
                return again.access_token  # refreshed meanwhile (another sender, the channel)
            refresh_token = again.refresh_token if again else self.first_refresh_token
            if not refresh_token:
                raise TokenError(f"no refresh token (set ${REFRESH_TOKEN_ENV})")
            answer = await self._client.post(
                self.oauth_url + TOKEN_PATH,
                data=refresh_form(self.app_id, refresh_token),
                headers={"secret_key": self.app_secret_key},
            )
            token = parse_token(answer.status_code, answer.content, self.clock())
            await self.tokens.save_token(TOKEN_CHANNEL, token)
            log.info("ZNS: access token refreshed; valid until %s", token.expires_at)
            return token.access_token

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()
