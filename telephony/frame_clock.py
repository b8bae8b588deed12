"""One 20 ms clock for every call in the process.

Asterisk plays each AudioSocket frame the moment it arrives, so the bot must send exactly
one 20 ms frame every 20 ms, and something (silence) even when it has nothing to say, or
``AudioSocket()`` gives up after 2 s. One shared timer instead of a sleeping task per call
keeps the event loop's wake-ups at 50 per second whatever the number of calls.

The clock keeps an absolute timeline (start + n × 20 ms) so sleeps never accumulate drift.
A tick that fires late is counted; if the loop fell far behind, the missed ticks are
delivered at once (Asterisk would otherwise hear a gap) up to a limit, then the timeline is
reset so a stall does not turn into a burst of stale audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from telephony.audio_format import FRAME_MS

log = logging.getLogger(__name__)

TICK_S = FRAME_MS / 1000
LATE_AFTER_S = 0.010  # a tick more than half a frame late is a late frame for every call
MAX_CATCH_UP_TICKS = 5


@dataclass
class ClockStats:
    ticks: int = 0
    late_ticks: int = 0
    late_frames: int = 0  # late ticks × calls that were on the clock at the time
    resets: int = 0
    max_lateness_s: float = 0.0


class FrameClock:
    def __init__(self) -> None:
        self._listeners: dict[int, Callable[[], None]] = {}
        self._next_id = 0
        self._task: asyncio.Task[None] | None = None
        self.stats = ClockStats()

    def add(self, on_tick: Callable[[], None]) -> int:
        """Call ``on_tick`` every 20 ms from now on; returns a handle for ``remove``."""
        handle = self._next_id
        self._next_id += 1
        self._listeners[handle] = on_tick
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="frame-clock")
        return handle

    def remove(self, handle: int) -> None:
        self._listeners.pop(handle, None)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    async def close(self) -> None:
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + TICK_S
        while self._listeners:
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness = loop.time() - next_at
            due = 1
            if lateness > LATE_AFTER_S:
                self.stats.late_ticks += 1
                self.stats.late_frames += len(self._listeners)
                self.stats.max_lateness_s = max(self.stats.max_lateness_s, lateness)
                due = 1 + int(lateness / TICK_S)
                if due > MAX_CATCH_UP_TICKS:
                    log.warning("frame clock stalled %.0f ms; resetting timeline", lateness * 1000)
                    self.stats.resets += 1
                    due = 1
                    next_at = loop.time()
            for _ in range(due):
                self._tick_all()
                next_at += TICK_S

    def _tick_all(self) -> None:
        self.stats.ticks += 1
        for on_tick in list(self._listeners.values()):
            try:
                on_tick()
            except Exception:  # one broken call must not silence the others
                log.exception("frame listener failed")
