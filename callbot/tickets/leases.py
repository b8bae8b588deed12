"""Call leases: a dead process's calls are closed at once, on every store, by any live one.

Each callbot process is an *owner* (a UUID made at start-up). Every call it begins names it
(``calls.owner_id``), and every ``HEARTBEAT_S`` it renews its lease (``call_owners``). On
the same beat it replays the spool's journals (callbot.tickets.journal) and ends, as
incomplete tickets in the callback queue, the calls nobody runs any more: those of owners
silent for more than ``LEASE_S - HEARTBEAT_S`` (their process was killed, lost power or
its machine), and its own that no session of its runs (a call whose ending could not be
stored). So a dead process's calls are closed within ``LEASE_S`` of its last heartbeat,
by whichever process beats next — several machines on one PostgreSQL, or several workers
on one SQLite file. Clocks of machines sharing a database must agree to well under a
second (NTP), as heartbeats are compared across them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from pathlib import Path

from callbot.tickets.journal import replay_spool
from callbot.tickets.model import Ticket, utcnow
from callbot.tickets.store.base import StoreError, TicketStore

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
LEASE_S = 10.0


def new_owner_id() -> str:
    return str(uuid.uuid4())


class CallLeases:
    """This process's lease, the spool's replay and the recovery of orphaned calls."""

    def __init__(
        self,
        store: TicketStore,
        owner: str,
        *,
        running: Collection[str],
        spool_dir: Path | None = None,
        after_call: Callable[[Ticket], Awaitable[object]] | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        lease_s: float = LEASE_S,
    ) -> None:
        if lease_s < 3 * heartbeat_s:
            raise ValueError("a lease must outlast at least three heartbeats")
        self.store = store
        self.owner = owner
        self.running = running  # the calls this process's sessions run now
        self.spool_dir = spool_dir
        self.after_call = after_call
        self.heartbeat_s = heartbeat_s
        self.lease_s = lease_s
        self.recovered = 0  # calls of others (or lost ones of ours) this process closed
        self._host = socket.gethostname()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the lease (before any call begins), then beat in the background."""
        try:
            await self.tick()
        except StoreError as error:  # the next beat tries again; calls are not refused
            log.warning("call leases: store unavailable at start: %s", error)
        self._task = asyncio.create_task(self._run(), name="call-leases")

    async def tick(self) -> None:
        """One beat: renew, replay the spool, end the calls nobody runs."""
        now = utcnow()
        await self.store.renew_lease(self.owner, host=self._host, at=now)
        if self.spool_dir is not None:
            await replay_spool(self.store, self.spool_dir, self.after_call)
        # Silent for longer than the lease less one beat: so the sweep on the next beat at
        # the latest closes a dead owner's calls within LEASE_S of its last heartbeat.
        expired_before = now - timedelta(seconds=self.lease_s - self.heartbeat_s)
        ended = await self.store.end_orphaned_calls(
            self.owner, expired_before=expired_before, running=set(self.running)
        )
        self.recovered += len(ended)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.tick()
            except StoreError as error:
                log.warning("call leases: store unavailable this beat: %s", error)
            except Exception:
                log.exception("call leases: beat failed")

    async def stop(self) -> None:
        """A clean stop (after the calls ended): the lease is released."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.store.release_lease(self.owner)
        except StoreError as error:
            log.warning("call leases: could not release the lease: %s", error)
