"""Scaling out: several worker processes on one AudioSocket port (SO_REUSEPORT) sharing one
SQLite store, and two separate servers sharing one PostgreSQL schema — calls to either end
as tickets in the one store. Real `callbot serve` subprocesses, real TCP."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from callbot.loadtest.server import Scrape, ServerUnderTest, parse_metrics
from callbot.tickets.store.factory import open_store
from telephony.audiosocket_client import AudioSocketClient
from telephony.frame_clock import FrameClock

try:
    from conftest_store import private_pg_schema
except ImportError:
    from tests.conftest_store import private_pg_schema

QUICK = {"CALLBOT_VAD_NO_SPEECH_TIMEOUT_MS": "2500", "CALLBOT_ASR_THREADS": "1"}


async def short_call(clock: FrameClock, host: str, port: int) -> str:
    """Connect, hear the bot start its greeting, hang up: an incomplete ticket."""
    call_id = str(uuid.uuid4())
    client = AudioSocketClient(clock)
    await client.connect(host, port, call_id)
    try:
        async with asyncio.timeout(20):
            while not client.utterances:
                await asyncio.sleep(0.05)
    finally:
        await client.hang_up()
    return call_id


async def wait_tickets_closed(store_url: str, call_ids: list[str]) -> None:
    store = open_store(store_url)
    await store.open()
    try:
        async with asyncio.timeout(20):
            for call_id in call_ids:
                while True:
                    ticket = await store.get_ticket_for_call(call_id)
                    if ticket is not None and ticket.end_reason is not None:
                        break
                    await asyncio.sleep(0.1)
    finally:
        await store.close()


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_workers_share_one_port_and_one_store(tmp_path: Path) -> None:
    server = await ServerUnderTest.start(var_dir=tmp_path, env=QUICK, workers=2)
    clock = FrameClock()
    try:
        assert len(server.metrics_urls) == 2  # each worker serves its own /metrics
        calls = await asyncio.gather(
            *(short_call(clock, server.host, server.port) for _ in range(12))
        )
        await wait_tickets_closed(f"sqlite:///{tmp_path / 'callbot.db'}", calls)
        per_worker = []
        for url in server.metrics_urls:
            scrape = Scrape(0)
            parse_metrics(await asyncio.to_thread(_get, url), scrape)
            per_worker.append(scrape.total("callbot_calls_ended_total"))
        # The kernel spread the connections: both workers answered some (all 12 on one
        # worker has probability 2 / 2^12).
        assert sum(per_worker) == 12
        assert all(n > 0 for n in per_worker), per_worker
        server.refresh_workers()
        assert len(server._procs) >= 3  # the supervisor and its two workers
    finally:
        await clock.close()
        assert await server.stop() == 0


async def test_two_servers_share_one_postgresql_store(tmp_path: Path) -> None:
    async with private_pg_schema() as url:
        env = QUICK | {"CALLBOT_STORE_URL": url}
        # One after the other: the first creates the schema (migrations), the second finds it.
        first = await ServerUnderTest.start(var_dir=tmp_path / "a", env=env)
        second = await ServerUnderTest.start(var_dir=tmp_path / "b", env=env)
        clock = FrameClock()
        try:
            assert first.port != second.port
            calls = await asyncio.gather(
                short_call(clock, first.host, first.port),
                short_call(clock, second.host, second.port),
                short_call(clock, first.host, first.port),
                short_call(clock, second.host, second.port),
            )
            await wait_tickets_closed(url, calls)
            store = open_store(url)
            await store.open()
            try:
                tickets = await store.list_tickets(limit=10)
            finally:
                await store.close()
            assert {t.call_id for t in tickets} == set(calls)
            assert len({t.id for t in tickets}) == 4
        finally:
            await clock.close()
            await first.stop()
            await second.stop()


@pytest.mark.parametrize("workers", [1, 3])
def test_worker_settings_give_each_worker_its_web_port(workers: int) -> None:
    from callbot.config import Settings
    from callbot.workers import worker_settings

    settings = Settings()
    settings.web.port = 8022
    ports = [worker_settings(settings, i, 9100).web.port for i in range(workers)]
    assert ports == [8022 + i for i in range(workers)]
    assert worker_settings(settings, 0, 9100).audiosocket.port == 9100
    settings.web.port = 0
    assert worker_settings(settings, 2, 9100).web.port == 0


async def test_a_dead_worker_is_restarted_and_siblings_calls_live_on(tmp_path: Path) -> None:
    import os
    import signal

    import psutil

    server = await ServerUnderTest.start(var_dir=tmp_path, env=QUICK, workers=2)
    clock = FrameClock()
    live: list[AudioSocketClient] = []
    try:
        assert server.pid is not None

        def worker_processes() -> list[psutil.Process]:
            found = []
            for child in psutil.Process(server.pid).children():
                try:  # spawn's resource tracker is a child too; a killed worker a zombie
                    if "resource_tracker" not in " ".join(child.cmdline()):
                        found.append(child)
                except psutil.Error:
                    continue
            return found

        def calls_held(worker: psutil.Process) -> int:
            return sum(
                1
                for c in worker.net_connections(kind="tcp")
                if c.laddr.port == server.port and c.status == psutil.CONN_ESTABLISHED
            )

        workers = worker_processes()
        assert len(workers) == 2
        # Hold calls open until each worker has one (the kernel's SO_REUSEPORT hash put all
        # four of a fixed four on one worker about one run in eight), then kill one outright.
        while len(live) < 4 or not all(calls_held(w) for w in workers):
            assert len(live) < 24, [calls_held(w) for w in workers]
            client = AudioSocketClient(clock)
            await client.connect(server.host, server.port, str(uuid.uuid4()))
            live.append(client)
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)
        os.kill(workers[0].pid, signal.SIGKILL)
        async with asyncio.timeout(60):
            while True:
                children = worker_processes()
                if len(children) == 2 and workers[0].pid not in {c.pid for c in children}:
                    break
                await asyncio.sleep(0.2)
        await asyncio.sleep(5)  # the new worker starts (and must not touch live calls)
        survivors = [c for c in live if not c.closed.is_set()]
        assert survivors, "the other worker's calls should still be up"
        store = open_store(f"sqlite:///{tmp_path / 'callbot.db'}")
        await store.open()
        try:
            for client in survivors:
                ticket = await store.get_ticket_for_call(client.call_id)
                assert ticket is not None and ticket.end_reason is None  # still in progress
        finally:
            await store.close()
        # New calls are still answered.
        call = await short_call(clock, server.host, server.port)
        await wait_tickets_closed(f"sqlite:///{tmp_path / 'callbot.db'}", [call])
    finally:
        for client in live:
            await client.hang_up()
        await clock.close()
        await server.stop()


@pytest.mark.parametrize(
    ("machine", "processes", "each"), [(2, 1, 2), (2, 2, 1), (4, 2, 2), (2, 3, 1)]
)
def test_worker_processes_share_the_machines_decode_slots(machine, processes, each) -> None:
    """asr.workers is the machine's decodes at once: N processes divide it (at least one
    each) instead of each running all of them on the same cores."""
    import dataclasses

    from callbot.config import Settings
    from callbot.workers import worker_settings

    settings = Settings()
    settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, workers=machine))
    shares = [worker_settings(settings, i, 9100, processes).asr.workers for i in range(processes)]
    assert shares == [each] * processes
    assert settings.asr.workers == machine  # the parent's settings are left as they were
