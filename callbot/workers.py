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
tickets for a callback.
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

log = logging.getLogger(__name__)


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


def worker_settings(settings: Settings, index: int, port: int) -> Settings:
    worker = dataclasses.replace(
        settings,
        audiosocket=dataclasses.replace(settings.audiosocket, port=port),
        web=dataclasses.replace(
            settings.web, port=settings.web.port + index if settings.web.port else 0
        ),
    )
    return worker


def _worker_main(settings: Settings, index: int, verbose: bool, ready: Any) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=f"%(asctime)s %(levelname)s worker{index} %(name)s: %(message)s",
    )
    # The parent forwards SIGINT as SIGTERM; a Ctrl-C reaching the whole process group
    # must not kill a worker before its calls end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_worker(settings, index, ready))


async def _worker(settings: Settings, index: int, ready: Any) -> None:
    from callbot.server import start_callbot

    bot = await start_callbot(settings, reuse_port=True, close_stale=False)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"callbot: worker {index} ready on {settings.audiosocket.host}:{bot.port}", flush=True)
    ready.put(index)
    await stop.wait()
    await bot.stop()


async def _close_stale_once(settings: Settings) -> None:
    from callbot.server import close_stale_calls
    from callbot.tickets.store.factory import open_store

    async with open_store(settings.store.url) as store:
        await close_stale_calls(store, settings)


MAX_RESTARTS = 5  # per worker; a worker that keeps dying at start has a config problem


async def serve_workers(settings: Settings, count: int) -> None:
    await _close_stale_once(settings)
    a = settings.audiosocket
    placeholder = reserve_port(a.host, a.port)
    port = placeholder.getsockname()[1]
    # spawn, not fork: each worker loads its own model and threads from a clean process.
    context = multiprocessing.get_context("spawn")
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    ready = context.Queue()

    def spawn(index: int) -> Any:
        process = context.Process(
            target=_worker_main,
            args=(worker_settings(settings, index, port), index, verbose, ready),
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
        for _ in workers:
            while not stop.is_set() and any(p.is_alive() for p in workers):
                with contextlib.suppress(queue.Empty):
                    await asyncio.to_thread(ready.get, True, 0.5)
                    break
        print(f"callbot: AudioSocket on {a.host}:{port}, {count} workers", flush=True)
        while not stop.is_set():
            for index, process in enumerate(workers):
                if not process.is_alive() and restarts[index] < MAX_RESTARTS:
                    restarts[index] += 1
                    log.error("worker %d exited (%s); restarting it", index, process.exitcode)
                    workers[index] = spawn(index)
            if not any(p.is_alive() for p in workers):
                log.error("every worker has exited")
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        placeholder.close()
        for process in workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: the worker lets its calls end
        for process in workers:
            await asyncio.to_thread(process.join, settings.dialog.max_call_s + 10)
