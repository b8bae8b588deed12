"""Local HTTP servers that answer as eSMS.vn and Zalo ZNS document (for tests/test_notify.py).

``FakeEsms``: ``POST /send`` takes the JSON of ``SendMultipleMessage_V4_post_json``, checks
``ApiKey``/``SecretKey`` (101 when wrong), refuses a number not ``84…``/``0…`` (108), answers
``{"CodeResult": "100", "SMSID": …}`` and ``124`` for a ``RequestId`` it accepted before
(eSMS's duplicate check). ``FakeZns``: ``POST /message/template`` with header
``access_token`` answers ``{"error": 0, "data": {"msg_id": …}}`` or ``-124`` for a token it
did not issue (or one it expired); ``POST /v4/oa/access_token`` (header ``secret_key``,
form ``refresh_token``/``app_id``/``grant_type``) issues a new pair, each refresh token
once. Both can be scripted to answer the next requests with an error or throttling
(``script``), and to hold an answer after accepting the message (``hold``).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


@dataclass
class _Fake:
    script: list[Answer] = field(default_factory=list)  # answered first, in order
    hold: threading.Event | None = None  # set: answer; unset: wait (message already taken)
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __enter__(self) -> _Fake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(size)
                status, body, headers = fake.handle(self.path, dict(self.headers), raw)
                if fake.hold is not None:
                    fake.hold.wait(10)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client went away (the "crash" tests)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def scripted(self) -> Answer | None:
        with self._lock:
            self.requests += 1
            return self.script.pop(0) if self.script else None

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        raise NotImplementedError


@dataclass
class Sms:
    phone: str
    content: str
    request_id: str
    brandname: str | None


@dataclass
class FakeEsms(_Fake):
    api_key: str = "esms-key"
    secret_key: str = "esms-secret"
    sent: list[Sms] = field(default_factory=list)
    raw_bodies: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"CodeResult": "110", "ErrorMessage": "bad JSON"}, {}
        with self._lock:
            self.raw_bodies.append(body)
            if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
                return 200, {"CodeResult": "101", "ErrorMessage": "Sai ApiKey"}, {}
            phone = str(body.get("Phone", ""))
            if not phone.isdigit() or not phone.startswith(("84", "0")):
                return 200, {"CodeResult": "108", "ErrorMessage": "Phone invalid"}, {}
            request_id = str(body.get("RequestId", ""))
            if request_id and any(s.request_id == request_id for s in self.sent):
                return 200, {"CodeResult": "124", "ErrorMessage": "Duplicate RequestId"}, {}
            self.sent.append(Sms(phone, body["Content"], request_id, body.get("Brandname")))
            return (
                200,
                {"CodeResult": "100", "CountRegenerate": 0, "SMSID": f"sms-{next(self._ids)}"},
                {},
            )


@dataclass
class Zns:
    phone: str
    template_id: str
    template_data: dict[str, str]
    tracking_id: str


@dataclass
class FakeZns(_Fake):
    app_id: str = "app-1"
    app_secret: str = "app-secret"
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-0"})
    access_tokens: set[str] = field(default_factory=set)
    sent: list[Zns] = field(default_factory=list)
    refreshes: int = 0
    on_send: Callable[[], None] | None = None

    def expire_tokens(self) -> None:
        with self._lock:
            self.access_tokens.clear()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        if path.startswith("/v4/oa/access_token"):
            return self._token(headers, raw)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        token = {k.lower(): v for k, v in headers.items()}.get("access_token")
        with self._lock:
            if token not in self.access_tokens:
                return 200, {"error": -124, "message": "Access token is invalid"}, {}
            body = json.loads(raw)
            phone = str(body.get("phone", ""))
            if not (phone.startswith("84") and phone.isdigit()):
                return 200, {"error": -108, "message": "Phone number invalid"}, {}
            self.sent.append(
                Zns(phone, body["template_id"], body["template_data"], body.get("tracking_id", ""))
            )
            msg_id = f"zns-{next(self._ids)}"
        return 200, {"error": 0, "message": "Success", "data": {"msg_id": msg_id}}, {}

    def _token(self, headers: dict[str, str], raw: bytes) -> Answer:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        secret = {k.lower(): v for k, v in headers.items()}.get("secret_key")
        with self._lock:
            if secret != self.app_secret or form.get("app_id") != self.app_id:
                return 200, {"error": -14014, "error_name": "Invalid app secret"}, {}
            given = form.get("refresh_token", "")
            if form.get("grant_type") != "refresh_token" or given not in self.refresh_tokens:
                return 200, {"error": -14003, "error_name": "Invalid refresh token"}, {}
            self.refresh_tokens.discard(given)  # each refresh token works once
            self.refreshes += 1
            access, refresh = f"access-{self.refreshes}", f"refresh-{self.refreshes}"
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        body = {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        return 200, body, {}
