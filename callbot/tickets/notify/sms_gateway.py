"""SMS through eSMS.vn (https://developers.esms.vn), the Vietnamese HTTP SMS gateway.

The request (``SendMultipleMessage_V4_post_json``, docs "Send OTP/Customer care message"):
``POST {url}`` with a JSON body ``ApiKey``, ``SecretKey``, ``Phone``, ``Content``,
``Brandname`` (pre-registered sender), ``SmsType`` ("2": customer care, content matching a
registered template), ``IsUnicode`` ("1": with diacritics), ``Sandbox`` ("1": validated,
not sent, not charged) and ``RequestId``, which eSMS uses to refuse a duplicate. The answer
is JSON with ``CodeResult`` ("100": accepted), ``SMSID`` and ``ErrorMessage``.

Codes (docs "Table of error codes"): 100 accepted; 124 duplicate RequestId — the same
message was accepted before (a retry after a crash that followed eSMS's answer), so it
counts as sent; 99 number blocked, 101 wrong keys, 102 no price list, 103 balance too low,
104 brandname unknown, 108 number format, 118 message type, 140 IP not whitelisted, 146
wrong customer-care template, 177 network not registered: all permanent (an operator fixes
the account or the template and runs ``callbot outbox retry-messages``). Another 4xx is
permanent too. eSMS publishes no
rate-limit code; an HTTP 429 or 503 is retried after its ``Retry-After``, any other 5xx,
timeout or refused connection with the outbox's backoff.

Sans-IO: ``build_request`` and ``parse_response`` are pure; ``EsmsNotifier`` only posts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from callbot.tickets.notify.base import (
    Message,
    Notifier,
    NotifyChannel,
    SendOutcome,
    SendResult,
    retry_after_s,
    sms_text,
)

DEFAULT_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
API_KEY_ENV = "CALLBOT_NOTIFY_SMS_API_KEY"
SECRET_KEY_ENV = "CALLBOT_NOTIFY_SMS_SECRET_KEY"

ACCEPTED = frozenset({"100", "124"})  # 124: this RequestId was accepted already
PERMANENT = {
    "99": "number blocked at the gateway",
    "101": "wrong ApiKey or SecretKey",
    "102": "no price list for the account",
    "103": "balance too low",
    "104": "brandname not registered",
    "108": "phone number format",
    "118": "message type not supported",
    "140": "IP not whitelisted",
    "146": "content does not match the customer-care template",
    "177": "network not registered for the brandname",
}
THROTTLED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class EsmsAccount:
    api_key: str
    secret_key: str
    brandname: str = ""
    sms_type: str = "2"
    sandbox: bool = False

    @classmethod
    def from_environment(cls, env: Mapping[str, str], **settings: Any) -> EsmsAccount:
        return cls(env.get(API_KEY_ENV, ""), env.get(SECRET_KEY_ENV, ""), **settings)


def build_request(account: EsmsAccount, phone: str, message: Message, key: str) -> dict[str, str]:
    body = {
        "ApiKey": account.api_key,
        "SecretKey": account.secret_key,
        "Phone": phone,
        "Content": sms_text(message),
        "SmsType": account.sms_type,
        "IsUnicode": "1",
        "Sandbox": "1" if account.sandbox else "0",
        "RequestId": key,
    }
    if account.brandname:
        body["Brandname"] = account.brandname
    return body


def parse_response(status: int, headers: Mapping[str, str], body: bytes) -> SendResult:
    if status in THROTTLED_STATUSES:
        pause = retry_after_s(headers.get("retry-after"))
        return SendResult(SendOutcome.RETRY, f"HTTP {status}", "throttled", retry_after_s=pause)
    if status >= 500:
        return SendResult(SendOutcome.RETRY, f"HTTP {status}", "gateway error")
    try:
        data = json.loads(body)
        code = str(data["CodeResult"]).strip()
    except (ValueError, KeyError, TypeError):
        if 400 <= status < 500:  # the request itself was refused
            return SendResult(SendOutcome.FAILED, f"HTTP {status}", "request refused")
        # A 2xx without CodeResult: we cannot tell whether it was taken; RequestId makes
        # asking again safe.
        return SendResult(SendOutcome.RETRY, f"HTTP {status}", "answer without CodeResult")
    if code in ACCEPTED:
        sms_id = data.get("SMSID")
        return SendResult(SendOutcome.SENT, code, message_id=str(sms_id) if sms_id else None)
    if code in PERMANENT:
        return SendResult(SendOutcome.FAILED, code, PERMANENT[code])
    if 400 <= status < 500:
        return SendResult(SendOutcome.FAILED, code, f"HTTP {status}")
    return SendResult(SendOutcome.RETRY, code, "unlisted eSMS code")


class EsmsNotifier(Notifier):
    channel = NotifyChannel.SMS

    def __init__(
        self,
        account: EsmsAccount,
        *,
        url: str = DEFAULT_URL,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.account = account
        self.url = url
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._own_client = client is None

    async def send(self, phone: str, message: Message, key: str) -> SendResult:
        if not (self.account.api_key and self.account.secret_key):
            return SendResult(
                SendOutcome.RETRY, None, f"${API_KEY_ENV} / ${SECRET_KEY_ENV} not set"
            )
        body = build_request(self.account, phone, message, key)
        try:
            answer = await self._client.post(self.url, json=body)
        except httpx.HTTPError as error:
            return SendResult(SendOutcome.RETRY, None, type(error).__name__)
        return parse_response(answer.status_code, answer.headers, answer.content)

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()
