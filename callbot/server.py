"""Wiring: settings in, a running callbot out (AudioSocket server, models, store, AMI)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from asr_models.registry import UnknownModel
from callbot.call.asterisk_link import AsteriskLink
from callbot.call.consent import after_intake, caller_line
from callbot.call.dialog import Script
from callbot.call.handback_queue import HandbackQueue
from callbot.call.handback_watch import HandbackWatch
from callbot.call.session import CallServices, CallSession
from callbot.call.surge_gate import SurgeGate, build_surge_gate, marking_surge_tickets
from callbot.config import ConfigError, Settings
from callbot.runtime import prepare_serving_process
from callbot.speech.asr.base import AsrEngine
from callbot.speech.asr.factory import build_engine
from callbot.speech.prompts import prompt_library
from callbot.tickets.journal import replay_spool, spool_directory
from callbot.tickets.leases import CallLeases, new_owner_id
from callbot.tickets.model import utcnow
from callbot.tickets.outbox import Outbox, start_outbox
from callbot.tickets.retention import RetentionJob, start_retention
from callbot.tickets.routing import RulesError
from callbot.tickets.store.base import TicketStore
from callbot.tickets.store.factory import open_store, safe_url
from telephony.audiosocket_server import AudioSocketServer
from telephony.frame_clock import FrameClock

log = logging.getLogger(__name__)
# The lines a supervisor (demo, load tester, tests) waits for; `callbot` sends them to stdout.
status = logging.getLogger("callbot.status")


class StartupError(RuntimeError):
    """What stopped start-up, in one line; ``code`` is the exit status (2: the settings,
    which a restart cannot fix; 1: anything else)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(" ".join(message.split()))
        self.code = code


@dataclass
class _Step:
    """The start-up step in progress, so a failure names it."""

    now: str = "start-up"

    def failed(self, error: Exception) -> StartupError:
        if isinstance(error, StartupError):
            return error
        reason = str(error)
        if isinstance(error, OSError) and error.strerror:
            reason = error.strerror + (f": {error.filename}" if error.filename else "")
        settings_error = isinstance(error, ConfigError | RulesError | UnknownModel)
        return StartupError(f"cannot start: {self.now}: {reason}", 2 if settings_error else 1)


def check_paths(settings: Settings) -> None:
    """The files and folders the settings name that must already exist: a wrong path stops
    start-up before anything opens, naming the setting (recordings and caches are made)."""
    needed = {
        "prompts.dir": (settings.prompts.dir, Path.is_dir),
        "prompts.override_dir": (settings.prompts.override_dir, Path.is_dir),
        "routing.rules_file": (settings.routing.rules_file, Path.is_file),
    }
    for name, (path, exists) in needed.items():
        if path and not exists(Path(path)):
            kind = "folder" if exists is Path.is_dir else "file"
            raise ConfigError(f"{name} = {path!r}: no such {kind}")


def bind_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port``, not yet listening (no connection is accepted
    before the callbot is ready); OSError when the address is in use or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


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
    leases: CallLeases | None = None  # this process's lease on its calls (issue 15)
    surge: SurgeGate | None = None  # surge mode (issue 17), when [surge] max_calls is set

    @property
    def port(self) -> int:
        return self.audiosocket.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking calls, let the ones in progress end, then release everything."""
        await self.audiosocket.close(grace_s)
        if self.leases is not None:  # after the calls ended: released, not expired
            await self.leases.stop()
        if self.surge is not None:
            await self.surge.stop()
        if self.web is not None:
            await self.web.stop()
        if self.asterisk is not None:
            await self.asterisk.stop()
        if self.outbox is not None:
            await self.outbox.stop()
        if self.retention is not None:
            await self.retention.stop()
        await self.services.clock.close()
        if self.services.handback_watch is not None:  # before the store it reads
            await self.services.handback_watch.close()
        if self.owns_asr:
            await self.services.asr.close()
        if self.owns_store:
            await self.services.store.close()


class WebServer:
    """uvicorn in this process's event loop, so the web app shares the store and metrics."""

    def __init__(
        self, app: object, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        # proxy_headers off: the app believes X-Forwarded-For only from web.trusted_proxies.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task: asyncio.Task[None] | None = None
        # Bound here, not by uvicorn, which on a port in use logs and calls sys.exit.
        self.sock = sock or bind_socket(host, port)

    async def start(self) -> int:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
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
    """Open the store, load the model and prompts, listen. ``asr``/``store`` may be shared.

    Whatever stops start-up is raised as one StartupError naming the step, once what was
    already opened is closed again (a half-started process would hang on its threads)."""
    step = _Step()
    async with contextlib.AsyncExitStack() as opened:
        try:
            bot = await _start(settings, opened, step, asr, store, web, reuse_port, close_stale)
        except Exception as error:
            raise step.failed(error) from error
        opened.pop_all()  # from here on Callbot.stop releases everything
    return bot


async def _start(
    settings: Settings,
    opened: contextlib.AsyncExitStack,
    step: _Step,
    asr: AsrEngine | None,
    store: TicketStore | None,
    web: bool | None,
    reuse_port: bool,
    close_stale: bool,
) -> Callbot:
    owns_asr, owns_store = asr is None, store is None
    a, w = settings.audiosocket, settings.web
    step.now = "settings"
    check_paths(settings)
    # Both ports first: one in use stops start-up before the slow model load.
    step.now = f"AudioSocket on {a.host}:{a.port}"
    bind_socket(a.host, a.port, reuse_port).close()
    web_socket = None
    if w.enabled if web is None else web:
        step.now = f"web on {w.host}:{w.port}"
        web_socket = bind_socket(w.host, w.port)
        opened.callback(web_socket.close)
    if store is None:
        step.now = f"ticket store {safe_url(settings.store.url)}"
        store = open_store(settings.store.url)
        await store.open()
        opened.push_async_callback(store.close)
    step.now = "replaying journals"
    # Journals an earlier run could not replay go first: they hold how those calls ended.
    spool = spool_directory(settings.store.spool_dir, settings.recordings.dir)
    await replay_spool(store, spool)
    if close_stale:
        step.now = "closing calls left open"
        await close_stale_calls(store, settings)
    step.now = f"prompts in {settings.prompts.dir}"
    prompts = prompt_library(settings.prompts)
    prompts.preload()
    if asr is None:
        step.now = f"speech model {settings.asr.model or settings.asr.engine}"
        asr = await asyncio.to_thread(build_asr, settings)
        opened.push_async_callback(asr.close)
    step.now = "the call script (ivr.py)"
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
        spool_dir=spool,
        owner_id=new_owner_id(),
    )
    services.caller_line = caller_line(settings, services.script)  # issue 18
    # A supervisor's "hand back now": one store read a second for all of this process's calls.
    services.handback_watch = HandbackWatch(store)

    opened.push_async_callback(services.clock.close)
    opened.push_async_callback(services.handback_watch.close)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await CallSession(services, reader, writer).run()

    # Routing and agency delivery after each call; the scheduled retention purge.
    step.now = f"routing rules {settings.routing.rules_file}"
    outbox = await start_outbox(store, settings)  # a bad rules file stops start-up here
    opened.push_async_callback(outbox.stop)
    channel = services.caller_line.notify_channel if services.caller_line else None
    services.after_call = after_intake(store, outbox.pipeline.after_call, channel)
    step.now = "retention"
    retention = start_retention(store, settings)
    if retention is not None:
        opened.push_async_callback(retention.stop)

    asterisk = None
    if settings.ami.enabled:
        step.now = f"AMI {settings.ami.host}:{settings.ami.port}"
        asterisk = AsteriskLink(
            settings.ami, on_operator_reached=operator_reached(store), tickets=store
        )
        await asterisk.start()
        opened.push_async_callback(asterisk.stop)
        services.callers = asterisk.callers
        services.operators = asterisk.watcher
        services.handbacks = HandbackQueue(asterisk.watcher, settings.ami.queue)
        services.handbacks.attach()
        services.on_handback = asterisk.hand_back
        services.on_caller_known = asterisk.caller_known

    # Surge mode (issue 17): near capacity a new call gets the short script.
    watcher, queue = asterisk.watcher if asterisk else None, settings.ami.queue
    on_duty = (lambda: watcher.state(queue).logged_in) if watcher else (lambda: None)
    surge = build_surge_gate(settings.surge, services.script, services.metrics, store, on_duty)
    if surge is not None:
        services.pick_script = surge  # /metrics reads its state
        services.after_call = marking_surge_tickets(surge, services.after_call)
        surge.start()
        opened.push_async_callback(surge.stop)
    # The lease before the first call; its beat replays journals and closes dead calls.
    leases = CallLeases(
        store,
        services.owner_id,
        running=services.running_calls,
        spool_dir=spool,
        after_call=services.after_call,
    )
    step.now = "call leases"
    await leases.start()
    opened.push_async_callback(leases.stop)

    step.now = f"AudioSocket on {a.host}:{a.port}"
    server = AudioSocketServer(
        handle,
        host=a.host,
        port=a.port,
        allow=a.allow,
        reuse_port=reuse_port,  # workers
    )
    await server.start()
    opened.push_async_callback(server.close)
    bot = Callbot(
        settings,
        services,
        server,
        asterisk=asterisk,
        outbox=outbox,
        retention=retention,
        owns_asr=owns_asr,
        owns_store=owns_store,
        leases=leases,
        surge=surge,
    )
    if web_socket is not None:
        from callbot.web.app import create_app

        step.now = f"web on {w.host}:{w.port}"
        app = create_app(store, settings, services.metrics)
        app.state.services = services  # /metrics reads the frame clock and ASR queue depth
        app.state.queue_watcher = asterisk.watcher if asterisk else None
        app.state.ticket_pipeline = outbox.pipeline
        bot.web = WebServer(app, w.host, w.port, sock=web_socket)
        port = await bot.web.start()
        opened.push_async_callback(bot.web.stop)
        status.info("callbot: web on http://%s:%d/", w.host, port)
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
    log.debug("start-up heap frozen: %d objects", prepare_serving_process())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    store = safe_url(settings.store.url)
    status.info(
        "callbot: AudioSocket on %s:%d, store %s", settings.audiosocket.host, bot.port, store
    )
    await stop.wait()
    log.info("stopping: %d calls in progress", bot.audiosocket.active_calls)
    await bot.stop()
