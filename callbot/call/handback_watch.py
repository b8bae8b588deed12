"""A supervisor's "hand back now" (issue 17), watched once per server process (issue 14).

The dashboard may run on another machine than the call, so the store is the only channel
between them. Each call asking the store about itself once a second cost 200 reads a second
at 200 calls; here one task per process reads every pending request in one query a second
(``pending_handbacks``) and tells each of its own calls that is named. A pending call this
process does not run is someone else's (another machine runs it): ignored. No call
watched, no task and no query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from callbot.tickets.store.base import StoreError

log = logging.getLogger(__name__)

# How often the process asks the store; a supervisor waits at most about this long.
SUPERVISOR_POLL_S = 1.0


class PendingHandbacks(Protocol):
    """callbot.tickets.store.base.TicketStore.pending_handbacks."""

    async def pending_handbacks(self) -> set[str]: ...


@dataclass
class _Watched:
    deliver: Callable[[], None]
    # Queries started before the call was watched: one started later may fire it. So a
    # call watched again after a failed hand-back is not fired by a read taken before its
    # request was marked failed (a stale "pending").
    after_round: int


class HandbackWatch:
    def __init__(self, store: PendingHandbacks, *, poll_s: float = SUPERVISOR_POLL_S) -> None:
        self.store = store
        self.poll_s = poll_s
        self.polls = 0  # queries started (tests read it)
        self._calls: dict[str, _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def watched(self) -> int:
        return len(self._calls)

    @property
    def polling(self) -> bool:
        return self._task is not None and not self._task.done()

    def watch(self, call_id: str, deliver: Callable[[], None]) -> None:
        """Call ``deliver`` once, on the event loop, when a request for ``call_id`` is
        pending; then the call is no longer watched (watch it again for a new request)."""
        self._calls[call_id] = _Watched(deliver, self.polls)
        if not self.polling:
            self._task = asyncio.create_task(self._run(), name="handback-watch")

    def unwatch(self, call_id: str) -> None:
        """The call ended (or is handing back): never deliver to it. The task stops at its
        next wake-up when no call is left, without a query."""
        self._calls.pop(call_id, None)

    async def close(self) -> None:
        self._calls.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if not self._calls:
                return  # the last call ended; the next watch() starts a new task
            await self.poll_once()

    async def poll_once(self) -> None:
        """One query for every watched call; each pending one gets its delivery."""
        self.polls += 1
        this_round = self.polls
        try:
            pending = await self.store.pending_handbacks()
        except Exception as error:  # the task serves every call: it must not die of one
            if not self._failing:  # once per outage, not once a second
                if isinstance(error, StoreError):
                    log.warning("cannot read hand-back requests: %s", error)
                else:
                    log.exception("cannot read hand-back requests")
            self._failing = True
            return
        if self._failing:
            log.info("hand-back requests readable again")
        self._failing = False
        for call_id in pending & self._calls.keys():
            watched = self._calls[call_id]
            if watched.after_round >= this_round:
                continue  # watched while this query ran: the next one decides
            del self._calls[call_id]
            watched.deliver()
