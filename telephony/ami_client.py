"""Asyncio AMI client: a thin I/O adapter over :mod:`telephony.ami_protocol`.

One TCP link at a time. Every action gets a generated ActionID and a future with its own
timeout; list actions (``EventList: start`` … ``<Name>Complete``) resolve to the list of
events; unsolicited events fan out to subscribers by name. A ``Ping`` every
``ping_interval_s`` notices a dead link that TCP would not report for minutes. When the link
drops, pending actions fail at once with :class:`AmiConnectionLost`, and a supervisor task
reconnects with exponential backoff, logs in again and runs the resync hooks (the queue
watcher re-reads QueueStatus, since events sent while we were away are lost for good).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telephony.ami_actions import AmiActions
from telephony.ami_protocol import (
    AmiConnection,
    AmiProtocolError,
    Banner,
    ConnectionClosed,
    FieldsArg,
    Packet,
    encode_action,
)
from telephony.ami_settings import (
    AmiConnectionLost,
    AmiError,
    AmiException,
    AmiLoginError,
    AmiSettings,
    AmiTimeout,
)

__all__ = [
    "AmiClient", "AmiConnectionLost", "AmiError", "AmiException", "AmiLoginError",
    "AmiSettings", "AmiTimeout",
]  # fmt: skip

log = logging.getLogger(__name__)

EventCallback = Callable[[Packet], object]
ResyncHook = Callable[[], Awaitable[None]]


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[object]
    is_list: bool = False
    list_started: bool = False
    items: list[Packet] = field(default_factory=list)
    response: Packet | None = None


class _Link:
    """One TCP connection's state; replaced wholesale on reconnect."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_packet: int
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = AmiConnection(max_packet)
        self.banner: asyncio.Future[Banner] = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()
        self.close_reason = "link closed"
        self.tasks: list[asyncio.Task[None]] = []


class AmiClient(AmiActions):
    """Asyncio AMI client. ``await connect()`` once, ``await close()`` at the end."""

    def __init__(self, settings: AmiSettings) -> None:
        self.settings = settings
        self._link: _Link | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        # A per-client prefix keeps ActionIDs unique across reconnects and across callbot
        # machines sharing one Asterisk (responses only go to the asking session anyway).
        self._id_prefix = f"cb{secrets.token_hex(3)}"
        self._subscribers: dict[str | None, list[EventCallback]] = {}
        self._resync_hooks: list[ResyncHook] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[object]] = set()
        self._closing = False
        self._connected = asyncio.Event()
        self.banner: Banner | None = None
        self.connect_count = 0

    # ---------------------------------------------------------------- lifecycle

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self, *, retry: bool = False) -> None:
        """Connect and log in, then keep the link up in the background.

        With ``retry=False`` the first failure raises (AmiConnectionLost, AmiLoginError), which
        suits a CLI check; ``retry=True`` keeps trying with the reconnect backoff instead,
        which suits a service started before Asterisk is up. Register subscribers and resync
        hooks before calling this so they see the first login.
        """
        if self._supervisor is not None:
            raise RuntimeError("AmiClient.connect() called twice")
        self._closing = False
        delays = self.settings.backoff_delays()
        while True:
            try:
                await self._connect_once()
                break
            except (AmiException, AmiProtocolError) as exc:
                if not retry:
                    raise
                delay = next(delays)
                log.warning("AMI connect failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def close(self) -> None:
        """Log off politely, stop reconnecting, fail whatever is still pending."""
        self._closing = True
        link = self._link
        if link is not None and self.connected:
            with contextlib.suppress(AmiException, OSError):
                await self.action("Logoff", timeout=min(1.0, self.settings.action_timeout_s))
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if link is not None:
            await self._drop_link(link, "client closed")
        for task in list(self._background):
            task.cancel()
        self._background.clear()

    async def _connect_once(self) -> None:
        s = self.settings
        log.info("connecting to AMI at %s:%d as %s", s.host, s.port, s.username)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(s.host, s.port), s.connect_timeout_s
            )
        except (TimeoutError, OSError) as exc:
            raise AmiConnectionLost(f"cannot connect to AMI at {s.host}:{s.port}: {exc}") from exc
        link = _Link(reader, writer, s.max_packet_size)
        self._link = link
        link.tasks.append(asyncio.create_task(self._read_loop(link), name="ami-reader"))
        try:
            try:
                self.banner = await asyncio.wait_for(
                    asyncio.shield(link.banner), s.connect_timeout_s
                )
            except TimeoutError as exc:
                raise AmiConnectionLost(
                    f"no AMI banner from {s.host}:{s.port} within {s.connect_timeout_s:g} s"
                ) from exc
            await self._login(link)
        except BaseException:
            await self._drop_link(link, "login failed")
            raise
        self.connect_count += 1
        self._connected.set()
        log.info("AMI logged in (%s), link #%d", self.banner.text, self.connect_count)
        if s.ping_interval_s > 0:
            link.tasks.append(asyncio.create_task(self._ping_loop(link), name="ami-ping"))
        for hook in list(self._resync_hooks):
            self._spawn(self._run_hook(hook))

    async def _login(self, link: _Link) -> None:
        s = self.settings
        try:
            await self._send_action(
                link,
                "Login",
                {"Username": s.username, "Secret": s.secret, "Events": s.events},
                timeout=s.action_timeout_s,
                is_list=False,
            )
        except AmiError as exc:
            # Never echo the secret; Asterisk's message is "Authentication failed".
            raise AmiLoginError("Login", f"{exc.message} (user {s.username})", exc.packet) from None

    async def _supervise(self) -> None:
        while not self._closing:
            link = self._link
            if link is not None:
                await link.closed.wait()
            if self._closing:
                return
            log.warning("AMI link lost (%s); reconnecting", link.close_reason if link else "?")
            for delay in self.settings.backoff_delays():
                await asyncio.sleep(delay)
                if self._closing:
                    return
                try:
                    await self._connect_once()
                    break
                except AmiLoginError as exc:
                    log.error("AMI re-login refused: %s; retrying in backoff", exc.message)
                except (AmiException, AmiProtocolError, OSError) as exc:
                    log.warning("AMI reconnect failed: %s", exc)

    async def _run_hook(self, hook: ResyncHook) -> None:
        try:
            await hook()
        except AmiException as exc:
            log.warning("AMI resync hook %s failed: %s", getattr(hook, "__qualname__", hook), exc)
        except Exception:
            log.exception("AMI resync hook %s crashed", getattr(hook, "__qualname__", hook))

    def _spawn(self, coro: Awaitable[object]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _drop_link(self, link: _Link, reason: str) -> None:
        if link.closed.is_set():
            return
        link.close_reason = reason
        if self._link is link:
            self._connected.clear()
        link.closed.set()
        if not link.banner.done():
            link.banner.set_exception(AmiConnectionLost(f"AMI link lost before banner: {reason}"))
            link.banner.exception()  # mark retrieved: nobody may be waiting any more
        s = self.settings
        for action_id, pending in list(self._pending.items()):
            if not pending.future.done():
                pending.future.set_exception(
                    AmiConnectionLost(
                        f"AMI link to {s.host}:{s.port} lost ({reason}) while waiting for "
                        f"{pending.action} (ActionID {action_id})"
                    )
                )
        self._pending.clear()
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
        link.writer.close()
        with contextlib.suppress(Exception):
            await link.writer.wait_closed()

    # ---------------------------------------------------------------- reading

    async def _read_loop(self, link: _Link) -> None:
        reason = "connection closed by Asterisk"
        try:
            while True:
                data = await link.reader.read(65536)
                link.conn.receive_data(data)
                for ev in link.conn.events():
                    if isinstance(ev, Banner):
                        if not link.banner.done():
                            link.banner.set_result(ev)
                    elif isinstance(ev, ConnectionClosed):
                        return
                    else:
                        self._dispatch(ev)
                if not data:
                    return
        except asyncio.CancelledError:
            reason = "reader cancelled"
            raise
        except AmiProtocolError as exc:
            # Also what a link cut in the middle of a packet looks like.
            reason = f"protocol error: {exc}"
            log.warning("AMI %s", reason)
        except OSError as exc:
            reason = f"socket error: {exc}"
        finally:
            if not link.closed.is_set():
                # Run the teardown outside this task so cancelling us can't interrupt it.
                self._spawn(self._drop_link(link, reason))

    def _dispatch(self, packet: Packet) -> None:
        action_id = packet.action_id
        pending = self._pending.get(action_id) if action_id else None
        if pending is not None and self._feed_pending(action_id, pending, packet):
            return
        name = packet.event
        if name is None:
            if packet.response is not None:
                log.debug("AMI response for unknown ActionID %s dropped", action_id)
            return
        for cb in (*self._subscribers.get(name.lower(), ()), *self._subscribers.get(None, ())):
            try:
                result = cb(packet)
                if inspect.isawaitable(result):
                    self._spawn(result)
            except Exception:
                log.exception("AMI event subscriber %r failed on %s", cb, name)

    def _feed_pending(self, action_id: str, pending: _Pending, packet: Packet) -> bool:
        """Route a packet carrying a pending ActionID; False lets it fan out as an event."""
        fut = pending.future
        if packet.response is not None:
            if packet.response.lower() == "error":
                del self._pending[action_id]
                if not fut.done():
                    fut.set_exception(
                        AmiError(pending.action, packet.get("Message") or "(no message)", packet)
                    )
                return True
            pending.response = packet
            if pending.is_list and (packet.get("EventList") or "").lower() == "start":
                pending.list_started = True
                return True
            del self._pending[action_id]
            if not fut.done():
                fut.set_result([] if pending.is_list else packet)
            return True
        if pending.is_list and pending.list_started and packet.event is not None:
            if (packet.get("EventList") or "").lower() == "complete":
                del self._pending[action_id]
                if not fut.done():
                    fut.set_result(pending.items)
            else:
                pending.items.append(packet)
            return True
        return False

    # ---------------------------------------------------------------- events

    def subscribe(self, event: str | None, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(packet)`` for each event named ``event`` (None: every event).

        Callbacks may be plain functions or return awaitables (run as tasks). Returns an
        unsubscribe function. Events belonging to a list action go to that action only.
        """
        key = event.lower() if event is not None else None
        self._subscribers.setdefault(key, []).append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.get(key, []).remove(callback)

        return unsubscribe

    def add_resync_hook(self, hook: ResyncHook) -> None:
        """Run ``await hook()`` after every successful login (first one and reconnects)."""
        self._resync_hooks.append(hook)

    # ---------------------------------------------------------------- actions

    def _next_action_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def _send_action(
        self,
        link: _Link,
        name: str,
        fields: FieldsArg,
        *,
        timeout: float | None,
        is_list: bool,
    ) -> object:
        if link.closed.is_set():
            raise AmiConnectionLost(f"AMI link is down; {name} not sent")
        action_id = self._next_action_id()
        data = encode_action(name, action_id, fields)  # raises on CR/LF before anything
        fut: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, fut, is_list=is_list)
        timeout = self.settings.action_timeout_s if timeout is None else timeout
        # Action name and id only: fields may carry a secret or a caller's number.
        log.debug("AMI -> %s (ActionID %s)", name, action_id)
        try:
            link.writer.write(data)
            await link.writer.drain()
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            raise AmiTimeout(name, action_id, timeout) from None
        except OSError as exc:
            raise AmiConnectionLost(f"AMI write of {name} failed: {exc}") from exc
        finally:
            self._pending.pop(action_id, None)
            if not fut.done():
                fut.cancel()

    def _current_link(self, name: str) -> _Link:
        link = self._link
        if link is None or not self.connected:
            raise AmiConnectionLost(f"AMI not connected; {name} not sent")
        return link

    async def action(
        self, name: str, fields: FieldsArg = None, *, timeout: float | None = None
    ) -> Packet:
        """Send one action and return its ``Response: Success`` packet.

        Raises AmiError (Response: Error, with Asterisk's Message), AmiTimeout,
        AmiConnectionLost.
        """
        link = self._current_link(name)
        result = await self._send_action(link, name, fields, timeout=timeout, is_list=False)
        assert isinstance(result, Packet)
        return result

    async def list_action(
        self, name: str, fields: FieldsArg = None, *, timeout: float | None = None
    ) -> list[Packet]:
        """Send a list action; return the events between ``EventList: start`` and the
        ``…Complete`` event (which is not included). The timeout covers the whole list."""
        link = self._current_link(name)
        result = await self._send_action(link, name, fields, timeout=timeout, is_list=True)
        assert isinstance(result, list)
        return result

    async def _ping_loop(self, link: _Link) -> None:
        interval = self.settings.ping_interval_s
        while not link.closed.is_set():
            await asyncio.sleep(interval)
            try:
                await self._send_action(
                    link,
                    "Ping",
                    None,
                    timeout=min(interval, self.settings.action_timeout_s),
                    is_list=False,
                )
            except AmiTimeout:
                log.warning("AMI Ping unanswered; dropping the link to reconnect")
                self._spawn(self._drop_link(link, "keep-alive Ping timed out"))
                return
            except AmiException:
                return
