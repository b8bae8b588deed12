"""Which waiting decode runs next when every decode slot is busy (speed issue, item 2).

A thread pool runs jobs first come, first served, so at load a caller who said "đúng rồi"
waits behind another caller's 20-second description, and the short answers are the ones
that keep a call moving. Here every job carries a *deadline*: when it arrived plus the
time a caller can be kept waiting for that kind of answer (a closed answer little, a long
free-text answer more, in proportion to its length). The slot that frees up takes the
earliest deadline. Short closed answers overtake long ones, and a long answer is not
starved: its deadline comes round like any other (earliest deadline first).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from callbot.speech.asr.priority import lower_this_thread

# What a caller may wait, beyond decoding, before the bot answers: a closed answer (yes/no,
# a menu word, a number) should come back at once; a free-text answer may take longer the
# longer it was (the caller has just spoken for that long and expects a pause).
CLOSED_ANSWER_SLACK_S = 0.3
FREE_TEXT_SLACK_S = 0.6
FREE_TEXT_SLACK_PER_AUDIO_S = 0.1


def decode_deadline(now: float, audio_seconds: float, closed: bool) -> float:
    """When a decode should start at the latest (``time.monotonic`` clock)."""
    if closed:
        return now + CLOSED_ANSWER_SLACK_S
    return now + FREE_TEXT_SLACK_S + FREE_TEXT_SLACK_PER_AUDIO_S * audio_seconds


@dataclass(order=True)
class _Job:
    deadline: float
    seq: int  # ties go to the first come
    fn: Callable[[], Any] = field(compare=False)
    future: Future = field(compare=False)
    queued_at: float = field(compare=False)


class DeadlineExecutor:
    """``workers`` threads, each taking the waiting job with the earliest deadline.

    ``submit`` returns a ``concurrent.futures.Future`` (``asyncio.wrap_future`` it on the
    loop). A job's exception is set on its future, never lost with the thread.
    """

    def __init__(self, workers: int, name: str = "decode", *, nice: int = 0) -> None:
        if workers < 1:
            raise ValueError("a decode pool needs at least one worker")
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._workers = workers
        self._name = name
        self._nice = nice  # the threads' priority below the loop's (priority.py)
        self._threads: list[threading.Thread] = []  # started by the first job, as a pool does

    def submit(self, deadline: float, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the decode pool is shut down")
            job = _Job(deadline, next(self._seq), lambda: fn(*args), future, time.monotonic())
            heapq.heappush(self._heap, job)
            if not self._threads:
                self._start_threads()
            self._ready.notify()
        return future

    def _start_threads(self) -> None:
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"{self._name}_{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def waiting(self) -> int:
        """Jobs queued, not yet started (for /metrics and the load report)."""
        with self._ready:
            return len(self._heap)

    def shutdown(self, wait: bool = True) -> None:
        """Run what is queued, then stop the threads (``wait``: until they have)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        lower_this_thread(self._nice)
        while True:
            with self._ready:
                while not self._heap and not self._closed:
                    self._ready.wait()
                if not self._heap:  # closed and drained
                    return
                job = heapq.heappop(self._heap)
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                result = job.fn()
            except BaseException as error:  # handed to the awaiting call, not lost
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
