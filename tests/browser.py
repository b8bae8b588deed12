"""Helpers for the dashboard tests: a real server on a free loopback port, a seeded SQLite
store, a real stereo WAV, and headless Chromium (Debian's, driven by Playwright).

The server runs uvicorn in a thread with its own event loop; the store is opened, seeded
and served from that loop (aiosqlite connections and the store's locks belong to it).
Tests talk to it only over HTTP, as a browser does.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import struct
import threading
import wave
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from callbot.config import Settings
from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    SlotSource,
    SlotValue,
    Speaker,
    Turn,
    TurnKind,
)
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.app import create_app
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import hash_password
from callbot.web.dashboard.roles import Role

CHROMIUM = os.environ.get("CALLBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "mat-khau-thu-nghiem"  # every seeded account's password


def write_wav(path: Path, seconds: float = 8.0, rate: int = 8000) -> None:
    """A stereo 16-bit WAV like the recorder's: a tone on the left (caller), another on the
    right (bot), loud enough to hear that a seek moved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for n in range(int(seconds * rate)):
        left = int(8000 * math.sin(2 * math.pi * 440 * n / rate))
        right = int(8000 * math.sin(2 * math.pi * 660 * n / rate))
        frames += struct.pack("<hh", left, right)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


@dataclass
class Seeded:
    """Ticket ids by role in the tests."""

    ids: dict[str, int] = field(default_factory=dict)


ACCOUNTS = (
    ("giamsat", Role.SUPERVISOR, None),
    ("thanhtra", Role.OVERSIGHT, None),
    ("quan3", Role.AGENCY, "UBND Quận 3"),
    ("quan5", Role.AGENCY, "UBND Quận 5"),
)


async def _call(
    store: SqlTicketStore,
    call_id: str,
    started: datetime,
    turns: list[tuple[Speaker, TurnKind, str, float | None, int]],
    slots: list[tuple[str, str, SlotSource, float, str]],
    *,
    recording: str | None,
    reason: CallEndReason,
    complete: bool,
    agency: str | None,
    due: datetime | None = None,
) -> int:
    ticket = await store.begin_call(
        CallRecord(call_id, started, caller_number="0281234567", recording_path=recording)
    )
    for seq, (speaker, kind, text, confidence, start_ms) in enumerate(turns):
        await store.append_turn(
            Turn(
                call_id,
                seq,
                started + timedelta(milliseconds=start_ms),
                speaker,
                kind,
                text,
                confidence,
                start_ms,
                start_ms + 900,
            )
        )
    for name, value, source, confidence, heard in slots:
        await store.set_slot(call_id, SlotValue(name, value, source, confidence, heard))
    await store.end_call(
        call_id, ended_at=started + timedelta(seconds=60), reason=reason, complete=complete
    )
    if agency:
        await store.set_routing(ticket.id, agency, "place", due)
    return ticket.id


async def seed(store: SqlTicketStore, now: datetime) -> Seeded:
    seeded = Seeded()
    bot, caller = Speaker.BOT, Speaker.CALLER
    prompt, speech = TurnKind.PROMPT, TurnKind.SPEECH
    seeded.ids["quan3"] = await _call(
        store,
        "00000000-0000-4000-8000-000000000003",
        now - timedelta(hours=2),
        [
            (bot, prompt, "Xin chào, đây là tổng đài 1022. Bạn cần hỗ trợ gì?", None, 0),
            (caller, speech, "tôi cần lương thực cho gia đình", 0.91, 2000),
            (bot, prompt, "Bạn đang ở quận, huyện nào?", None, 3000),
            (caller, speech, "quận ba", 0.62, 4500),
            (bot, prompt, "Xin nhắc lại thông tin: lương thực, Quận 3.", None, 5500),
            (caller, speech, "đúng rồi", 0.88, 7000),
        ],
        [
            ("case_type", "essentials", SlotSource.SPEECH, 0.9, "lương thực"),
            ("place", "Quận 3", SlotSource.SPEECH, 0.62, "quận ba"),
            ("callback_number", "0903456789", SlotSource.KEYPAD, 1.0, "0903456789"),
        ],
        recording="2026/01/quan3.wav",
        reason=CallEndReason.COMPLETED,
        complete=True,
        agency="UBND Quận 3",
        due=now + timedelta(days=2),
    )
    seeded.ids["quan5_script"] = await _call(
        store,
        "00000000-0000-4000-8000-000000000005",
        now - timedelta(hours=1),
        [
            (bot, prompt, "Bạn cần hỗ trợ gì?", None, 0),
            (caller, speech, "<script>window.__xss = 1; alert(1)</script> Quận 5", 0.4, 1500),
        ],
        [("place", "Quận 5", SlotSource.SPEECH, 0.7, "quận năm")],
        recording="2026/01/quan3.wav",
        reason=CallEndReason.HANDED_BACK,
        complete=False,
        agency="UBND Quận 5",
        due=now - timedelta(hours=1),  # overdue
    )
    seeded.ids["traversal"] = await _call(
        store,
        "00000000-0000-4000-8000-00000000000a",
        now - timedelta(minutes=30),
        [(bot, prompt, "Xin chào", None, 0)],
        [],
        recording="../secret.wav",
        reason=CallEndReason.CALLER_HANGUP,
        complete=False,
        agency=None,
    )
    seeded.ids["absolute"] = await _call(
        store,
        "00000000-0000-4000-8000-00000000000b",
        now - timedelta(minutes=20),
        [(bot, prompt, "Xin chào", None, 0)],
        [],
        recording="/etc/passwd",
        reason=CallEndReason.CALLER_HANGUP,
        complete=False,
        agency=None,
    )
    accounts = AccountStore(store)
    password_hash = hash_password(PASSWORD)
    for login, role, agency in ACCOUNTS:
        await accounts.add_user(login, role, agency, password_hash, now)
    return seeded


class LiveServer:
    """uvicorn on 127.0.0.1:<free port> in a thread, over a store seeded first."""

    def __init__(
        self,
        root: Path,
        seeder: Callable[[SqlTicketStore, datetime], Awaitable[Any]] | None = seed,
        store_url: str | None = None,
        secure_cookies: bool = False,
    ) -> None:
        self.root = root
        self.settings = Settings()
        self.settings.web.secure_cookies = secure_cookies
        self.settings.recordings.dir = str(root / "recordings")
        self.settings.web.secret_key = "test-secret-key"
        self.store_url = store_url or f"sqlite:///{root / 'tickets.db'}"
        self._seeder = seeder
        self.seeded: Any = None
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard-server", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("dashboard server did not start")
        if self._error:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # surfaced to start()
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        store = await open_store(self.store_url)
        try:
            if self._seeder is not None:  # None: an empty store (the text channels' tests)
                self.seeded = await self._seeder(store, datetime.now(UTC))  # type: ignore[arg-type]
            app = create_app(store, self.settings)
            self.app = app
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            config = uvicorn.Config(app, log_level="warning", lifespan="off")
            self._server = uvicorn.Server(config)
            serving = asyncio.create_task(self._server.serve(sockets=[sock]))
            while not self._server.started:
                await asyncio.sleep(0.01)
            self._ready.set()
            await serving
        finally:
            await store.close()

    def call(self, coro: Awaitable[Any]) -> Any:
        """Run a coroutine on the server's loop (e.g. a store read) and wait for it."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(10)


@contextmanager
def live_server(root: Path, **kwargs: Any) -> Iterator[LiveServer]:
    write_wav(root / "recordings" / "2026" / "01" / "quan3.wav")
    (root / "secret.wav").write_bytes(b"RIFF not for you")
    server = LiveServer(root, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def require_chromium() -> None:
    """At a browser test module's top: skip it where Debian's Chromium or Playwright is
    missing — except in CI, where `make setup` installs both, so a missing one fails."""
    import pytest

    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"no Chromium at {CHROMIUM}: `make setup` should have installed it")
        pytest.skip(
            f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
        )


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Headless Chromium, driven by Playwright's sync API, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def sign_in(page: Any, base_url: str, login: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/dashboard/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard/**")


async def seed_busy_day(store: SqlTicketStore, now: datetime) -> Seeded:
    """The test seed plus a day of varied calls, so screenshots show real-looking charts."""
    import random

    seeded = await seed(store, now)
    rng = random.Random(1022)
    places = ["Quận 3", "Quận 5", "Gò Vấp", "Bình Thạnh", "TP. Thủ Đức", "Quận 8", "Bình Tân"]
    cases = ["essentials", "essentials", "support_policy", "vulnerable", "other"]
    reasons = [CallEndReason.COMPLETED] * 6 + [
        CallEndReason.CALLER_HANGUP,
        CallEndReason.HANDED_BACK,
        CallEndReason.NO_INPUT,
    ]
    for n in range(160):
        started = now - timedelta(minutes=rng.randint(5, 24 * 60 - 5))
        place, case = rng.choice(places), rng.choice(cases)
        reason = rng.choice(reasons)
        call_id = f"10000000-0000-4000-8000-{n:012d}"
        ticket = await store.begin_call(CallRecord(call_id, started))
        await store.append_turn(
            Turn(call_id, 0, started, Speaker.BOT, TurnKind.PROMPT, "Bạn cần hỗ trợ gì?", None, 0)
        )
        await store.set_slot(call_id, SlotValue("case_type", case, SlotSource.SPEECH, 0.8))
        await store.set_slot(call_id, SlotValue("place", place, SlotSource.SPEECH, 0.7))
        await store.end_call(
            call_id,
            ended_at=started + timedelta(seconds=90),
            reason=reason,
            complete=reason is CallEndReason.COMPLETED,
        )
        if rng.random() < 0.8:
            due = started + timedelta(hours=rng.choice([4, 12, 48]))
            await store.set_routing(ticket.id, f"UBND {place}", "place", due)
    return seeded
