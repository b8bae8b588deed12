"""Wiring: settings in, a running callbot out (AudioSocket server, models, store, AMI)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from callbot.call.asterisk_link import AsteriskLink
from callbot.call.dialog import Script
from callbot.call.handback_queue import HandbackQueue
from callbot.call.session import CallServices, CallSession
from callbot.config import Settings
from callbot.speech.asr.base import AsrEngine
from callbot.speech.asr.factory import build_engine
from callbot.speech.prompts import prompt_library
from callbot.tickets.model import utcnow
from callbot.tickets.outbox import Outbox, start_outbox
from callbot.tickets.retention import RetentionJob, start_retention
from callbot.tickets.store.base import TicketStore
from callbot.tickets.store.factory import open_store
from telephony.audiosocket_server import AudioSocketServer
from telephony.frame_clock import FrameClock

log = logging.getLogger(__name__)


def load_script() -> Script:
    import ivr  # the city's script; imported late so a syntax error there names the file

    return ivr.SCRIPT


def build_asr(settings: Settings) -> AsrEngine:
    return build_engine(settings.asr)


@dataclass
class Callbot:
    settings: Settings
    services: CallServices
    audiosocket: AudioSocketServer
    web: WebServer | None = None
    asterisk: AsteriskLink | None = None
    outbox: Outbox | None = None
    retention: RetentionJob | None = None
    # What start_callbot opened itself (a caller may share a model or store between bots).
    owns_asr: bool = True
    owns_store: bool = True

    @property
    def port(self) -> int:
        return self.audiosocket.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking calls, let the ones in progress end, then release everything."""
        await self.audiosocket.close(grace_s)
        if self.web is not None:
            await self.web.stop()
        if self.asterisk is not None:
            await self.asterisk.stop()
        if self.outbox is not None:
            await self.outbox.stop()
        if self.retention is not None:
            await self.retention.stop()
        await self.services.clock.close()
        if self.owns_asr:
            await self.services.asr.close()
        if self.owns_store:
            await self.services.store.close()


class WebServer:
    """uvicorn in this process's event loop, so the web app shares the store and metrics."""

    def __init__(self, app: object, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start (port in use…)
                raise RuntimeError("web server stopped before it started")
            await asyncio.sleep(0.02)
        return self.server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


async def close_stale_calls(store: TicketStore, settings: Settings) -> int:
    """Close calls a process that died (SIGKILL, power loss) left open, as incomplete
    tickets for a callback. A SQLite store belongs to this machine alone, so every open
    call is stale when the callbot starts; on a shared PostgreSQL only calls older than the
    longest possible call (other machines' calls are live). With ``--workers`` the parent
    does this once, before any worker takes a call."""
    stale_before = utcnow()
    if not settings.store.url.startswith("sqlite"):
        stale_before -= timedelta(seconds=settings.dialog.max_call_s)
    ended = await store.end_stale_calls(stale_before)
    if ended:
        log.warning("closed %d calls left open by an earlier process", len(ended))
    return len(ended)


async def start_callbot(
    settings: Settings,
    *,
    asr: AsrEngine | None = None,
    store: TicketStore | None = None,
    web: bool | None = None,
    reuse_port: bool = False,
    close_stale: bool = True,
) -> Callbot:
    """Open the store, load the model and prompts, listen. ``asr``/``store`` may be shared."""
    owns_asr, owns_store = asr is None, store is None
    if store is None:
        store = open_store(settings.store.url)
        await store.open()
    if close_stale:
        await close_stale_calls(store, settings)
    prompts = prompt_library(settings.prompts)
    prompts.preload()
    if asr is None:
        asr = await asyncio.to_thread(build_asr, settings)
    recordings = Path(settings.recordings.dir) if settings.recordings.enabled else None
    services = CallServices(
        store=store,
        asr=asr,
        prompts=prompts,
        clock=FrameClock(),
        script=load_script(),
        endpointer=settings.vad.endpointer(),
        recordings_dir=recordings,
        keypad_digit_timeout_s=settings.dialog.keypad_digit_timeout_s,
        max_call_s=settings.dialog.max_call_s,
        uuid_timeout_s=settings.audiosocket.uuid_timeout_s,
        max_payload=settings.audiosocket.max_payload,
        queue=settings.ami.queue,
        correlation_wait_s=settings.ami.correlation_wait_s,
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await CallSession(services, reader, writer).run()

    # Routing and agency delivery after each call; the scheduled retention purge.
    outbox = await start_outbox(store, settings)  # a bad rules file stops start-up here
    services.after_call = outbox.pipeline.after_call
    retention = start_retention(store, settings)

    asterisk = None
    if settings.ami.enabled:
        asterisk = AsteriskLink(settings.ami, on_operator_reached=operator_reached(store))
        await asterisk.start()
        services.callers = asterisk.callers
        services.operators = asterisk.watcher
        services.handbacks = HandbackQueue(asterisk.watcher, settings.ami.queue)
        services.handbacks.attach()
        services.on_handback = asterisk.hand_back
        services.on_caller_known = asterisk.caller_known

    a = settings.audiosocket
    server = AudioSocketServer(
        handle,
        host=a.host,
        port=a.port,
        allow=a.allow,
        reuse_port=reuse_port,  # workers
    )
    await server.start()
    bot = Callbot(
        settings,
        services,
        server,
        asterisk=asterisk,
        outbox=outbox,
        retention=retention,
        owns_asr=owns_asr,
        owns_store=owns_store,
    )
    if settings.web.enabled if web is None else web:
        from callbot.web.app import create_app

        app = create_app(store, settings, services.metrics)
        app.state.services = services  # /metrics reads the frame clock and ASR queue depth
        app.state.queue_watcher = asterisk.watcher if asterisk else None
        app.state.ticket_pipeline = outbox.pipeline
        bot.web = WebServer(app, settings.web.host, settings.web.port)
        port = await bot.web.start()
        print(f"callbot: web on http://{settings.web.host}:{port}/", flush=True)
    return bot


def operator_reached(store: TicketStore, wait_s: float = 10.0):
    """What happens when an operator answers a caller the bot handed back: the ticket
    leaves the callback queue (nobody needs to call them back), kept as complete as it was."""

    async def reached(call_id: str, operator: str) -> None:
        # Asterisk can connect the operator before the session has closed the ticket (the
        # hangup frame goes first); closing it would put it back in the callback queue.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        ticket = await store.get_ticket_for_call(call_id)
        while ticket is not None and ticket.end_reason is None and loop.time() < deadline:
            await asyncio.sleep(0.2)
            ticket = await store.get_ticket_for_call(call_id)
        if ticket is None:
            return
        await store.resolve_callback(
            ticket.id, "asterisk", complete=ticket.complete, note=f"reached {operator} (hand-back)"
        )
        log.info("ticket %d: handed-back caller reached an operator", ticket.id)

    return reached


async def serve_forever(settings: Settings) -> None:
    """``callbot serve``: run until SIGINT/SIGTERM, then let calls finish (tickets kept).
    Several processes on one port: ``callbot.workers.serve_workers``."""
    bot = await start_callbot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    store = _safe_url(settings.store.url)
    print(f"callbot: AudioSocket on {settings.audiosocket.host}:{bot.port}, store {store}")
    await stop.wait()
    log.info("stopping: %d calls in progress", bot.audiosocket.active_calls)
    await bot.stop()


def _safe_url(url: str) -> str:
    """A store URL without its password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url
