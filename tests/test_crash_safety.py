"""Nothing lost when `callbot serve` is killed: SIGKILL mid-call, restart, check everything.

A real server process (SQLite, offline Whisper), three simulated callers over real
AudioSocket TCP, a real agency webhook that refuses deliveries until the restart, and a
separate `callbot outbox run` worker process (killed too). After the restart every call
must have its incomplete ticket in the callback queue, its turns up to the kill and a
readable WAV, and the pending delivery must reach the agency.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from webhook_receiver import WebhookReceiver

from callbot.simulation.caller import CallerVoice
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.model import CallEndReason, Channel, Speaker, Turn
from callbot.tickets.store.factory import open_store
from telephony.audiosocket_client import AudioSocketClient
from telephony.frame_clock import FrameClock

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "crash-test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A `python -m callbot …` child with its output in a file we can wait on."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "callbot", *args],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def wait_for(self, marker: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if marker in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {marker!r} from {self.log.name}:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(fail_first=10**9) as running:  # refuses until told otherwise
        yield running


def environment(tmp_path: Path, receiver: WebhookReceiver) -> dict[str, str]:
    rules = tmp_path / "routing.toml"
    rules.write_text(
        f"""
[committees]
endpoint = "{receiver.url}/{{code}}"
secret_env = "CRASH_TEST_SECRET"
[sla_hours]
essentials = 24
"""
    )
    # A 0.4 s greeting (the real one is 12 s and cannot be interrupted), so callers reach
    # the first question, which they answer by keypad over the prompt, at once.
    studio = tmp_path / "studio"
    studio.mkdir()
    with wave.open(str(studio / "greeting.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00" * 3200)
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CALLBOT_PROMPTS_OVERRIDE_DIR": str(studio),
        "CALLBOT_STORE_URL": f"sqlite:///{tmp_path / 'tickets.db'}",
        "CALLBOT_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "CALLBOT_PROMPTS_TTS_CACHE_DIR": str(tmp_path / "tts-cache"),
        "CALLBOT_AUDIOSOCKET_PORT": str(free_port()),
        "CALLBOT_WEB_PORT": "0",
        "CALLBOT_ROUTING_RULES_FILE": str(rules),
        "CALLBOT_OPEN311_API_KEYS": API_KEY,
        "CRASH_TEST_SECRET": receiver.secret,
        # Quick retries, and a short lease so the killed worker's claim expires soon.
        "CALLBOT_OUTBOX_POLL_INTERVAL_S": "0.2",
        "CALLBOT_OUTBOX_BACKOFF_BASE_S": "0.2",
        "CALLBOT_OUTBOX_BACKOFF_MAX_S": "0.5",
        "CALLBOT_OUTBOX_LEASE_S": "1",
        "CALLBOT_OUTBOX_MAX_ATTEMPTS": "1000",
    }


def start(env: dict[str, str], tmp_path: Path, run: int) -> tuple[Process, Process, int, int]:
    server = Process(["serve"], env, tmp_path / f"serve-{run}.log")
    worker = Process(["outbox", "run"], env, tmp_path / f"outbox-{run}.log")
    web = server.wait_for("callbot: web on ")
    audiosocket = server.wait_for("callbot: AudioSocket on ")
    worker.wait_for("callbot outbox: worker running")
    web_port = int(web.rsplit(":", 1)[1].strip("/ \n"))
    match = re.search(r"AudioSocket on [^ ]+:(\d+)", audiosocket)
    assert match is not None, audiosocket
    return server, worker, int(match[1]), web_port


async def call(client: AudioSocketClient, port: int, voice: CallerVoice, *, speaks: bool) -> None:
    """A caller who answers by keypad over each question (barge-in), one speaking first."""
    await client.connect("127.0.0.1", port, str(uuid.uuid4()))
    await asyncio.sleep(1.0)
    if speaks:
        await client.say(voice.clip("luong_thuc"))
        await asyncio.sleep(1.0)
    for keys in ("1", "1", "3#", "0903456789#"):
        client.press(keys)
        await asyncio.sleep(0.8)
    await client.closed.wait()  # until the server dies


async def turns_so_far(store_url: str) -> dict[str, list[Turn]]:
    store = await open_store(store_url)
    try:
        tickets = await store.list_tickets(limit=100)
        calls = [t.call_id for t in tickets if t.channel is Channel.VOICE and t.call_id]
        return {call_id: await store.list_turns(call_id) for call_id in calls}
    finally:
        await store.close()


@pytest.mark.slow
async def test_sigkill_mid_call_loses_nothing(tmp_path: Path, receiver: WebhookReceiver) -> None:
    env = environment(tmp_path, receiver)
    store_url = env["CALLBOT_STORE_URL"]
    server, worker, port, web_port = await asyncio.to_thread(start, env, tmp_path, 1)
    callers: list[asyncio.Task] = []
    try:
        # A web ticket, routed at once; its delivery keeps failing until after the restart.
        async with httpx.AsyncClient() as http:
            posted = await http.post(
                f"http://127.0.0.1:{web_port}/open311/v2/requests.json",
                data={
                    "api_key": API_KEY,
                    "service_code": "essentials",
                    "description": "hết gạo",
                    "address_string": "Phường Bến Thành",
                },
            )
        assert posted.status_code == 201, posted.text
        web_ticket = int(posted.json()[0]["service_request_id"])

        # Three callers answering over the prompts, killed mid-call after a few turns each.
        clock, voice = FrameClock(), CallerVoice()
        clients = [AudioSocketClient(clock) for _ in range(3)]
        callers = [
            asyncio.create_task(call(client, port, voice, speaks=n == 1))
            for n, client in enumerate(clients)
        ]
        started = time.monotonic()
        while True:
            before = await turns_so_far(store_url)
            answered = [any(t.speaker is Speaker.CALLER for t in ts) for ts in before.values()]
            if len(before) == 3 and all(answered) and time.monotonic() - started > 3.0:
                break
            assert time.monotonic() - started < 30, f"calls too slow: {before}"
            await asyncio.sleep(0.1)
        assert receiver.requests, "the outbox worker made no attempt before the kill"
        server.kill()
        worker.kill()
        await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 10)
        for client in clients:
            await client.hang_up()
        await clock.close()

        # The agency is back; so is the callbot.
        receiver.fail_first = 0
        server.stop()
        worker.stop()
        server, worker, _, _ = await asyncio.to_thread(start, env, tmp_path, 2)

        store = await open_store(store_url)
        try:
            for call_id, turns_before in before.items():
                ticket = await store.get_ticket_for_call(call_id)
                assert ticket is not None
                assert ticket.end_reason is CallEndReason.SERVER_ERROR
                assert not ticket.complete and ticket.needs_callback
                turns_after = await store.list_turns(call_id)
                assert turns_after[: len(turns_before)] == turns_before
                assert ticket.recording_path is not None
                with wave.open(
                    str(Path(env["CALLBOT_RECORDINGS_DIR"]) / ticket.recording_path)
                ) as w:
                    seconds = w.getnframes() / w.getframerate()
                    assert w.getnchannels() == 2 and seconds >= 2.0, seconds
            accepted = await asyncio.to_thread(receiver.wait_accepted, 1, 30.0)
            assert list(accepted) == [f"ticket-{web_ticket}/ubnd-26743/v1"]
            for _ in range(50):  # the worker records the delivery just after the 200
                [delivery] = await store.list_deliveries(ticket_id=web_ticket)
                if delivery.status is DeliveryStatus.DELIVERED:
                    break
                await asyncio.sleep(0.1)
            assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts >= 2
        finally:
            await store.close()
    finally:
        for task in callers:
            task.cancel()
        server.stop()
        worker.stop()
