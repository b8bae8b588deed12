"""Surge mode wired into calls (issue 17 item 4): the gate picks each new call's script
from the load and the supervisor's switch in the store (read at most once a second),
writes every change to the store, and says a callback estimate only when it is honest.
The switch and the change log are checked on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from callbot.call.metrics import CallMetrics
from callbot.call.surge import (
    SURGE_ESTIMATE,
    SURGE_ESTIMATE_HOURS,
    SURGE_GREETING,
    callback_estimate_hours,
    surge_greeting,
)
from callbot.call.surge_gate import build_surge_gate, marking_surge_tickets
from callbot.config import load_settings
from callbot.config_surge import SurgeSettings
from callbot.speech.pieces import Digits, Prompt
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import CallEndReason, CallRecord, utcnow
from callbot.tickets.store.sql_surge import SurgeStore
from ivr import SCRIPT

pytest_plugins = ["conftest_store"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_estimate_is_said_only_when_honest():
    assert callback_estimate_hours(0, 2, 4.0) == 1  # the caller is first in line: within an hour
    assert callback_estimate_hours(15, 2, 4.0) == 2  # 16 callbacks at 8 an hour
    assert callback_estimate_hours(16, 2, 4.0) == 3  # rounded up, never down
    assert callback_estimate_hours(10, 0, 4.0) is None  # nobody on duty
    assert callback_estimate_hours(10, None, 4.0) is None  # the queue is not watched
    assert callback_estimate_hours(None, 3, 4.0) is None
    assert callback_estimate_hours(100, 1, 4.0) is None  # beyond nine hours: no figure
    assert surge_greeting(None) == (Prompt(SURGE_GREETING),)
    assert surge_greeting(3) == (
        Prompt(SURGE_GREETING), Prompt(SURGE_ESTIMATE), Digits("3"), Prompt(SURGE_ESTIMATE_HOURS)
    )  # fmt: skip


async def test_the_surge_prompts_exist_and_render():
    library = PromptLibrary()
    for name in (SURGE_GREETING, SURGE_ESTIMATE, SURGE_ESTIMATE_HOURS):
        assert name in library.texts and library.audio_path(name).is_file(), name
    text = library.text_of(surge_greeting(2))
    assert text.endswith("trong khoảng 2 giờ tới."), text
    plain, with_estimate = (
        await library.speak(surge_greeting(None)),
        await library.speak(surge_greeting(2)),
    )
    assert len(with_estimate) > len(plain) + 8000  # the estimate adds more than 0.5 s


def test_settings_default_off_and_env_sets_it():
    assert load_settings(env={}).surge.max_calls == 0
    assert build_surge_gate(SurgeSettings(), SCRIPT, CallMetrics(), store=None) is None
    s = load_settings(env={"CALLBOT_SURGE_MAX_CALLS": "6", "CALLBOT_SURGE_OFF_FRACTION": "0.5"})
    assert (s.surge.max_calls, s.surge.off_fraction) == (6, 0.5)


async def test_load_switches_the_script_and_the_beat_turns_it_off(store):
    metrics = CallMetrics()
    gate = build_surge_gate(SurgeSettings(max_calls=6), SCRIPT, metrics, store)
    assert gate is not None and (gate.mode.on_at, gate.mode.off_at) == (5, 4)
    metrics.calls_in_progress = 3
    assert await gate("call-a") is SCRIPT
    metrics.calls_in_progress = 5
    short = await gate("call-b")
    assert [q.slot for q in short.questions] == ["place", "callback_number"]
    assert short.greeting == (Prompt(SURGE_GREETING),)  # no AMI: no one known on duty
    assert gate.surge_calls == {"call-b"}
    metrics.calls_in_progress = 4  # calls ended, none new: the beat sees it
    gate.read_every_s = 0.05
    gate.start()
    for _ in range(100):
        if not gate.on:
            break
        await asyncio.sleep(0.02)
    await gate.stop()
    assert not gate.on and gate.change_count == 2
    kept = await SurgeStore(store).changes()
    assert [(c.on, c.calls) for c in reversed(kept)] == [(True, 5), (False, 4)]
    assert kept[-1].reason == "auto: 5 of 6 calls"


async def test_the_supervisors_switch_is_read_at_most_once_a_second(store):
    metrics, clock = CallMetrics(), Clock()
    gate = build_surge_gate(SurgeSettings(max_calls=100), SCRIPT, metrics, store)
    assert gate is not None
    gate._monotonic = clock
    surge = SurgeStore(store)
    assert await gate("c1") is SCRIPT
    await surge.set_switch("on", "giamsat")
    clock.now = 0.5
    assert await gate("c2") is SCRIPT  # read 0.5 s ago: not yet
    clock.now = 1.0
    assert await gate("c3") is not SCRIPT  # forced on at 1 call of 100
    await surge.set_switch("off", "giamsat")
    metrics.calls_in_progress = 100
    clock.now = 2.5
    assert await gate("c4") is SCRIPT  # forced off even at capacity
    await surge.set_switch("auto", "giamsat")
    clock.now = 4.0
    assert await gate("c5") is not SCRIPT  # the rule again: 100 of 100
    await asyncio.gather(*gate._writes)
    changes = [c for c in reversed(await surge.changes()) if c.on is not None]
    assert [(c.on, c.reason) for c in changes] == [
        (True, "supervisor giamsat: on"),
        (False, "supervisor giamsat: off"),
        (True, "supervisor giamsat: auto"),
    ]


async def test_the_estimate_uses_the_callback_backlog_and_operators_on_duty(store):
    now = utcnow()
    for n in range(7):  # seven callers left for a callback
        call_id = f"00000000-0000-4000-8000-{n:012d}"
        await store.begin_call(CallRecord(call_id, now))
        await store.end_call(call_id, ended_at=now, reason=CallEndReason.NO_INPUT, complete=False)
    metrics = CallMetrics()
    metrics.calls_in_progress = 10
    gate = build_surge_gate(
        SurgeSettings(max_calls=10), SCRIPT, metrics, store, operators=lambda: 2
    )
    assert gate is not None and await SurgeStore(store).callback_backlog() == 7
    short = await gate("c1")
    assert short.greeting[1:3] == (Prompt(SURGE_ESTIMATE), Digits("1"))  # 8 at 8 an hour


async def test_a_surge_ticket_goes_to_the_callback_queue(store):
    metrics = CallMetrics()
    metrics.calls_in_progress = 1
    gate = build_surge_gate(SurgeSettings(max_calls=1), SCRIPT, metrics, store)
    assert gate is not None
    call_id = "00000000-0000-4000-8000-00000000aaaa"
    await store.begin_call(CallRecord(call_id, utcnow()))
    await gate(call_id)
    ticket = await store.end_call(
        call_id, ended_at=utcnow(), reason=CallEndReason.COMPLETED, complete=True
    )
    seen = []

    async def routed(t):
        seen.append(t.id)

    await marking_surge_tickets(gate, routed)(ticket)
    again = await store.get_ticket_for_call(call_id)
    assert again is not None and again.needs_callback and again.complete and seen == [ticket.id]
    assert gate.surge_calls == set()


async def test_switch_row_and_refused_values(store):
    surge = SurgeStore(store)
    assert await surge.switch() is None
    at = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    await surge.set_switch("on", "giamsat", at=at)
    await surge.set_switch("auto", "admin")
    stored = await surge.switch()
    assert stored is not None and (stored.value, stored.set_by) == ("auto", "admin")
    with pytest.raises(ValueError):
        await surge.set_switch("maybe", "giamsat")
    kinds = [(c.kind, c.reason) for c in await surge.changes()]
    assert kinds == [("switch", "supervisor admin: auto"), ("switch", "supervisor giamsat: on")]
