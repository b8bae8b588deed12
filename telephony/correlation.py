"""Ties an AudioSocket UUID to the Asterisk channel and the caller's number.

The AudioSocket stream carries only a UUID. Just before ``AudioSocket()`` the dialplan
emits one AMI ``UserEvent`` (read class ``user``, so we need none of the noisy
``dialplan``/``call`` events)::

    same => n,UserEvent(CallbotCall,AudioSocketUUID: ${CALLBOT_UUID},Queue: support)

Since Asterisk 12 a UserEvent carries the emitting channel's snapshot, so the packet
arrives as::

    Event: UserEvent
    Privilege: user,all
    Channel: PJSIP/trunk-0000002a
    CallerIDNum: 0903123456
    CallerIDName: Nguyễn Thị Ánh
    ...
    Uniqueid: 1795878711.10
    Linkedid: 1795878711.10
    UserEvent: CallbotCall
    AudioSocketUUID: 4c0f3f57-...
    Queue: support

Taking the number and name from the snapshot (not from the body) matters: the body is a
comma-separated list, so a caller name with a comma would break it. A body may still carry
``CallerIDNum``/``CallerIDName``/``Channel``/``BridgedChannel`` explicitly (e.g. when the
bot runs on the ``;2`` half of a Local channel and the real caller is elsewhere); the body
comes after the snapshot, so for a repeated key the *last* value wins.

The AudioSocket connection and the event race each other: :meth:`CallerDirectory.wait_for`
works whichever comes first. Entries expire after ``ttl_s`` so a directory fed for months
does not grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuid_mod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telephony.ami_protocol import Packet

if TYPE_CHECKING:
    from telephony.ami_client import AmiClient

log = logging.getLogger(__name__)

USER_EVENT_NAME = "CallbotCall"


def normalise_uuid(value: str | uuid_mod.UUID | bytes) -> str:
    """Canonical lower-case hyphenated form; accepts str, UUID or the 16 raw bytes of an
    AudioSocket UUID frame. Unparseable strings are kept (stripped, lower-cased)."""
    if isinstance(value, uuid_mod.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return str(uuid_mod.UUID(bytes=bytes(value)))
    text = value.strip()
    try:
        return str(uuid_mod.UUID(text))
    except ValueError:
        return text.lower()


@dataclass(frozen=True)
class CallerInfo:
    uuid: str
    channel: str
    uniqueid: str = ""
    # Personal data: kept out of repr so it cannot leak into INFO logs by accident.
    caller_number: str = field(default="", repr=False)
    caller_name: str = field(default="", repr=False)
    bridged_channel: str = ""
    queue: str = ""
    linkedid: str = ""

    @classmethod
    def from_user_event(cls, p: Packet) -> CallerInfo | None:
        """Build from a ``UserEvent: CallbotCall`` packet, None for any other packet."""
        if (p.event or "").lower() != "userevent":
            return None
        if (p.get("UserEvent") or "").lower() != USER_EVENT_NAME.lower():
            return None
        raw_uuid = _last(p, "AudioSocketUUID")
        if not raw_uuid:
            log.warning("CallbotCall UserEvent without AudioSocketUUID ignored")
            return None
        return cls(
            uuid=normalise_uuid(raw_uuid),
            channel=_last(p, "Channel"),
            uniqueid=_last(p, "Uniqueid"),
            caller_number=_clean_cid(_last(p, "CallerIDNum")),
            caller_name=_clean_cid(_last(p, "CallerIDName")),
            bridged_channel=_last(p, "BridgedChannel"),
            queue=_last(p, "Queue"),
            linkedid=_last(p, "Linkedid"),
        )


def _last(p: Packet, key: str) -> str:
    values = p.get_all(key)
    return values[-1].strip() if values else ""


def _clean_cid(value: str) -> str:
    # Asterisk writes "<unknown>" for an absent caller ID.
    return "" if value == "<unknown>" else value


class CallerDirectory:
    """AudioSocket UUID → :class:`CallerInfo`, fed by UserEvents (or ``register``)."""

    def __init__(self, ttl_s: float = 600.0, *, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, CallerInfo]] = {}
        self._waiters: dict[str, list[asyncio.Future[CallerInfo]]] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, client: AmiClient) -> None:
        self._unsubscribe = client.subscribe("UserEvent", self.feed_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def feed_event(self, packet: Packet) -> CallerInfo | None:
        info = CallerInfo.from_user_event(packet)
        if info is not None:
            self.register(info)
        return info

    def register(self, info: CallerInfo) -> None:
        self._purge()
        self._entries[info.uuid] = (self._clock(), info)
        log.info("call %s correlated (uniqueid %s)", info.uuid, info.uniqueid)
        # Not the channel (it can embed a SIP user) nor the number: personal, at any level.
        log.debug("call %s: caller number %s", info.uuid, "known" if info.caller_number else "none")
        for fut in self._waiters.pop(info.uuid, []):
            if not fut.done():
                fut.set_result(info)

    def get(self, uuid: str | uuid_mod.UUID | bytes) -> CallerInfo | None:
        self._purge()
        entry = self._entries.get(normalise_uuid(uuid))
        return entry[1] if entry else None

    def forget(self, uuid: str | uuid_mod.UUID | bytes) -> None:
        self._entries.pop(normalise_uuid(uuid), None)

    def __len__(self) -> int:
        self._purge()
        return len(self._entries)

    async def wait_for(
        self, uuid: str | uuid_mod.UUID | bytes, timeout: float
    ) -> CallerInfo | None:
        """The caller for this AudioSocket UUID, waiting up to ``timeout`` s for the
        UserEvent if it has not arrived yet; None if it never does (the call still goes
        on, just without a caller number)."""
        key = normalise_uuid(uuid)
        found = self.get(key)
        if found is not None:
            return found
        fut: asyncio.Future[CallerInfo] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(key, [])
        waiters.append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            log.warning("no CallbotCall UserEvent for call %s within %.1f s", key, timeout)
            return None
        finally:
            with contextlib.suppress(ValueError):
                waiters.remove(fut)
            if not waiters:
                self._waiters.pop(key, None)

    def _purge(self) -> None:
        cutoff = self._clock() - self.ttl_s
        # Insertion order is registration order (re-registration moves nothing, so scan
        # all; the table is small: one entry per bot call in the last ttl_s).
        stale = [k for k, (t, _) in self._entries.items() if t < cutoff]
        for k in stale:
            del self._entries[k]
