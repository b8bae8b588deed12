"""The load test report says when surge mode switched (from the server's /metrics as
sampled), how many changes the server counted, and which calls got the short script; and
a surge call is checked against the short script's slots only."""

from __future__ import annotations

from callbot.call.surge import SURGE_GREETING
from callbot.loadtest.caller import LoadCallResult
from callbot.loadtest.mix import Behaviour, PlannedCall
from callbot.loadtest.report import compute, summary
from callbot.loadtest.runner import RunData, Sample, surge_expectation
from callbot.loadtest.server import Scrape
from callbot.simulation.caller import CallerResult
from callbot.simulation.scripts import load_scripts


def _sample(at: float, surge: float | None) -> Sample:
    return Sample(at, 1, 1.0, None, None, None, surge_on=surge)


def _call(prompts: list[list[str]]) -> LoadCallResult:
    caller = CallerResult("keypad-essentials", "c", prompts_heard=prompts)
    return LoadCallResult(caller, Behaviour.NORMAL, 0.0, answered=True)


def test_the_report_lists_each_switch_and_the_short_script_calls():
    data = RunData(started_at=0.0, ended_at=90.0)
    data.scrape_before = Scrape(0.0, {"callbot_surge_on": 0.0, "callbot_surge_changes_total": 0})
    data.scrape_after = Scrape(90.0, {"callbot_surge_on": 0.0, "callbot_surge_changes_total": 2})
    data.samples = [_sample(1, 0), _sample(2, 1), _sample(3, 1), _sample(40, 0), _sample(41, None)]
    data.calls = [_call([[SURGE_GREETING], ["ask_place"]]), _call([["greeting"]])]
    figures = compute(data, label="surge")
    assert figures.surge == {
        "on_at_start": False,
        "switched": [[2, "on"], [40, "off"]],
        "server_changes": 2,
        "short_script_calls": 1,
    }
    assert "surge      on at 2 s, off at 40 s; 2 changes on the server; 1 calls" in summary(figures)


def test_a_server_without_surge_mode_adds_nothing():
    data = RunData(started_at=0.0, ended_at=10.0)
    data.scrape_after = Scrape(10.0, {"callbot_calls_in_progress": 0})
    data.samples = [_sample(1, None)]
    figures = compute(data, label="plain")
    assert figures.surge == {} and "surge" not in summary(figures)


def test_a_surge_call_is_owed_only_place_and_callback_number():
    script = next(s for s in load_scripts() if s.name == "keypad-essentials")
    plan = PlannedCall(script, Behaviour.NORMAL, hangup_after=0, seed=0)
    assert surge_expectation(_call([["greeting"]]), plan) is script
    short = surge_expectation(_call([[SURGE_GREETING]]), plan)
    assert short.expect == {"place": "Quận 3", "callback_number": "0903456789"}
    assert short.expect_complete and "case_type" in script.expect
