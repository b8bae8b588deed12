"""The decode queue: earliest deadline first, nothing lost (callbot/speech/asr/scheduling.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbot.speech.asr.scheduling import DeadlineExecutor, decode_deadline


def _blocked_pool() -> tuple[DeadlineExecutor, threading.Event]:
    """One worker, held busy until the event is set, so later jobs queue up."""
    pool = DeadlineExecutor(1)
    gate = threading.Event()
    started = threading.Event()

    def hold() -> None:
        started.set()
        gate.wait(10)

    pool.submit(0.0, hold)
    assert started.wait(5)
    return pool, gate


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=30))
def test_queued_jobs_run_earliest_deadline_first(deadlines: list[float]) -> None:
    pool, gate = _blocked_pool()
    ran: list[tuple[float, int]] = []
    futures = [pool.submit(d, ran.append, (d, i)) for i, d in enumerate(deadlines)]
    gate.set()
    for future in futures:
        future.result(timeout=5)
    pool.shutdown()
    # By deadline; equal deadlines in the order they came.
    assert ran == sorted(((d, i) for i, d in enumerate(deadlines)))


def test_a_short_closed_answer_overtakes_a_long_free_text_answer_already_waiting() -> None:
    pool, gate = _blocked_pool()
    order: list[str] = []
    long_free = pool.submit(decode_deadline(100.0, 20.0, closed=False), order.append, "free")
    yes_no = pool.submit(decode_deadline(100.05, 1.0, closed=True), order.append, "yes/no")
    gate.set()
    long_free.result(5), yes_no.result(5)
    pool.shutdown()
    assert order == ["yes/no", "free"]


def test_a_long_answer_is_not_starved_by_later_short_ones() -> None:
    # A free-text answer that has waited past its slack goes before closed answers that
    # arrived after that point.
    free = decode_deadline(100.0, 10.0, closed=False)
    later_closed = decode_deadline(100.0 + 2.0, 1.0, closed=True)
    assert free < later_closed


def test_an_exception_reaches_the_caller_and_the_worker_goes_on() -> None:
    pool = DeadlineExecutor(1)

    def boom() -> None:
        raise ValueError("bad audio")

    with pytest.raises(ValueError, match="bad audio"):
        pool.submit(1.0, boom).result(5)
    assert pool.submit(2.0, lambda: 42).result(5) == 42
    pool.shutdown()


def test_shutdown_runs_what_is_queued_then_refuses_more() -> None:
    pool, gate = _blocked_pool()
    futures = [pool.submit(float(i), lambda i=i: i) for i in range(5)]
    assert pool.waiting == 5
    gate.set()
    pool.shutdown()
    assert [f.result(0) for f in futures] == list(range(5))
    with pytest.raises(RuntimeError):
        pool.submit(0.0, print)


def test_zero_workers_is_refused() -> None:
    with pytest.raises(ValueError):
        DeadlineExecutor(0)


async def test_awaited_from_the_event_loop() -> None:
    pool = DeadlineExecutor(2)
    results = await asyncio.gather(
        *(asyncio.wrap_future(pool.submit(float(i), pow, i, 2)) for i in range(6))
    )
    assert results == [i * i for i in range(6)]
    pool.shutdown()
