"""The load tester's own logic: arrivals, the caller mix, and a report from a short real run
(three short calls against a real callbot). Heavy runs are benchmarks (bench/), not tests."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callbot.loadtest.arrivals import (
    burst_arrivals,
    parse_duration,
    parse_rate,
    poisson_arrivals,
)
from callbot.loadtest.mix import Behaviour, CallerMix, parse_behaviour_mix
from callbot.loadtest.server import histogram_quantile
from callbot.simulation.scripts import load_scripts

# ── arrivals ───────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "per_s"),
    [("3600/h", 1.0), ("60/min", 1.0), ("2/s", 2.0), ("0.5", 0.5), ("7200 / hour", 2.0)],
)
def test_parse_rate(text: str, per_s: float) -> None:
    assert parse_rate(text) == pytest.approx(per_s)


@pytest.mark.parametrize("bad", ["", "fast", "3600/day", "0/h", "-1/s"])
def test_parse_rate_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_parse_duration() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h") == 3600


def test_poisson_arrivals_statistics() -> None:
    rate = 1.0  # 3,600/h
    plan = poisson_arrivals(rate, random.Random(7), duration_s=20_000)
    n = len(plan)
    # Count ~ Poisson(20,000): within 4 standard deviations (±566).
    assert abs(n - 20_000) < 4 * 20_000**0.5
    gaps = [b - a for a, b in zip((0.0, *plan.offsets), plan.offsets, strict=False)]
    assert statistics.fmean(gaps) == pytest.approx(1 / rate, rel=0.03)
    # Exponential gaps: standard deviation equals the mean (coefficient of variation 1),
    # and P(gap > mean) = e^-1.
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.04)
    assert sum(g > 1 / rate for g in gaps) / n == pytest.approx(0.3679, abs=0.015)
    assert all(0 < o <= 20_000 for o in plan.offsets)
    assert list(plan.offsets) == sorted(plan.offsets)


def test_poisson_arrivals_are_repeatable_and_bounded() -> None:
    a = poisson_arrivals(2.0, random.Random(3), calls=50)
    b = poisson_arrivals(2.0, random.Random(3), calls=50)
    c = poisson_arrivals(2.0, random.Random(4), calls=50)
    assert a == b != c
    assert len(a) == 50
    assert len(poisson_arrivals(2.0, random.Random(3), calls=500, duration_s=10)) < 60


def test_bursts() -> None:
    one = burst_arrivals(5)
    assert one.offsets == (0.0,) * 5
    repeated = burst_arrivals(4, every_s=10, duration_s=25, spread_s=0.5, rng=random.Random(1))
    assert len(repeated) == 12  # at 0, 10, 20
    assert all(0 <= o <= 20.5 for o in repeated.offsets)
    assert len(burst_arrivals(4, every_s=10, calls=6)) == 6


# ── the caller mix ─────────────────────────────────────────────────────────────────────


def test_behaviour_mix_parsing() -> None:
    mix = parse_behaviour_mix("barge=0.1,hangup=0.05,silent=0.05")
    assert mix[Behaviour.NORMAL] == pytest.approx(0.8)
    assert parse_behaviour_mix("") == {
        Behaviour.NORMAL: 1.0, Behaviour.BARGE: 0.0, Behaviour.HANGUP: 0.0, Behaviour.SILENT: 0.0,
    }  # fmt: skip
    for bad in ("shout=0.1", "barge=0.7,silent=0.6", "barge=x"):
        with pytest.raises(ValueError):
            parse_behaviour_mix(bad)


def test_caller_mix_draws_in_proportion() -> None:
    scripts = load_scripts()
    mix = CallerMix(
        scripts,
        script_weights="keypad-essentials=3,speech-first=1",
        behaviours="barge=0.2,silent=0.1",
        rng=random.Random(11),
    )
    draws = [mix.draw() for _ in range(8000)]
    names = [d.script.name for d in draws]
    assert set(names) == {"keypad-essentials", "speech-first"}
    assert names.count("keypad-essentials") / len(names) == pytest.approx(0.75, abs=0.02)
    behaviours = [d.behaviour for d in draws]
    assert behaviours.count(Behaviour.BARGE) / len(draws) == pytest.approx(0.2, abs=0.015)
    assert behaviours.count(Behaviour.SILENT) / len(draws) == pytest.approx(0.1, abs=0.015)
    assert behaviours.count(Behaviour.HANGUP) == 0
    again = CallerMix(scripts, script_weights="keypad-essentials=3,speech-first=1",
                      behaviours="barge=0.2,silent=0.1", rng=random.Random(11))  # fmt: skip
    assert [again.draw() for _ in range(50)] == draws[:50]
    with pytest.raises(ValueError, match="no caller script"):
        CallerMix(scripts, script_weights="nobody=1", rng=random.Random(0))


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = {0.1: 10.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * 40 / 80)
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.75)
    assert histogram_quantile(0.5, {float("inf"): 0.0}) is None


# ── a short real run ───────────────────────────────────────────────────────────────────

QUICK_CALLERS = """
[[caller]]
name = "keys-then-hangs-up"
answers.ask_case_type = "keys:1"
answers.ask_subject = "hangup"
expect.case_type = "essentials"
expect_complete = false

[[caller]]
name = "silent-caller"
answers.ask_case_type = "silence"
expect_complete = false
"""


async def test_report_from_a_short_real_run(tmp_path: Path, whisper_engine) -> None:
    from callbot.loadtest import report
    from callbot.loadtest.runner import CallPlacer, run_arrivals
    from callbot.loadtest.server import ServerUnderTest
    from callbot.speech.prompts import prompt_library
    from callbot.tickets.store.factory import open_store

    try:
        from callbot_harness import callbot_settings, running_callbot
    except ImportError:
        from tests.callbot_harness import callbot_settings, running_callbot

    settings = callbot_settings(tmp_path)
    settings.web.enabled, settings.web.port = True, 0  # /metrics
    scripts_file = tmp_path / "callers.toml"
    scripts_file.write_text(QUICK_CALLERS)
    mix = CallerMix(
        load_scripts(scripts_file),
        script_weights="keys-then-hangs-up=2,silent-caller=1",
        rng=random.Random(5),
    )
    async with running_callbot(settings, whisper_engine) as bot:
        assert bot.web is not None
        web_port = bot.web.server.servers[0].sockets[0].getsockname()[1]
        server = ServerUnderTest(
            "127.0.0.1", bot.port, [f"http://127.0.0.1:{web_port}/metrics"], pid=os.getpid()
        )
        store = open_store(settings.store.url)
        await store.open()
        placer = CallPlacer(server, prompt_library(settings.prompts), mix, store)
        try:
            data = await run_arrivals(
                server, burst_arrivals(3, spread_s=1.0, rng=random.Random(2)), placer,
                progress=False, drain_s=60,
            )  # fmt: skip
        finally:
            await placer.close()
            await store.close()
            await bot.web.stop()
    figures = report.compute(data, label="test run", settings={"seed": 5})
    assert figures.calls["offered"] == 3
    assert figures.calls["answered"] == 3
    assert figures.calls["failed"] == 0
    assert figures.calls["completed"] == 0  # both scripts end incomplete on purpose
    assert figures.tickets == {"checked": 3, "match_script": 3}, figures.problems
    assert figures.turn_latency_client_ms["keys"]["n"] >= 1
    assert figures.turn_latency_server_ms["n"] >= 1
    assert figures.turn_latency_server_ms["p95"] < 800
    assert figures.asr["utterances"] == 0  # keys and silence only
    assert figures.concurrency["max"] >= 2
    assert figures.late_audio["client_frames_received"] > 100
    assert "server_late_frames" in figures.late_audio
    assert figures.cost["server_cpu_s"] > 0
    json_path, html_path = report.write_reports([figures], tmp_path / "out")
    loaded = json.loads(json_path.read_text())
    assert loaded[0]["calls"]["offered"] == 3
    page = html_path.read_text()
    assert page.count("<svg") == 3
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no assets
    assert "test run" in report.summary(figures)


def test_the_voice_only_callers_never_touch_the_keypad() -> None:
    """The speech issue's measure: these callers fill a slot only if the bot understood
    what they said, so none of their replies may be keys, and every question the bot can
    ask them (the keypad-only fallbacks included) has a spoken answer."""
    from callbot.simulation.scripts import DEFAULT_SCRIPTS

    path = DEFAULT_SCRIPTS.with_name("callers_voice.toml")
    scripts = load_scripts(path)
    assert len(scripts) >= 3
    asked = {"ask_case_type", "ask_subject", "ask_place", "ask_household", "ask_callback"}
    for script in scripts:
        replies = [r for rs in script.answers.values() for r in rs]
        assert replies and all(r.kind == "say" for r in replies), script.name
        for prompt in asked:
            assert prompt in script.answers and f"{prompt}_keypad" in script.answers
        assert script.expect_complete and {"case_type", "place"} <= set(script.expect)


# ── capacity verdict ───────────────────────────────────────────────────────────────────


def _judged(**changes):
    from callbot.loadtest.capacity import Judged

    base = dict(
        p95_server=0.3, p95_keys=0.05, p95_speech=1.2, late_frames=0, late_ticks=0, gaps=0,
        frames_expected=100_000, measured=True,
    )  # fmt: skip
    return Judged(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({}, None),
        # A caller who spoke waits the endpointer's 0.7 s by design, then up to the budget.
        ({"p95_speech": 1.49}, None),
        ({"p95_speech": 1.51}, "client speech p95 1510 ms"),
        ({"p95_server": 0.81}, "server p95 810 ms"),
        ({"p95_keys": 0.9}, "client keypad p95 900 ms"),
        ({"late_frames": 101}, "101 late frames"),
        ({"gaps": 101}, "101 gaps"),
        ({"measured": False}, "no turns measured"),
    ],
)
def test_the_capacity_verdict_judges_what_a_caller_waits_for(changes, failing) -> None:
    from callbot.loadtest.capacity import verdict

    why = verdict(_judged(**changes), budget_s=0.8, end_silence_s=0.7, late_tolerance=0.001)
    if failing is None:
        assert why == []
    else:
        assert len(why) == 1 and why[0].startswith(failing), why


async def test_a_capacity_step_reports_cores_per_call_and_the_testers_own_cpu(
    tmp_path: Path, whisper_engine
) -> None:
    from callbot.loadtest.capacity import search_capacity
    from callbot.loadtest.runner import CallPlacer
    from callbot.loadtest.server import ServerUnderTest
    from callbot.speech.prompts import prompt_library

    try:
        from callbot_harness import callbot_settings, running_callbot
    except ImportError:
        from tests.callbot_harness import callbot_settings, running_callbot

    settings = callbot_settings(tmp_path)
    settings.web.enabled, settings.web.port = True, 0
    scripts_file = tmp_path / "callers.toml"
    scripts_file.write_text(QUICK_CALLERS)
    mix = CallerMix(
        load_scripts(scripts_file), script_weights="keys-then-hangs-up=1", rng=random.Random(1)
    )
    async with running_callbot(settings, whisper_engine) as bot:
        assert bot.web is not None
        web_port = bot.web.server.servers[0].sockets[0].getsockname()[1]
        # The server runs in this process here, so its pid is ours: the figures are filled
        # in, not apart (in `callbot loadtest` the server is a subprocess).
        server = ServerUnderTest(
            "127.0.0.1", bot.port, [f"http://127.0.0.1:{web_port}/metrics"], pid=os.getpid()
        )
        placer = CallPlacer(server, prompt_library(settings.prompts), mix, None)
        try:
            result = await search_capacity(
                server, placer, levels=(2,), settle_s=1.0, window_s=6.0, refine=False,
                drain_s=20.0, late_tolerance=0.05,
            )  # fmt: skip
        finally:
            await placer.close()
            await bot.web.stop()
    (step,) = result.steps
    assert step.concurrency == 2 and step.server_cores is not None and step.server_cores > 0
    assert step.cores_per_call == pytest.approx(step.server_cores / 2, abs=1e-3)
    assert step.client_cores is not None and step.client_cores > 0


async def test_new_callers_are_spread_by_the_start_gap() -> None:
    """A step's callers start ``start_gap_s`` apart on average (0.5–1.5 × each), so a gap of
    a call length over N spreads one script's turns over a whole call."""
    from callbot.loadtest.runner import ClosedLoop

    class CountingPlacer:  # only what ClosedLoop reads and calls: the real one dials TCP
        def __init__(self) -> None:
            self.active = 0
            self.placed_at: list[float] = []

        def place(self) -> None:
            self.active += 1
            self.placed_at.append(time.monotonic())

        async def drain(self, drain_s: float) -> None:
            self.active = 0

    placer = CountingPlacer()
    loop = ClosedLoop(placer, start_gap_s=0.2, seed=3)  # type: ignore[arg-type]
    loop.target = 4
    loop.start()
    while placer.active < 4:
        await asyncio.sleep(0.02)
    await loop.stop(0.0)
    gaps = [b - a for a, b in zip(placer.placed_at, placer.placed_at[1:], strict=False)]
    assert len(gaps) == 3 and all(gap >= 0.09 for gap in gaps), gaps


def test_a_start_gap_of_zero_is_refused_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callbot", "loadtest", "--capacity", "--start-gap", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    message = "callbot loadtest: --start-gap 0: give seconds above 0"
    assert done.stderr.strip().splitlines() == [message]
