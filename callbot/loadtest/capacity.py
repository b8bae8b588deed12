"""Capacity search: the highest number of simultaneous calls the server sustains.

Callers are kept up at a fixed concurrency (closed loop), raised step by step. Each step
settles (new callers connect, the first turns pass), then is judged over a window:
- p95 turn latency within the budget (800 ms) — server side (endpointer decision or key →
  first bot frame, from /metrics) and client side, which is what a caller waits for: key
  sent → first bot frame heard, and end of speech → first bot frame heard less the
  endpointer's trailing silence (``end_silence_s``, which the caller waits by design);
- no gap in the bot's audio at the callers (within the same tolerance as late frames);
- no late audio: the server's frame clock fell behind real time on no tick (a tolerance
  can be given for a machine shared with other work).
The search stops at the first step that fails; the answer is the last step that passed,
and the calls/hour it implies: concurrency × 3600 / mean call duration, per core used.
Each step also gives the server's cores per concurrent call (to size a larger machine) and
the load tester's own CPU, apart from the server's: a tester short of CPU is not a verdict
on the server.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from callbot.call.metrics import percentile
from callbot.loadtest.runner import CallPlacer, ClosedLoop
from callbot.loadtest.server import Scrape, ServerUnderTest, bucket_delta, histogram_quantile

DEFAULT_LEVELS = (4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 200)


@dataclass
class Step:
    concurrency: int
    window_s: float
    turns_client: int
    p95_client_keys_ms: float | None
    p95_client_speech_ms: float | None
    p95_server_ms: float | None
    turns_server: int
    late_frames: int
    late_ticks: int
    frames_expected: int
    client_gaps: int
    # The callers' own frame clock running late: the load tester itself (or the machine)
    # was short of CPU, so the step says as much about the machine as about the server.
    client_late_ticks: int
    server_cores: float | None
    asr_max_in_flight: float | None
    ok: bool
    # Server cores per call in progress: what sizes a larger machine.
    cores_per_call: float | None = None
    # The load tester's own CPU over the window (this process), apart from the server's.
    client_cores: float | None = None
    why: str = ""


@dataclass
class CapacityResult:
    steps: list[Step] = field(default_factory=list)
    sustainable: int = 0
    mean_call_s: float | None = None
    cores_used: float | None = None  # server CPU at the sustainable step
    calls_per_hour: float | None = None
    calls_per_hour_per_core: float | None = None
    cores_for_3600_per_hour: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


async def measure_step(
    server: ServerUnderTest,
    placer: CallPlacer,
    loop: ClosedLoop,
    concurrency: int,
    *,
    settle_s: float,
    window_s: float,
    budget_s: float,
    late_tolerance: float,
    end_silence_s: float = 0.7,
) -> Step:
    loop.target = concurrency
    # Settle: wait until the callers are connected, then a little more for turns to flow.
    deadline = time.monotonic() + settle_s + concurrency * loop.start_gap_s * 1.5
    while placer.active < concurrency and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    await asyncio.sleep(settle_s)
    before: Scrape | None = await server.scrape()
    usage_before = server.usage()
    client_cpu_before = _own_cpu_s()
    client_late_before = placer.clock.stats.late_ticks
    started = time.monotonic()
    samples_in_flight: list[float] = []
    while time.monotonic() - started < window_s:
        await asyncio.sleep(min(5.0, window_s))
        scrape = await server.scrape()
        if scrape is not None:
            samples_in_flight.append(scrape.get("callbot_asr_decodes_in_flight"))
        _progress(concurrency, placer, started, window_s)
    after = await server.scrape()
    usage_after = server.usage()
    client_cpu = _own_cpu_s() - client_cpu_before
    ended = time.monotonic()
    window = ended - started
    turns = [t for t in placer.live.turns if started <= t[0] <= ended]
    keys = [t[2] for t in turns if t[1] == "keys"]
    speech = [t[2] for t in turns if t[1] == "speech"]
    gaps = sum(1 for g in placer.live.gaps if started <= g <= ended)
    p95_server = None
    turns_server = 0
    late_frames = late_ticks = 0
    if after is not None:
        delta = bucket_delta(after, before)
        p95_server = histogram_quantile(0.95, delta)
        turns_server = int(max(delta.values(), default=0))
        base = before or Scrape(0)
        late_frames = int(
            after.get("callbot_late_frames_total") - base.get("callbot_late_frames_total")
        )
        late_ticks = int(
            after.get("callbot_frame_clock_late_ticks_total")
            - base.get("callbot_frame_clock_late_ticks_total")
        )
    cores = None
    if usage_before is not None and usage_after is not None:
        cores = (usage_after.cpu_s - usage_before.cpu_s) / window
    frames_expected = int(concurrency * window / 0.02)
    p95_keys = percentile(keys, 95)
    p95_speech = percentile(speech, 95)
    why = verdict(
        Judged(
            p95_server, p95_keys, p95_speech, late_frames, late_ticks, gaps, frames_expected,
            measured=bool(turns) or turns_server > 0,
        ),
        budget_s=budget_s, end_silence_s=end_silence_s, late_tolerance=late_tolerance,
    )  # fmt: skip
    return Step(
        concurrency=concurrency,
        window_s=round(window, 1),
        turns_client=len(turns),
        p95_client_keys_ms=_ms(p95_keys),
        p95_client_speech_ms=_ms(p95_speech),
        p95_server_ms=_ms(p95_server),
        turns_server=turns_server,
        late_frames=late_frames,
        late_ticks=late_ticks,
        frames_expected=frames_expected,
        client_gaps=gaps,
        client_late_ticks=placer.clock.stats.late_ticks - client_late_before,
        server_cores=round(cores, 3) if cores is not None else None,
        asr_max_in_flight=max(samples_in_flight, default=None),
        ok=not why,
        why="; ".join(why),
        cores_per_call=round(cores / concurrency, 4) if cores is not None else None,
        client_cores=round(client_cpu / window, 3),
    )


@dataclass(frozen=True)
class Judged:
    """What one step's verdict is made from (seconds; counts over the window)."""

    p95_server: float | None
    p95_keys: float | None
    p95_speech: float | None
    late_frames: int
    late_ticks: int
    gaps: int
    frames_expected: int
    measured: bool


def verdict(
    judged: Judged, *, budget_s: float, end_silence_s: float, late_tolerance: float
) -> list[str]:
    """Why a step fails (empty: it passes). The speech latency a caller measures includes
    the endpointer's trailing silence, which is waited by design, so that much is allowed
    on top of the budget."""
    j, why = judged, []
    if j.p95_server is not None and j.p95_server > budget_s:
        why.append(f"server p95 {j.p95_server * 1000:.0f} ms > {budget_s * 1000:.0f}")
    if j.p95_keys is not None and j.p95_keys > budget_s:
        why.append(f"client keypad p95 {j.p95_keys * 1000:.0f} ms > {budget_s * 1000:.0f}")
    if j.p95_speech is not None and j.p95_speech - end_silence_s > budget_s:
        why.append(
            f"client speech p95 {j.p95_speech * 1000:.0f} ms > {budget_s * 1000:.0f} + "
            f"{end_silence_s * 1000:.0f} (the endpointer's silence)"
        )
    if j.late_frames > late_tolerance * j.frames_expected:
        why.append(f"{j.late_frames} late frames ({j.late_ticks} late ticks)")
    if j.gaps > late_tolerance * j.frames_expected:
        why.append(f"{j.gaps} gaps in the bot's audio at the callers")
    if not j.measured:
        why.append("no turns measured")
    return why


def _own_cpu_s() -> float:
    """User + system CPU of this process (the simulated callers), children excluded."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _progress(concurrency: int, placer: CallPlacer, started: float, window_s: float) -> None:
    elapsed = time.monotonic() - started
    recent = [t[2] for t in placer.live.turns[-100:]]
    p95 = percentile(recent, 95)
    sys.stderr.write(
        f"\rconcurrency {concurrency:4d}: {elapsed:4.0f}/{window_s:.0f} s  in progress "
        f"{placer.active:4d}  calls ended {len(placer.results):5d}  p95 "
        f"{'-' if p95 is None else f'{p95 * 1000:.0f} ms':>7}   "
    )
    sys.stderr.flush()


async def search_capacity(
    server: ServerUnderTest,
    placer: CallPlacer,
    *,
    levels: tuple[int, ...] = DEFAULT_LEVELS,
    settle_s: float = 20.0,
    window_s: float = 90.0,
    budget_s: float = 0.8,
    late_tolerance: float = 0.0,
    end_silence_s: float = 0.7,
    refine: bool = True,
    drain_s: float = 30.0,
    seed: int = 0,
    start_gap_s: float = 0.25,
) -> CapacityResult:
    result = CapacityResult()
    loop = ClosedLoop(placer, start_gap_s=start_gap_s, seed=seed)
    loop.start()
    failed_at: int | None = None
    try:
        for level in levels:
            step = await measure_step(
                server, placer, loop, level, settle_s=settle_s, window_s=window_s,
                budget_s=budget_s, late_tolerance=late_tolerance, end_silence_s=end_silence_s,
            )  # fmt: skip
            result.steps.append(step)
            sys.stderr.write(f"\n  → {level}: {'ok' if step.ok else 'FAIL: ' + step.why}\n")
            if not step.ok:
                failed_at = level
                break
            result.sustainable = level
        if refine and failed_at is not None and failed_at - result.sustainable > 2:
            # One more point between the last pass and the first failure. Lowering the
            # target lets callers leave as their calls end, which takes a call's length.
            middle = (failed_at + result.sustainable) // 2
            loop.target = middle
            while placer.active > middle:
                await asyncio.sleep(1.0)
            step = await measure_step(
                server, placer, loop, middle, settle_s=settle_s, window_s=window_s,
                budget_s=budget_s, late_tolerance=late_tolerance, end_silence_s=end_silence_s,
            )  # fmt: skip
            result.steps.append(step)
            sys.stderr.write(f"\n  → {middle}: {'ok' if step.ok else 'FAIL: ' + step.why}\n")
            if step.ok:
                result.sustainable = middle
    finally:
        await loop.stop(drain_s)
    completed = [r for r in placer.results if r.completed and not r.failed]
    if completed:
        result.mean_call_s = round(sum(r.caller.duration_s for r in completed) / len(completed), 1)
    passed = [s for s in result.steps if s.ok and s.concurrency == result.sustainable]
    if passed and result.mean_call_s:
        result.cores_used = passed[-1].server_cores
        result.calls_per_hour = round(result.sustainable * 3600 / result.mean_call_s)
        if result.cores_used:
            result.calls_per_hour_per_core = round(result.calls_per_hour / result.cores_used)
            result.cores_for_3600_per_hour = round(3600 / result.calls_per_hour_per_core, 2)
    return result


def describe(result: CapacityResult) -> str:
    lines = [
        "concurrency  p95 server  p95 keys  p95 speech  late frames  client late  cores"
        "  cores/call  tester cores  verdict"
    ]
    for s in result.steps:
        lines.append(
            f"{s.concurrency:11d}  {_fmt(s.p95_server_ms):>10}  {_fmt(s.p95_client_keys_ms):>8}  "
            f"{_fmt(s.p95_client_speech_ms):>10}  {s.late_frames:11d}  {s.client_late_ticks:11d}  "
            f"{_fmt(s.server_cores, '{:.2f}'):>5}  {_fmt(s.cores_per_call, '{:.4f}'):>10}  "
            f"{_fmt(s.client_cores, '{:.2f}'):>12}  {'ok' if s.ok else s.why}"
        )
    lines.append(
        f"sustainable concurrency {result.sustainable}; mean call {result.mean_call_s} s; "
        f"{result.calls_per_hour} calls/hour on {result.cores_used} cores used = "
        f"{result.calls_per_hour_per_core} calls/hour/core; 3,600 calls/hour needs "
        f"{result.cores_for_3600_per_hour} cores"
    )
    return "\n".join(lines)


def _fmt(value: float | None, spec: str = "{:.0f}") -> str:
    return "-" if value is None else spec.format(value)
