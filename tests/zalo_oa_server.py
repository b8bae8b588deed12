"""A local Zalo Official Account for tests: the OA API and the OAuth server as their docs
describe them (docs/channels.md), on a loopback port, in a thread; plus the Zalo side of
the webhook (events built and signed as Zalo signs them, POSTed to the callbot).

- ``POST /v3.0/oa/message/cs``: header ``access_token`` must be the current token and not
  expired (else HTTP 200 with ``error: -216``); ``fail_sends`` answers the next N sends
  with ``fail_status`` (503 by default, or a Zalo code such as -32 with ``fail_code``).
- ``POST /v4/oa/access_token``: header ``secret_key`` (the app's), form ``app_id``,
  ``grant_type=refresh_token`` and the current ``refresh_token``, which then stops working
  (Zalo's refresh tokens are single use); answers a new pair and ``expires_in``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

APP_ID = "3608465249409039670"
OA_SECRET_KEY = "oa-secret-for-tests"
APP_SECRET_KEY = "app-secret-for-tests"


@dataclass
class Sent:
    user_id: str
    text: str
    buttons: list[dict[str, str]]


@dataclass
class FakeZaloOA:
    app_id: str = APP_ID
    app_secret_key: str = APP_SECRET_KEY
    token_lifetime_s: int = 90_000
    fail_sends: int = 0
    fail_status: int = 503
    fail_code: int | None = None  # answer HTTP 200 with this Zalo error code instead
    sent: list[Sent] = field(default_factory=list)
    send_attempts: int = 0
    refreshes: int = 0
    refused_refreshes: int = 0

    def __post_init__(self) -> None:
        self.refresh_token = "first-refresh-" + secrets.token_hex(4)
        self.access_token = ""
        self.expires_at = 0.0
        self._lock = threading.Condition()
        oa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/v3.0/oa/message/cs":
                    status, body = oa._send(self.headers.get("access_token", ""), raw)
                elif self.path == "/v4/oa/access_token":
                    status, body = oa._token(self.headers.get("secret_key", ""), raw)
                else:
                    status, body = 404, {"error": 404, "message": "no such API"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeZaloOA:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def expire_token(self) -> None:
        """The access token stops working now (its 25 hours are up)."""
        with self._lock:
            self.expires_at = 0.0

    def _send(self, token: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.send_attempts += 1
            if not token or token != self.access_token or time.time() >= self.expires_at:
                return 200, {"error": -216, "message": "Access token is invalid"}
            if self.fail_sends > 0:
                self.fail_sends -= 1
                if self.fail_code is not None:
                    return 200, {"error": self.fail_code, "message": "Exceeded request limit"}
                return self.fail_status, {"error": -1, "message": "temporarily unavailable"}
            body = json.loads(raw)
            message = body["message"]
            buttons = message.get("attachment", {}).get("payload", {}).get("buttons", [])
            if not isinstance(message.get("text"), str) or not body["recipient"]["user_id"]:
                return 200, {"error": -201, "message": "Invalid parameter"}
            self.sent.append(Sent(body["recipient"]["user_id"], message["text"], buttons))
            self._lock.notify_all()
            return 200, {
                "error": 0,
                "message": "Success",
                "data": {
                    "message_id": secrets.token_hex(8),
                    "user_id": body["recipient"]["user_id"],
                },
            }

    def _token(self, secret_key: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self._lock:
            if (
                secret_key != self.app_secret_key
                or form.get("app_id") != self.app_id
                or form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != self.refresh_token
            ):
                self.refused_refreshes += 1
                return 200, {"error": -14014, "error_name": "Invalid refresh token"}
            self.refreshes += 1
            self.access_token = "access-" + secrets.token_hex(8)
            self.refresh_token = "refresh-" + secrets.token_hex(8)  # the old one is spent
            self.expires_at = time.time() + self.token_lifetime_s
            return 200, {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": str(self.token_lifetime_s),
            }

    def wait_for_sent(self, count: int, timeout: float = 15.0) -> list[Sent]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.sent) >= count, timeout):
                raise AssertionError(f"{len(self.sent)} messages sent, expected {count}")
            return list(self.sent)


# --- The Zalo side of the webhook ----------------------------------------------------------


def text_event(user_id: str, text: str, msg_id: str, app_id: str = APP_ID) -> dict[str, Any]:
    return {
        "app_id": app_id,
        "user_id_by_app": "55217727971758" + user_id[-4:],
        "event_name": "user_send_text",
        "sender": {"id": user_id},
        "recipient": {"id": "3886132808788086450"},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": str(int(time.time() * 1000)),
    }


def follow_event(user_id: str, name: str = "follow", app_id: str = APP_ID) -> dict[str, Any]:
    return {
        "oa_id": "3886132808788086450",
        "follower": {"id": user_id},
        "user_id_by_app": "55217727971758" + user_id[-4:],
        "event_name": name,
        "source": "oa_profile",
        "app_id": app_id,
        "timestamp": str(int(time.time() * 1000)),
    }


def signed(event: dict[str, Any], oa_secret_key: str = OA_SECRET_KEY) -> tuple[bytes, str]:
    body = json.dumps(event, ensure_ascii=False).encode()
    data = event["app_id"].encode() + body + event["timestamp"].encode() + oa_secret_key.encode()
    return body, "mac=" + hashlib.sha256(data).hexdigest()


def deliver(
    webhook_url: str, event: dict[str, Any], *, oa_secret_key: str = OA_SECRET_KEY
) -> httpx.Response:
    body, signature = signed(event, oa_secret_key)
    return httpx.post(
        webhook_url,
        content=body,
        headers={"Content-Type": "application/json", "X-ZEvent-Signature": signature},
        timeout=20,
    )
