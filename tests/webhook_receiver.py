"""A real agency webhook for tests: stdlib HTTP server on a loopback port, in a thread.

It answers ``fail_status`` (default 503) to the first ``fail_first`` requests of each
idempotency key, then 200; a ``fail_status`` of e.g. 400 makes it refuse every request
while ``fail_first`` lasts. It checks each request's HMAC signature with ``secret`` and
records everything, deduplicating on ``Idempotency-Key`` as a real agency would.
Also usable from another process: ``python tests/webhook_receiver.py PORT_FILE`` runs one
until killed, writing its port to PORT_FILE and each accepted body to stdout.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callbot.tickets.outbox import SIGNATURE_HEADER, verify_signature


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when a worker POSTs many at once,
    # and each dropped SYN costs a 1 s retransmit.
    request_queue_size = 128


@dataclass
class Received:
    path: str
    key: str
    attempt: str
    signature_ok: bool
    body: dict[str, Any]
    status: int  # what the receiver answered


@dataclass
class WebhookReceiver:
    secret: str = "test-secret"
    fail_first: int = 0
    fail_status: int = 503
    echo: bool = False  # print each accepted body (when run as a process)
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Received] = field(default_factory=dict)  # by idempotency key

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._tries: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                receiver._handle(self, raw)

            def log_message(self, *args: object) -> None:
                pass  # quiet tests

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/inbox"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        key = handler.headers.get("Idempotency-Key", "")
        ok = verify_signature(self.secret, handler.headers.get(SIGNATURE_HEADER, ""), raw)
        with self._lock:
            tries = self._tries[key] = self._tries.get(key, 0) + 1
            status = self.fail_status if tries <= self.fail_first else (200 if ok else 401)
            record = Received(
                handler.path,
                key,
                handler.headers.get("X-Callbot-Attempt", ""),
                ok,
                json.loads(raw),
                status,
            )
            self.requests.append(record)
            if status == 200:
                self.accepted.setdefault(key, record)  # a repeat is acknowledged, not stored
            self._lock.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")
        if status == 200 and self.echo:
            print(json.dumps({"key": key, "body": record.body}, ensure_ascii=False), flush=True)

    def wait_accepted(self, count: int, timeout: float = 10.0) -> dict[str, Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self.accepted)} of {count} deliveries accepted after {timeout} s"
                        f" ({len(self.requests)} requests)"
                    )
                self._lock.wait(left)
            return dict(self.accepted)


def main() -> None:  # pragma: no cover - run by the crash test as its own process
    port_file = Path(sys.argv[1])
    fail_first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    receiver = WebhookReceiver(fail_first=fail_first, echo=True)
    port_file.write_text(str(receiver.port))
    with receiver:
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
