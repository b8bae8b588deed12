"""Live view of Asterisk queues built from AMI: who is logged in, free, paused, waiting.

State is rebuilt from ``QueueStatus`` (QueueParams / QueueMember / QueueEntry) after every
login, because events sent while the link was down are lost, and kept current by the
queue events (read class ``agent``). :meth:`QueueWatcher.apply_event` and
:meth:`QueueWatcher.apply_snapshot` are pure state updates, so tests feed them captured
packets without any socket.

Field names differ between the list events and the live events for the same thing:
QueueMember says ``Name``/``Location``, QueueMemberStatus says ``MemberName``/``Interface``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telephony.ami_protocol import Packet

if TYPE_CHECKING:
    from telephony.ami_client import AmiClient

log = logging.getLogger(__name__)

# Device states as QueueMember/QueueMemberStatus report them (include/asterisk/devicestate.h).
STATUS_UNKNOWN = 0
STATUS_NOT_INUSE = 1
STATUS_INUSE = 2
STATUS_BUSY = 3
STATUS_INVALID = 4
STATUS_UNAVAILABLE = 5
STATUS_RINGING = 6
STATUS_RINGINUSE = 7
STATUS_ONHOLD = 8

OperatorFreeCallback = Callable[[str, "QueueMemberState"], object]

ANSWERED_KEPT = 200_000  # a month of operator answers at the 1022 line's peak rate

_CALLER_EVENTS = {"queuecallerjoin", "queuecallerleave", "queuecallerabandon"}
_MEMBER_EVENTS = {
    "queuememberstatus",
    "queuememberpause",
    "queuememberadded",
    "queuememberremoved",
    "queuememberpenalty",
    "queuememberringinuse",
}


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


@dataclass
class QueueMemberState:
    interface: str
    name: str = ""
    status: int = STATUS_UNKNOWN
    paused: bool = False
    paused_reason: str = ""
    in_call: bool = False

    @property
    def available(self) -> bool:
        """Free to take a call now: logged in, not paused, device not in use."""
        return not self.paused and self.status == STATUS_NOT_INUSE


@dataclass
class WaitingCaller:
    channel: str
    uniqueid: str = ""
    caller_number: str = field(default="", repr=False)  # personal data: keep out of reprs
    caller_name: str = field(default="", repr=False)
    position: int = 0
    joined_at: float = 0.0  # watcher clock (monotonic), not wall time

    def wait_s(self, now: float) -> float:
        return max(0.0, now - self.joined_at)


@dataclass
class QueueState:
    name: str
    members: dict[str, QueueMemberState] = field(default_factory=dict)
    callers: dict[str, WaitingCaller] = field(default_factory=dict)  # by channel name
    strategy: str = ""
    max_len: int = 0

    @property
    def logged_in(self) -> int:
        return len(self.members)

    @property
    def available(self) -> int:
        return sum(1 for m in self.members.values() if m.available)

    @property
    def paused(self) -> int:
        return sum(1 for m in self.members.values() if m.paused)

    @property
    def waiting(self) -> int:
        return len(self.callers)

    def callers_by_wait(self) -> list[WaitingCaller]:
        """Waiting callers, longest-waiting first."""
        return sorted(self.callers.values(), key=lambda c: (c.joined_at, c.position))

    def longest_wait_s(self, now: float) -> float:
        return max((c.wait_s(now) for c in self.callers.values()), default=0.0)


class QueueWatcher:
    """Tracks queues from AMI. ``queues=None`` watches every queue Asterisk reports."""

    def __init__(
        self,
        client: AmiClient | None = None,
        queues: Iterable[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._only = {q for q in queues} if queues is not None else None
        self._clock = clock
        self._queues: dict[str, QueueState] = {}
        self._free_callbacks: list[OperatorFreeCallback] = []
        self._free_waiters: dict[str, list[asyncio.Future[bool]]] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._callback_tasks: set[asyncio.Future[object]] = set()
        self.resync_count = 0
        # Calls human operators answered (AgentConnect), for the share that overflowed to
        # the bot; counted from when the watcher was made, a month at most.
        self._wall_clock = wall_clock
        self._answered: deque[datetime] = deque(maxlen=ANSWERED_KEPT)
        self._answered_since = wall_clock()

    # ------------------------------------------------------------- wiring

    def attach(self) -> None:
        """Subscribe to the client's queue events and resync after every login."""
        if self._client is None:
            raise RuntimeError("QueueWatcher has no AmiClient to attach to")
        for name in (*_CALLER_EVENTS, *_MEMBER_EVENTS):
            self._unsubscribe.append(self._client.subscribe(name, self.apply_event))
        self._unsubscribe.append(self._client.subscribe("AgentConnect", self.apply_answered))
        self._client.add_resync_hook(self.resync)

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    async def resync(self) -> None:
        """Re-read QueueStatus and replace our state with it."""
        if self._client is None:
            return
        if self._only is None:
            self.apply_snapshot(await self._client.queue_status())
        else:
            for queue in sorted(self._only):
                self.apply_snapshot(await self._client.queue_status(queue), queue=queue)
        self.resync_count += 1
        log.info("queue state resynced: %s", self.summary())

    # ------------------------------------------------------------- queries

    def queues(self) -> list[str]:
        return sorted(self._queues)

    def apply_answered(self, p: Packet) -> None:
        """An operator answered a queue caller (AgentConnect, read class ``agent``)."""
        if (p.event or "").lower() != "agentconnect" or not self._watching(p.get("Queue")):
            return
        self._answered.append(self._wall_clock())

    def operator_answered_since(self, since: datetime) -> int | None:
        """Calls the operators answered since ``since``; None when the watcher was not
        counting for all of that period (a dashboard then shows no figure, not a wrong one)."""
        if since < self._answered_since:
            return None
        return sum(1 for at in self._answered if at >= since)

    def state(self, queue: str) -> QueueState:
        """Current state (an empty QueueState for a queue we know nothing about)."""
        return self._queues.get(queue) or QueueState(queue)

    def operator_available(self, queue: str) -> bool:
        return self.state(queue).available > 0

    def now(self) -> float:
        return self._clock()

    def summary(self) -> dict[str, dict[str, float]]:
        now = self._clock()
        return {
            q.name: {
                "logged_in": q.logged_in,
                "available": q.available,
                "paused": q.paused,
                "waiting": q.waiting,
                "longest_wait_s": round(q.longest_wait_s(now), 1),
            }
            for q in self._queues.values()
        }

    # ------------------------------------------------------------- operator free

    def on_operator_free(self, callback: OperatorFreeCallback) -> Callable[[], None]:
        """``callback(queue, member)`` whenever a member becomes available. Returns an
        unsubscribe function."""
        self._free_callbacks.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._free_callbacks.remove(callback)

        return unsubscribe

    async def wait_operator_free(self, queue: str, timeout: float | None = None) -> bool:
        """True as soon as ``queue`` has an available operator (at once if it has one now);
        False if none frees up within ``timeout``."""
        if self.operator_available(queue):
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters = self._free_waiters.setdefault(queue, [])
        waiters.append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        finally:
            with contextlib.suppress(ValueError):
                waiters.remove(fut)

    def _notify_free(self, queue: str, member: QueueMemberState) -> None:
        log.debug("operator %s free in queue %s", member.name or member.interface, queue)
        for fut in self._free_waiters.pop(queue, []):
            if not fut.done():
                fut.set_result(True)
        for cb in list(self._free_callbacks):
            try:
                result = cb(queue, member)
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    self._callback_tasks.add(task)
                    task.add_done_callback(self._callback_tasks.discard)
            except Exception:
                log.exception("operator-free callback %r failed", cb)

    # ------------------------------------------------------------- state updates

    def _watching(self, queue: str | None) -> bool:
        return bool(queue) and (self._only is None or queue in self._only)

    def _queue(self, name: str) -> QueueState:
        return self._queues.setdefault(name, QueueState(name))

    def apply_snapshot(self, packets: Iterable[Packet], queue: str | None = None) -> None:
        """Replace state with a QueueStatus result (``queue``: the queue asked for, so it
        is cleared even if Asterisk listed nothing for it)."""
        now = self._clock()
        fresh: dict[str, QueueState] = {}
        if queue is not None and self._watching(queue):
            fresh[queue] = QueueState(queue)
        for p in packets:
            name = p.get("Queue")
            if not self._watching(name):
                continue
            assert name is not None
            q = fresh.setdefault(name, QueueState(name))
            kind = (p.event or "").lower()
            if kind == "queueparams":
                q.strategy = p.get("Strategy") or ""
                q.max_len = _int(p.get("Max"))
            elif kind == "queuemember":
                m = self._member_from(p)
                q.members[m.interface] = m
            elif kind == "queueentry":
                c = WaitingCaller(
                    channel=p.get("Channel") or "",
                    uniqueid=p.get("Uniqueid") or "",
                    caller_number=p.get("CallerIDNum") or "",
                    caller_name=p.get("CallerIDName") or "",
                    position=_int(p.get("Position")),
                    joined_at=now - _int(p.get("Wait")),
                )
                q.callers[c.channel] = c
        # Members that became free while we were not looking still count as news.
        became_free = []
        for name, q in fresh.items():
            old = self._queues.get(name)
            for iface, m in q.members.items():
                before = old.members.get(iface) if old else None
                if m.available and not (before and before.available):
                    became_free.append((name, m))
        if queue is None:
            self._queues = fresh
        else:
            self._queues.update(fresh)
        for name, m in became_free:
            self._notify_free(name, m)

    @staticmethod
    def _member_from(p: Packet) -> QueueMemberState:
        return QueueMemberState(
            interface=p.get("Interface") or p.get("Location") or p.get("StateInterface") or "",
            name=p.get("MemberName") or p.get("Name") or "",
            status=_int(p.get("Status")),
            paused=_flag(p.get("Paused")),
            paused_reason=p.get("PausedReason") or "",
            in_call=_flag(p.get("InCall")),
        )

    def apply_event(self, p: Packet) -> None:
        """Update state from one queue event; other packets are ignored."""
        kind = (p.event or "").lower()
        if kind not in _CALLER_EVENTS and kind not in _MEMBER_EVENTS:
            return
        name = p.get("Queue")
        if not self._watching(name):
            return
        assert name is not None
        q = self._queue(name)
        if kind == "queuecallerjoin":
            c = WaitingCaller(
                channel=p.get("Channel") or "",
                uniqueid=p.get("Uniqueid") or "",
                caller_number=p.get("CallerIDNum") or "",
                caller_name=p.get("CallerIDName") or "",
                position=_int(p.get("Position")),
                joined_at=self._clock(),
            )
            q.callers[c.channel] = c
        elif kind in ("queuecallerleave", "queuecallerabandon"):
            gone = q.callers.pop(p.get("Channel") or "", None)
            if gone is not None:
                # Callers behind the one who left move up a place.
                for c in q.callers.values():
                    if c.position > gone.position:
                        c.position -= 1
        elif kind == "queuememberremoved":
            q.members.pop(self._member_from(p).interface, None)
        else:
            incoming = self._member_from(p)
            before = q.members.get(incoming.interface)
            was_free = before is not None and before.available
            if kind == "queuememberpause" and before is not None:
                # QueueMemberPause carries the full member in 22.x, but be safe with
                # older minimal forms: only the pause fields are authoritative here.
                before.paused = incoming.paused
                before.paused_reason = incoming.paused_reason
                if p.get("Status") is not None:
                    before.status = incoming.status
                member = before
            else:
                member = incoming
                q.members[member.interface] = member
            if member.available and not was_free:
                self._notify_free(name, member)
