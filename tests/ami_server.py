"""An AMI test peer that behaves like Asterisk on the wire (not a mock of our client).

A real asyncio TCP server on 127.0.0.1, port 0: sends the one-line banner, checks Login,
echoes ActionIDs, answers list actions with ``EventList: start`` … ``<Name>Complete``,
builds QueueStatus and QueueSummary from a configurable queue state, handles
QueueWithdrawCaller, Setvar (on a channel, or a global without one, with Asterisk's
inheritance underscores), Hangup, MixMonitor, Ping, Logoff, and pushes events. Knobs to
misbehave the way networks and Asterisk do: split writes at arbitrary byte positions,
coalesce packets into one write, replay the capture's ``<<`` packets, drop the link in the
middle of a list, never answer chosen actions.

Two behaviours of a real Asterisk 22.10.1 that once broke a deployment are reproduced:
``ringinuse`` (a queue's default is yes: a member already in a call is rung again and
bridged, so callers never overflow) and the manager user's ``write`` classes (an action
outside them answers ``Permission denied``; ``QueueWithdrawCaller`` needs none).

Also: helpers that rebuild the capture files (``<< ``/``>> `` lines) into wire bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telephony.ami_protocol import Packet, ReceiveBuffer, encode_packet, parse_packet

CAPTURES = Path(__file__).parent / "captures" / "asterisk-22.10"
BANNER = "Asterisk Call Manager/11.0.0"

# Write class each action needs, as `manager show command <Action>` prints it on 22.10.1
# ("<none>": any logged-in user). An action needs one of the listed classes.
ACTION_PRIVILEGES: dict[str, frozenset[str]] = {
    "setvar": frozenset({"call"}),
    "hangup": frozenset({"system", "call"}),
    "queuewithdrawcaller": frozenset(),
    "queuestatus": frozenset(),
    "queuesummary": frozenset(),
    "mixmonitor": frozenset({"system"}),
    "stopmixmonitor": frozenset({"system", "call"}),
    "originate": frozenset({"originate"}),
}


# ------------------------------------------------------------------ captures


@dataclass
class Capture:
    banner: bytes  # b"Asterisk Call Manager/11.0.0\r\n" or b""
    server_packets: list[bytes]  # each ends with CRLF CRLF, exactly as on the wire
    client_packets: list[bytes]

    @property
    def server_bytes(self) -> bytes:
        return self.banner + b"".join(self.server_packets)


def load_capture(name: str) -> Capture:
    """Rebuild what Asterisk sent (``<<``) and what the client sent (``>>``) as CRLF bytes."""
    banner = b""
    packets: dict[str, list[bytes]] = {"<<": [], ">>": []}
    current: dict[str, list[str]] = {"<<": [], ">>": []}
    first_server_line = True
    for raw in (CAPTURES / name).read_text(encoding="utf-8").split("\n"):
        if raw.startswith("#") or raw[:2] not in ("<<", ">>"):
            continue
        side, text = raw[:2], raw[3:]
        if side == "<<" and first_server_line:
            first_server_line = False
            if text.startswith("Asterisk Call Manager/"):
                banner = (text + "\r\n").encode("utf-8")
                continue
        if text == "":
            if current[side]:
                packets[side].append(
                    ("".join(line + "\r\n" for line in current[side]) + "\r\n").encode("utf-8")
                )
                current[side] = []
            continue
        current[side].append(text)
    return Capture(banner, packets["<<"], packets[">>"])


# ------------------------------------------------------------------ queue model


@dataclass
class FakeMember:
    name: str
    interface: str
    status: int = 1
    paused: bool = False
    in_call: bool = False
    paused_reason: str = ""

    def fields(self) -> list[tuple[str, str]]:
        return [
            ("Name", self.name),
            ("Location", self.interface),
            ("StateInterface", self.interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", "0"),
            ("LastCall", "0"),
            ("LastPause", "0"),
            ("LoginTime", "1795878694"),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(self.status)),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
            ("Wrapuptime", "0"),
        ]


@dataclass
class FakeCaller:
    channel: str
    uniqueid: str = ""
    caller_number: str = ""
    caller_name: str = ""
    joined_at: float = field(default_factory=time.monotonic)
    withdraw_requested: bool = False


@dataclass
class FakeQueue:
    name: str
    members: list[FakeMember] = field(default_factory=list)
    callers: list[FakeCaller] = field(default_factory=list)
    strategy: str = "ringall"
    ringinuse: bool = True  # Asterisk's default, as app_queue has it
    holdtime: int = 0  # app_queue's running average wait of answered callers, seconds
    talktime: int = 0

    def member_to_ring(self) -> FakeMember | None:
        """Whom Queue() rings for a new caller: a free member, or with ``ringinuse`` also
        one already in a call (status 2, in use) — the behaviour that kept every caller
        away from the bot when queues.conf did not say ``ringinuse = no``."""
        for member in self.members:
            if member.paused:
                continue
            if member.status == 1 or (self.ringinuse and member.status == 2):
                return member
        return None


def queue_from_conf(text: str, name: str, members: Iterable[FakeMember]) -> FakeQueue:
    """A FakeQueue with the options that ``[name]`` of a queues.conf sets (those we model)."""
    section, options = "", {}
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == name and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            options[key.rstrip(">").strip()] = value
    ringinuse = options.get("ringinuse", "yes").lower() in ("yes", "true", "1", "on")
    return FakeQueue(
        name, list(members), strategy=options.get("strategy", "ringall"), ringinuse=ringinuse
    )


# ------------------------------------------------------------------ the server


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = ReceiveBuffer()
        self.authenticated = False
        self.events_mask = "on"
        self.write_lock = asyncio.Lock()


class AmiTestServer:
    """See module docstring. Use ``async with AmiTestServer(...) as server:``."""

    def __init__(
        self,
        *,
        username: str = "callbot",
        secret: str = "s3cret",
        queues: Iterable[FakeQueue] = (),
        banner: str = BANNER,
        split_every: int | None = None,
        split_points: Callable[[bytes], list[int]] | None = None,
        coalesce: bool = False,
        ignore_actions: Iterable[str] = (),
        drop_mid_list_times: int = 0,
        replay_after_login: Iterable[bytes] = (),
        fully_booted: bool = True,
        write_classes: Iterable[str] | None = None,
    ) -> None:
        self.username = username
        self.secret = secret
        self.queues = {q.name: q for q in queues}
        self.banner = banner
        # Write-splitting: a pause after each piece makes the client see separate reads.
        self.split_every = split_every
        self.split_points = split_points
        self.coalesce = coalesce
        self.ignore_actions = {a.lower() for a in ignore_actions}
        self.drop_mid_list_times = drop_mid_list_times
        self.replay_after_login = list(replay_after_login)
        self.fully_booted = fully_booted
        # The manager user's `write =` classes; None: everything allowed.
        self.write_classes = None if write_classes is None else {c.strip() for c in write_classes}
        self.denied: list[str] = []  # actions refused for want of a write class

        self.port = 0
        self.actions: list[Packet] = []  # every action received, all connections
        self.logins = 0
        self.failed_logins = 0
        self.connections = 0
        self.withdrawn: list[tuple[str, str]] = []
        self.variables: dict[tuple[str, str], str] = {}
        self.hung_up: list[str] = []
        self.monitors: dict[str, str] = {}
        self.known_channels: set[str] | None = None  # None: every channel exists
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.logged_in = asyncio.Event()

    async def __aenter__(self) -> AmiTestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.drop_clients()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def drop_clients(self) -> None:
        """Close every client connection (the link drop our client must survive)."""
        for s in list(self._sessions):
            s.writer.close()
        self._sessions.clear()

    def actions_named(self, name: str) -> list[Packet]:
        return [a for a in self.actions if (a.get("Action") or "").lower() == name.lower()]

    # -------------------------------------------------------------- writing

    async def _write(self, s: _Session, data: bytes) -> None:
        async with s.write_lock:
            if self.split_points is not None:
                cuts = sorted({c for c in self.split_points(data) if 0 < c < len(data)})
            elif self.split_every:
                cuts = list(range(self.split_every, len(data), self.split_every))
            else:
                cuts = []
            start = 0
            for cut in [*cuts, len(data)]:
                s.writer.write(data[start:cut])
                await s.writer.drain()
                if cut != len(data):
                    await asyncio.sleep(0.002)
                start = cut

    async def _send(self, s: _Session, packets: list[Packet]) -> None:
        blobs = [encode_packet(p) for p in packets]
        if self.coalesce:
            await self._write(s, b"".join(blobs))
        else:
            for blob in blobs:
                await self._write(s, blob)

    def _wants(self, s: _Session, packet: Packet) -> bool:
        mask = s.events_mask.lower()
        if mask in ("on", "all", "yes", "true"):
            return True
        if mask in ("off", "no", "false", ""):
            return False
        privilege = {c.strip() for c in (packet.get("Privilege") or "").split(",")}
        privilege -= {"all", ""}
        wanted = {c.strip() for c in mask.split(",")}
        return not privilege or bool(privilege & wanted)

    async def send_event(self, packet: Packet | bytes) -> None:
        """Push an event (a Packet, or raw wire bytes) to every logged-in client."""
        for s in list(self._sessions):
            if not s.authenticated:
                continue
            if isinstance(packet, bytes):
                await self._write(s, packet)
            elif self._wants(s, packet):
                await self._send(s, [packet])

    # -------------------------------------------------------------- reading

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        s = _Session(reader, writer)
        self._sessions.add(s)
        self.connections += 1
        try:
            await self._write(s, (self.banner + "\r\n").encode())
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                s.buf += data
                while True:
                    s.buf.skip_leading_newlines()
                    raw = s.buf.maybe_extract_packet(1 << 20)
                    if raw is None:
                        break
                    action = parse_packet(raw)
                    self.actions.append(action)
                    if not await self._on_action(s, action):
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._sessions.discard(s)
            writer.close()
            self._handlers.discard(task)

    # -------------------------------------------------------------- actions

    @staticmethod
    def _reply(action: Packet, response: str, *pairs: tuple[str, str]) -> Packet:
        fields = [("Response", response)]
        if action.action_id is not None:
            fields.append(("ActionID", action.action_id))
        return Packet([*fields, *pairs])

    def _ok(self, action: Packet, message: str, *pairs: tuple[str, str]) -> Packet:
        return self._reply(action, "Success", ("Message", message), *pairs)

    def _error(self, action: Packet, message: str) -> Packet:
        return self._reply(action, "Error", ("Message", message))

    def _channel_exists(self, channel: str) -> bool:
        return self.known_channels is None or channel in self.known_channels

    async def _on_action(self, s: _Session, a: Packet) -> bool:
        """Answer one action; False closes the connection."""
        name = (a.get("Action") or "").lower()
        if name in self.ignore_actions:
            return True
        if name == "login":
            if a.get("Username") == self.username and a.get("Secret") == self.secret:
                s.authenticated = True
                s.events_mask = a.get("Events") or "on"
                self.logins += 1
                await self._send(s, [self._ok(a, "Authentication accepted")])
                if self.fully_booted:
                    await self.send_event(
                        Packet.of(
                            ("Event", "FullyBooted"),
                            ("Privilege", "system,all"),
                            ("Uptime", "14"),
                            ("LastReload", "14"),
                            ("Status", "Fully Booted"),
                        )
                    )
                for blob in self.replay_after_login:
                    await self._write(s, blob)
                self.logged_in.set()
                return True
            self.failed_logins += 1
            await self._send(s, [self._error(a, "Authentication failed")])
            return False  # Asterisk hangs up after a failed login
        if name == "ping":
            ts = f"{time.time():.6f}"
            await self._send(s, [self._reply(a, "Success", ("Ping", "Pong"), ("Timestamp", ts))])
            return True
        if not s.authenticated:
            await self._send(s, [self._error(a, "Authentication Required")])
            return True
        needed = ACTION_PRIVILEGES.get(name)
        if self.write_classes is not None and needed and not needed & self.write_classes:
            self.denied.append(a.get("Action") or "")
            await self._send(s, [self._error(a, "Permission denied")])
            return True
        if name == "logoff":
            await self._send(
                s, [self._reply(a, "Goodbye", ("Message", "Thanks for all the fish."))]
            )
            return False
        if name == "queuestatus":
            return await self._queue_status(s, a)
        if name == "queuesummary":
            await self._queue_summary(s, a)
            return True
        if name == "queuewithdrawcaller":
            await self._send(s, [self._withdraw(a)])
            return True
        if name == "setvar":
            channel, var = a.get("Channel") or "", a.get("Variable") or ""
            if not var:
                reply = self._error(a, "No variable specified")
            elif channel and not self._channel_exists(channel):
                reply = self._error(a, "No such channel")
            else:
                self.variables[(channel, var)] = a.get("Value") or ""
                reply = self._ok(a, "Variable Set")
            await self._send(s, [reply])
            return True
        if name == "hangup":
            channel = a.get("Channel") or ""
            if not channel or not self._channel_exists(channel):
                reply = self._error(a, "No such channel")
            else:
                self.hung_up.append(channel)
                reply = self._ok(a, "Channel Hungup")
            await self._send(s, [reply])
            return True
        if name == "mixmonitor":
            channel = a.get("Channel") or ""
            if not self._channel_exists(channel):
                await self._send(s, [self._error(a, "No such channel")])
            else:
                self.monitors[channel] = a.get("File") or ""
                await self._send(s, [self._ok(a, "Success", ("MixMonitorID", "0x1"))])
            return True
        if name == "stopmixmonitor":
            channel = a.get("Channel") or ""
            if self.monitors.pop(channel, None) is None:
                await self._send(s, [self._error(a, "Could not stop MixMonitor")])
            else:
                await self._send(s, [self._ok(a, "Stopped MixMonitor")])
            return True
        await self._send(
            s,
            [
                self._error(
                    a,
                    f"Invalid/unknown command: {a.get('Action')}. "
                    "Use Action: ListCommands to show available commands.",
                )
            ],
        )
        return True

    async def _queue_status(self, s: _Session, a: Packet) -> bool:
        wanted = a.get("Queue")
        aid = [("ActionID", a.action_id)] if a.action_id else []
        items: list[Packet] = []
        now = time.monotonic()
        for q in self.queues.values():
            if wanted and q.name != wanted:
                continue
            items.append(
                Packet(
                    [
                        ("Event", "QueueParams"),
                        ("Queue", q.name),
                        ("Max", "0"),
                        ("Strategy", q.strategy),
                        ("Calls", str(len(q.callers))),
                        ("Holdtime", "0"),
                        ("TalkTime", "0"),
                        ("Completed", "0"),
                        ("Abandoned", "0"),
                        ("ServiceLevel", "0"),
                        ("ServicelevelPerf", "0.0"),
                        ("ServicelevelPerf2", "0.0"),
                        ("Weight", "0"),
                        *aid,
                    ]
                )
            )
            for m in q.members:
                items.append(
                    Packet([("Event", "QueueMember"), ("Queue", q.name), *m.fields(), *aid])
                )
            for pos, c in enumerate(q.callers, start=1):
                items.append(
                    Packet(
                        [
                            ("Event", "QueueEntry"),
                            ("Queue", q.name),
                            ("Position", str(pos)),
                            ("Channel", c.channel),
                            ("Uniqueid", c.uniqueid),
                            ("CallerIDNum", c.caller_number or "<unknown>"),
                            ("CallerIDName", c.caller_name or "<unknown>"),
                            ("ConnectedLineNum", "<unknown>"),
                            ("ConnectedLineName", "<unknown>"),
                            ("Wait", str(int(now - c.joined_at))),
                            ("Priority", "0"),
                            *aid,
                        ]
                    )
                )
        start = self._ok(a, "Queue status will follow")
        start.fields.insert(2, ("EventList", "start"))
        complete = Packet(
            [
                ("Event", "QueueStatusComplete"),
                *aid,
                ("EventList", "Complete"),
                ("ListItems", str(len(items))),
            ]
        )
        if self.drop_mid_list_times > 0:
            self.drop_mid_list_times -= 1
            await self._send(s, [start, *items[:1]])
            # Half a packet, then the link dies: the worst place to lose it.
            await self._write(s, encode_packet(items[1] if len(items) > 1 else complete)[:20])
            return False
        await self._send(s, [start, *items, complete])
        return True

    async def _queue_summary(self, s: _Session, a: Packet) -> None:
        """QueueSummary as app_queue 22 answers it: one QueueSummary event per queue."""
        wanted = a.get("Queue")
        aid = [("ActionID", a.action_id)] if a.action_id else []
        now = time.monotonic()
        items = []
        for q in self.queues.values():
            if wanted and q.name != wanted:
                continue
            logged_in = [m for m in q.members if m.status not in (4, 5)]  # invalid, unavailable
            free = [m for m in logged_in if m.status == 1 and not m.paused]
            longest = max((int(now - c.joined_at) for c in q.callers), default=0)
            items.append(
                Packet(
                    [
                        ("Event", "QueueSummary"),
                        ("Queue", q.name),
                        ("LoggedIn", str(len(logged_in))),
                        ("Available", str(len(free))),
                        ("Callers", str(len(q.callers))),
                        ("HoldTime", str(q.holdtime)),
                        ("TalkTime", str(q.talktime)),
                        ("LongestHoldTime", str(longest)),
                        *aid,
                    ]
                )
            )
        start = self._ok(a, "Queue summary will follow")
        start.fields.insert(2, ("EventList", "start"))
        complete = Packet(
            [
                ("Event", "QueueSummaryComplete"),
                *aid,
                ("EventList", "Complete"),
                ("ListItems", str(len(items))),
            ]
        )
        await self._send(s, [start, *items, complete])

    def variable(self, channel: str, name: str) -> str | None:
        """A variable as the dialplan reads it, ``${NAME}``: Asterisk matches names with
        their inheritance underscores (``_NAME``, ``__NAME``) stripped. Channel "": a
        global (Setvar without Channel)."""
        for (chan, var), value in reversed(self.variables.items()):
            if chan == channel and var.lstrip("_") == name:
                return value
        return None

    def inherited(self, channel: str) -> dict[str, str]:
        """What the channel Queue() creates to ring an operator inherits from the caller's
        channel (ast_channel_inherit_variables): ``_NAME`` arrives as ``NAME``, ``__NAME``
        stays ``__NAME``; names without an underscore are not copied."""
        out = {}
        for (chan, var), value in self.variables.items():
            if chan != channel or not var.startswith("_"):
                continue
            out[var if var.startswith("__") else var[1:]] = value
        return out

    def _withdraw(self, a: Packet) -> Packet:
        q = self.queues.get(a.get("Queue") or "")
        caller_channel = a.get("Caller") or ""
        if q is None:
            return self._error(a, "Unable to request withdraw from queue: No such queue")
        caller = next((c for c in q.callers if c.channel == caller_channel), None)
        if caller is None:
            return self._error(a, "Unable to request withdraw from queue: Not found")
        if caller.withdraw_requested:
            return self._error(a, "Unable to request withdraw from queue: Already requested")
        caller.withdraw_requested = True
        self.withdrawn.append((q.name, caller_channel))
        return self._ok(a, "Withdrawn from queue")

    async def caller_leaves(
        self, queue: str, channel: str, event: str = "QueueCallerLeave"
    ) -> None:
        """Remove a waiting caller and tell clients (what Queue() does when it returns)."""
        q = self.queues[queue]
        for pos, c in enumerate(q.callers, start=1):
            if c.channel == channel:
                q.callers.remove(c)
                await self.send_event(
                    Packet.of(
                        ("Event", event),
                        ("Privilege", "agent,all"),
                        ("Channel", c.channel),
                        ("Uniqueid", c.uniqueid),
                        ("Queue", queue),
                        ("Position", str(pos)),
                        ("Count", str(len(q.callers))),
                    )
                )
                return

    async def set_member_status(self, queue: str, interface: str, status: int) -> None:
        """A member's device changes state (QueueMemberStatus, class agent)."""
        member = next(m for m in self.queues[queue].members if m.interface == interface)
        member.status = status
        member.in_call = status in (2, 3)
        await self.send_event(
            Packet.of(
                ("Event", "QueueMemberStatus"),
                ("Privilege", "agent,all"),
                ("Queue", queue),
                ("MemberName", member.name),
                ("Interface", member.interface),
                ("StateInterface", member.interface),
                ("Membership", "static"),
                ("Penalty", "0"),
                ("CallsTaken", "0"),
                ("LastCall", "0"),
                ("InCall", "1" if member.in_call else "0"),
                ("Status", str(status)),
                ("Paused", "1" if member.paused else "0"),
                ("PausedReason", member.paused_reason),
                ("Ringinuse", "1" if self.queues[queue].ringinuse else "0"),
            )
        )

    async def caller_joins(self, queue: str, caller: FakeCaller) -> FakeMember | None:
        """What Queue() does for a new caller: join, then (as app_queue decides with the
        queue's ``ringinuse``) ring a member and bridge them at once — the simulated
        operators answer. Returns the member who took the call, or None: still waiting."""
        q = self.queues[queue]
        q.callers.append(caller)
        await self.send_event(
            Packet.of(
                ("Event", "QueueCallerJoin"),
                ("Privilege", "agent,all"),
                ("Channel", caller.channel),
                ("CallerIDNum", caller.caller_number or "<unknown>"),
                ("CallerIDName", caller.caller_name or "<unknown>"),
                ("Uniqueid", caller.uniqueid),
                ("Queue", queue),
                ("Position", str(len(q.callers))),
                ("Count", str(len(q.callers))),
            )
        )
        member = q.member_to_ring()
        if member is None:
            return None
        await self.caller_leaves(queue, caller.channel)
        await self.agent_connect(queue, caller.channel, member)
        await self.set_member_status(queue, member.interface, 2)
        return member

    async def agent_connect(self, queue: str, channel: str, member: FakeMember) -> None:
        """An operator answered a queue caller (AgentConnect, class agent)."""
        await self.send_event(
            Packet.of(
                ("Event", "AgentConnect"),
                ("Privilege", "agent,all"),
                ("Channel", channel),
                ("Queue", queue),
                ("MemberName", member.name),
                ("Interface", member.interface),
                ("HoldTime", "3"),
                ("RingTime", "1"),
            )
        )


def callbot_call_event(
    call_uuid: str,
    name: str = "Nguyễn Thị Ánh",
    number: str = "0903123456",
    *body: tuple[str, str],
) -> Packet:
    """A CallbotCall UserEvent as Asterisk 22 sends it: the channel snapshot, then the
    ``UserEvent:`` name, then the body from the dialplan."""
    return Packet(
        [
            ("Event", "UserEvent"),
            ("Privilege", "user,all"),
            ("Channel", "PJSIP/trunk-0000002a"),
            ("ChannelState", "6"),
            ("ChannelStateDesc", "Up"),
            ("CallerIDNum", number),
            ("CallerIDName", name),
            ("ConnectedLineNum", "<unknown>"),
            ("ConnectedLineName", "<unknown>"),
            ("Language", "vi"),
            ("AccountCode", ""),
            ("Context", "hotline"),
            ("Exten", "1022"),
            ("Priority", "9"),
            ("Uniqueid", "1795878711.10"),
            ("Linkedid", "1795878711.10"),
            ("UserEvent", "CallbotCall"),
            ("AudioSocketUUID", call_uuid),
            ("Queue", "support"),
            *body,
        ]
    )
