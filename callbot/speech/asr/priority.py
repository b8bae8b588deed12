"""Decoding yields the CPU to the call path (issue 14).

A call's audio is paced in real time by the event loop (one frame per call every 20 ms);
a decode can wait a few hundred milliseconds without anyone noticing. On a small box the
decode threads and the loop share the cores, and the kernel's fair scheduler gave the
busy decoders the loop's turn: under 40–50 all-spoken calls the frame clock stalled
100–265 ms at a time and frames went out late while the server used under half a core on
average (docs/performance.md, 2026-12-02). So every thread that decodes runs at a lower
priority (a higher nice value) than the loop: the loop always gets a core first, and the
decoders still get every cycle it leaves.

Linux gives each thread its own nice value, and a thread inherits its creator's: the
recogniser's native threads (CTranslate2's workers and their OpenMP threads, Vosk's
pool) are created by threads that lowered themselves first, so they run lowered too. The
server's own thread is never touched. Elsewhere (macOS) ``setpriority`` would lower the
whole process, so nothing is done there.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DECODE_NICE = 10  # 0 = the loop's own priority; 19 = the lowest


def lower_this_thread(nice: int) -> bool:
    """Give the calling thread (only it, and the threads it starts later) nice value
    ``nice`` if that is lower priority than its own; False where that cannot be done."""
    if nice <= 0 or sys.platform != "linux":
        return False
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)  # on Linux: this thread
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as error:  # a sandbox that forbids it: decode at the same priority
        log.warning("cannot lower the decode threads' priority: %s", error)
        return False
    return True


def built_at_low_priority(build: Callable[[], T], nice: int) -> T:
    """``build()`` run in a thread lowered to ``nice``, so the threads a native library
    starts while loading inherit the lower priority; its result (or exception)."""
    if nice <= 0 or sys.platform != "linux":
        return build()
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        lower_this_thread(nice)
        try:
            result.append(build())
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="asr-load")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
