"""``callbot serve --workers N``: N processes answering calls on one AudioSocket address.

One Python process runs one event loop on one core (Whisper's decode threads aside), so a
machine with more cores runs several. Each worker is a whole callbot (its own model, frame
clock and web app) listening on the same host:port with SO_REUSEPORT: the Linux kernel
hashes each new TCP connection to one of the listening sockets, so Asterisk keeps a single
target. All workers share the configured ticket store (SQLite in WAL mode copes with a few
writer processes on one machine; PostgreSQL for several machines — docs/scaling.md).

Worker i serves its web app (dashboard, /metrics) on ``web.port + i`` so each can be
scraped; with ``web.port = 0`` each picks a free port and prints it.

The parent supervises: it closes the calls an earlier run left open (once, before any
worker takes a call — a worker must never do it, it would end its siblings' live calls),
resolves the port, starts the workers, restarts one that dies (the kernel sends new calls
to the workers still listening meanwhile), forwards SIGINT / SIGTERM and waits. The calls a
dead worker had in progress stay open until the next full start closes them as incomplete
tickets for a callback. A worker that cannot start (a port, the model, the store) stops the
whole start-up with its one-line reason, so a supervisor sees the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import queue
import signal
import socket
from typing import Any

from callbot.config import Settings
from callbot.config_file import configure_logging

log = logging.getLogger(__name__)
status = logging.getLogger("callbot.status")


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) a SO_REUSEPORT socket to learn the port when ``port`` is 0.

    Kept open until the workers listen so nothing else takes the port meanwhile; a socket
    that is bound but not listening gets no connections, so closing it later is harmless.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def worker_settings(settings: Settings, index: int, port: int, count: int = 1) -> Settings:
    """Worker ``index`` of ``count``: its ports, and its share of the decode slots.

    ``asr.workers`` is how many decodes the *machine* runs at once (one per core by
    default); N processes that each ran that many would put N decodes on every core, and
    two workers on 2 vCPU then failed at 120 calls where one process held 150. So each
    process gets ``asr.workers // count`` (at least one).
    """
    decodes = max(1, settings.asr.workers // max(1, count))
    worker = dataclasses.replace(
        settings,
        audiosocket=dataclasses.replace(settings.audiosocket, port=port),
        asr=dataclasses.replace(settings.asr, workers=decodes),
        web=dataclasses.replace(
            settings.web, port=settings.web.port + index if settings.web.port else 0
        ),
    )
    return worker


def _worker_main(settings: Settings, index: int, verbose: bool, ready: Any) -> None:
    from callbot.server import StartupError

    configure_logging(settings.log.format, settings.log.level, verbose=verbose, worker=index)
    # The parent forwards SIGINT as SIGTERM; a Ctrl-C reaching the whole process group
    # must not kill a worker before its calls end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_worker(settings, index, ready))
    except StartupError as error:
        ready.put(("failed", index, f"{error} (worker {index})", error.code))
        raise SystemExit(error.code) from None


async def _worker(settings: Settings, index: int, ready: Any) -> None:
    from callbot.runtime import prepare_serving_process
    from callbot.server import start_callbot

    bot = await start_callbot(settings, reuse_port=True, close_stale=False)
    log.debug("start-up heap frozen: %d objects", prepare_serving_process())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    status.info("callbot: worker %d ready on %s:%d", index, settings.audiosocket.host, bot.port)
    ready.put(("ready", index, "", 0))
    await stop.wait()
    await bot.stop()


async def _close_stale_once(settings: Settings) -> None:
    from callbot.server import StartupError, close_stale_calls
    from callbot.tickets.store.base import StoreError
    from callbot.tickets.store.factory import open_store, safe_url

    try:
        async with open_store(settings.store.url) as store:
            await close_stale_calls(store, settings)
    except StoreError as error:
        url = safe_url(settings.store.url)
        raise StartupError(f"cannot start: ticket store {url}: {error}") from None


async def _wait_until_ready(workers: list[Any], ready: Any, stop: asyncio.Event) -> None:
    """Until every worker listens; a worker that fails or dies first stops start-up."""
    from callbot.server import StartupError

    waiting = set(range(len(workers)))
    while waiting and not stop.is_set():
        try:
            state, index, reason, code = await asyncio.to_thread(ready.get, True, 0.5)
        except queue.Empty:
            if dead := [i for i in sorted(waiting) if not workers[i].is_alive()]:
                code = workers[dead[0]].exitcode
                message = f"cannot start: worker {dead[0]} exited before it was ready ({code})"
                raise StartupError(message) from None
            continue
        if state == "failed":
            raise StartupError(reason, code)
        waiting.discard(index)


MAX_RESTARTS = 5  # per worker; a worker that keeps dying at start has a config problem


async def serve_workers(settings: Settings, count: int) -> None:
    from callbot.server import StartupError

    await _close_stale_once(settings)
    a = settings.audiosocket
    try:
        placeholder = reserve_port(a.host, a.port)
    except OSError as error:
        where = f"AudioSocket on {a.host}:{a.port}"
        raise StartupError(f"cannot start: {where}: {error.strerror}") from None
    port = placeholder.getsockname()[1]
    # spawn, not fork: each worker loads its own model and threads from a clean process.
    context = multiprocessing.get_context("spawn")
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    ready = context.Queue()

    def spawn(index: int) -> Any:
        process = context.Process(
            target=_worker_main,
            args=(worker_settings(settings, index, port, count), index, verbose, ready),
            name=f"callbot-worker-{index}",
        )
        process.start()
        return process

    workers = [spawn(i) for i in range(count)]
    restarts = [0] * count
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        # Announce the port only when every worker listens (the load tester and the
        # demo wait for this line): before that a connection would be refused.
        await _wait_until_ready(workers, ready, stop)
        status.info("callbot: AudioSocket on %s:%d, %d workers", a.host, port, count)
        while not stop.is_set():
            for index, process in enumerate(workers):
                if not process.is_alive() and restarts[index] < MAX_RESTARTS:
                    restarts[index] += 1
                    log.error("worker %d exited (%s); restarting it", index, process.exitcode)
                    workers[index] = spawn(index)
            if not any(p.is_alive() for p in workers):
                raise StartupError(f"every worker has exited, {MAX_RESTARTS} restarts each")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        placeholder.close()
        for process in workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: the worker lets its calls end
        for process in workers:
            await asyncio.to_thread(process.join, settings.dialog.max_call_s + 10)
