"""Surge mode: on near capacity, off only well below it (hysteresis), a supervisor's switch
wins over the rule, every change logged and kept; the short script asks place and
callback number only, and the dialog runs it to a complete ticket."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.call.dialog import Ask, Dialog, End, Pressed, SetSlot
from callbot.call.surge import SURGE_GREETING, SurgeMode, SurgeOverride, short_script
from callbot.speech.pieces import Prompt
from callbot.speech.prompts import PromptLibrary
from ivr import SCRIPT


def test_on_near_capacity_and_off_only_well_below(caplog):
    caplog.set_level(logging.INFO, logger="callbot.call.surge")
    surge = SurgeMode(140, on_fraction=0.9, off_fraction=0.75, clock=lambda: 1000.0)
    assert (surge.on_at, surge.off_at) == (126, 105)
    loads = [100, 125, 126, 130, 120, 110, 106, 105, 110, 125, 126]
    states = [surge.observe(n) for n in loads]
    assert states == [False, False, True, True, True, True, True, False, False, False, True]
    assert [(c.on, c.calls) for c in surge.changes] == [(True, 126), (False, 105), (True, 126)]
    assert caplog.text.count("surge mode ON") == 2 and "surge mode off" in caplog.text


def test_the_supervisor_switch_wins_and_is_logged(caplog):
    caplog.set_level(logging.INFO, logger="callbot.call.surge")
    surge = SurgeMode(10)
    surge.set_override(SurgeOverride.ON, "lead-anh", 2)
    assert surge.observe(0) and surge.changes[-1].reason == "supervisor lead-anh: on"
    surge.set_override(SurgeOverride.OFF, "lead-anh", 10)
    assert not surge.observe(10)  # forced off even at capacity
    surge.set_override(SurgeOverride.AUTO, "lead-anh", 10)
    assert surge.on  # the rule saw the load meanwhile
    assert [c.on for c in surge.changes] == [True, False, True]
    assert "surge mode set to off by lead-anh" in caplog.text


@given(st.lists(st.integers(0, 200), max_size=200), st.integers(2, 200))
def test_it_never_flips_inside_the_band(loads, capacity):
    surge = SurgeMode(capacity)
    previous = False
    for n in loads:
        state = surge.observe(n)
        if state != previous:  # a change only at or beyond a threshold
            assert n >= surge.on_at if state else n <= surge.off_at
        previous = state
    assert len(surge.changes) == sum(1 for _ in surge.changes)


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        SurgeMode(0)
    with pytest.raises(ValueError):
        SurgeMode(10, on_fraction=0.5, off_fraction=0.6)


def test_the_short_script_asks_place_and_callback_number_and_completes():
    short = short_script(SCRIPT)
    assert [q.slot for q in short.questions] == ["place", "callback_number"]
    assert short.greeting == (Prompt(SURGE_GREETING),)
    assert SURGE_GREETING in PromptLibrary().texts
    dialog = Dialog(short, ticket_id=7)
    actions = dialog.start()
    asked = []
    for keys in ("3#", "0903456789#", "1"):  # place, callback number, "right" at readback
        asks = [a for a in actions if isinstance(a, Ask)]
        asked.append(asks[-1].slot if asks else None)
        actions = dialog.handle(Pressed(keys))
    slots = {a.slot.name: a.slot.value for a in actions if isinstance(a, SetSlot)}
    slots.update({n: v.value for n, v in dialog.state.slots.items()})
    assert asked[:2] == ["place", "callback_number"]
    assert slots["place"] == "Quận 3" and slots["callback_number"] == "0903456789"
    end = actions[-1]
    assert isinstance(end, End) and end.complete
