"""The OA send API over HTTP: access token kept fresh, replies sent in order, failures
retried. The protocol itself (bodies, answers, codes) is Sans-IO in ``zalo_oa.py``.

- Tokens: the pair in the store (``channel_tokens``) wins over the environment's first
  refresh token, because Zalo's refresh tokens work once: after a refresh only the stored
  pair is valid. A token is refreshed a minute before it expires, and at once when the
  send API says it is invalid (then the message is sent again, once).
- Retries: an answer that may pass later (HTTP 5xx or 429, a timeout, a refused
  connection, Zalo's rate-limit codes) is retried with the outbox's jittered exponential
  backoff (``callbot.tickets.outbox.backoff_s``) up to ``send_attempts``; a permanent error
  (the user unfollowed, a bad message) is logged and not retried. The user's id and the
  text never go to the log.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from callbot.channels.buttons import Button
from callbot.channels.zalo_oa import SEND_PATH, TOKEN_PATH, SendResult, message_body, send_result
from callbot.config import OutboxSettings, ZaloSettings
from callbot.tickets.model import Channel, utcnow
from callbot.tickets.outbox import backoff_s
from callbot.tickets.store.sql_conversations import ChannelToken, ConversationStore
from callbot.tickets.zalo_oauth import TokenError, parse_token, refresh_form

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(seconds=60)


@dataclass(frozen=True)
class ZaloSecrets:
    oa_secret_key: str
    app_secret_key: str
    refresh_token: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ZaloSecrets:
        env = os.environ if env is None else env
        return cls(
            env.get("CALLBOT_ZALO_OA_SECRET_KEY", ""),
            env.get("CALLBOT_ZALO_APP_SECRET_KEY", ""),
            env.get("CALLBOT_ZALO_REFRESH_TOKEN", ""),
        )


class ZaloClient:
    def __init__(
        self,
        settings: ZaloSettings,
        secrets: ZaloSecrets,
        conversations: ConversationStore,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.conversations = conversations
        self.http = http or httpx.AsyncClient(timeout=settings.timeout_s)
        self.clock = clock
        self._sleep = sleep
        self._token: ChannelToken | None = None
        self._refreshing = asyncio.Lock()
        self._user_locks: dict[str, asyncio.Lock] = {}
        # The outbox's backoff, with this channel's shorter base: a chat reply is awaited.
        self._backoff = OutboxSettings(
            backoff_base_s=settings.send_backoff_s, backoff_max_s=settings.send_backoff_s * 30
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def send_reply(
        self, user_id: str, messages: tuple[str, ...], buttons: tuple[Button, ...] = ()
    ) -> bool:
        """Send one reply's messages in order (buttons on the last); False if one failed
        for good. Replies to one user never interleave."""
        lock = self._user_locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            for n, text in enumerate(messages):
                last = n == len(messages) - 1
                if not await self.send(user_id, text, buttons if last else ()):
                    return False
            return True

    async def send(self, user_id: str, text: str, buttons: tuple[Button, ...] = ()) -> bool:
        body = message_body(user_id, text, buttons)
        refreshed = False
        for attempt in range(1, self.settings.send_attempts + 1):
            result = await self._post(body)
            if result.ok:
                return True
            if result.token_rejected and not refreshed:
                refreshed = True
                await self._refresh(rejected=True)
                result = await self._post(body)
                if result.ok:
                    return True
            if not result.retryable or attempt == self.settings.send_attempts:
                log.warning(
                    "Zalo send failed for good (error %s: %s)", result.error, result.message
                )
                return False
            delay = backoff_s(attempt, self._backoff)
            log.info("Zalo send failed (%s), retry %d in %.1f s", result.message, attempt, delay)
            await self._sleep(delay)  # type: ignore[misc]
        return False

    async def _post(self, body: dict) -> SendResult:
        try:
            token = await self.access_token()
        except (TokenError, httpx.HTTPError) as error:
            return SendResult(False, None, f"no access token: {error}", retryable=True)
        try:
            answer = await self.http.post(
                self.settings.api_url.rstrip("/") + SEND_PATH,
                json=body,
                headers={"access_token": token},
            )
        except httpx.HTTPError as error:
            return SendResult(False, None, type(error).__name__, retryable=True)
        return send_result(answer.status_code, answer.content)

    async def access_token(self) -> str:
        token = self._token
        if token is None or token.expires_at - REFRESH_AHEAD <= self.clock():
            token = await self._refresh(rejected=False)
        return token.access_token

    async def _refresh(self, *, rejected: bool) -> ChannelToken:
        seen = self._token
        async with self._refreshing:
            if self._token is not seen and self._token is not None:
                return self._token  # refreshed by another sender while we waited
            stored = await self.conversations.load_token(str(Channel.ZALO))
            fresh_enough = stored is not None and stored.expires_at - REFRESH_AHEAD > self.clock()
            if fresh_enough and not rejected and stored != seen:
                self._token = stored  # another process refreshed it
                return stored
            refresh = stored.refresh_token if stored else self.secrets.refresh_token
            if not refresh:
                raise TokenError("no refresh token (set CALLBOT_ZALO_REFRESH_TOKEN)")
            answer = await self.http.post(
                self.settings.oauth_url.rstrip("/") + TOKEN_PATH,
                data=refresh_form(self.settings.app_id, refresh),
                headers={"secret_key": self.secrets.app_secret_key},
            )
            token = parse_token(answer.status_code, answer.content, self.clock())
            await self.conversations.save_token(str(Channel.ZALO), token)
            self._token = token
            log.info("Zalo access token refreshed; valid until %s", token.expires_at)
            return token
