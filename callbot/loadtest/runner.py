"""Place simulated calls against a server and gather what a load report needs.

Two ways to offer load:
- *open loop* (``run_arrivals``): calls arrive at planned times (Poisson or bursts) whether
  or not earlier ones have finished — what a hotline sees;
- *closed loop* (``ClosedLoop``): keep a set number of callers connected, replacing each
  one that hangs up — what a capacity search needs (a fixed concurrency to judge).

Every call's client-side measurements are kept; the server is sampled every second (CPU,
memory, /metrics) so the report can show concurrency and latency over time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from callbot.call.metrics import percentile
from callbot.call.surge import SHORT_SLOTS, SURGE_GREETING
from callbot.loadtest.arrivals import ArrivalPlan
from callbot.loadtest.caller import LiveLog, LoadCallResult, QuestionSpotter, run_load_call
from callbot.loadtest.mix import Behaviour, CallerMix, PlannedCall
from callbot.loadtest.server import Scrape, ServerUnderTest
from callbot.simulation.caller import CallerVoice, check_ticket
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.store.base import TicketStore
from telephony.frame_clock import FrameClock

log = logging.getLogger(__name__)

SAMPLE_EVERY_S = 1.0
SCRAPE_EVERY = 2  # samples


@dataclass
class Sample:
    at: float  # seconds since the run started
    active_calls: int  # connected simulated callers
    server_calls: float | None  # callbot_calls_in_progress
    cpu_s: float | None  # server CPU seconds since the run started
    rss_bytes: int | None
    asr_in_flight: float | None
    surge_on: float | None = None  # callbot_surge_on: 1 while new calls get the short script


def heard_surge(result: LoadCallResult) -> bool:
    return any(SURGE_GREETING in prompts for prompts in result.caller.prompts_heard)


def surge_expectation(result: LoadCallResult, plan: PlannedCall) -> CallerScript:
    """A caller greeted by surge mode's short script is owed a complete ticket with its
    place and callback number only (the rest is asked when a person calls back)."""
    if not heard_surge(result):
        return plan.script
    expect = {k: v for k, v in plan.script.expect.items() if k in SHORT_SLOTS}
    return dataclasses.replace(plan.script, expect=expect)


@dataclass
class RunData:
    """Everything one run measured, before it is turned into figures."""

    started_at: float  # monotonic
    ended_at: float = 0.0
    calls: list[LoadCallResult] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    offered: int = 0
    scrape_before: Scrape | None = None
    scrape_after: Scrape | None = None
    cpu_before: float | None = None
    cpu_after: float | None = None
    client_clock_late_ticks: int = 0
    notes: list[str] = field(default_factory=list)


class CallPlacer:
    """Shared per-process caller machinery: one frame clock, one ear, one voice."""

    def __init__(
        self,
        server: ServerUnderTest,
        prompts: PromptLibrary,
        mix: CallerMix,
        store: TicketStore | None,
        on_call_end: Callable[[LoadCallResult], None] | None = None,
    ) -> None:
        self.server = server
        self.mix = mix
        self.store = store
        self.clock = FrameClock()
        self.ear = PromptEar(prompts)
        questions = {name for s in mix.scripts for name in s.answers}
        self.spotter = QuestionSpotter(prompts, questions)
        self.voice = CallerVoice()
        self.active = 0
        self.results: list[LoadCallResult] = []
        self.on_call_end = on_call_end
        self.tasks: set[asyncio.Task[None]] = set()
        self.live = LiveLog()

    def place(self, plan: PlannedCall | None = None) -> asyncio.Task[None]:
        task = asyncio.create_task(self._call(plan or self.mix.draw()))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _call(self, plan: PlannedCall) -> None:
        self.active += 1
        try:
            result = await run_load_call(
                plan,
                host=self.server.host,
                port=self.server.port,
                clock=self.clock,
                ear=self.ear,
                spotter=self.spotter,
                voice=self.voice,
                live=self.live,
            )
        finally:
            self.active -= 1
        self.results.append(result)
        if self.store is not None and result.answered and not result.failed:
            await self._check(plan, result)
        if self.on_call_end is not None:
            self.on_call_end(result)

    async def _check(self, plan: PlannedCall, result: LoadCallResult) -> None:
        """Normal and barging callers must get the script's ticket; the others an
        incomplete one (they hung up or said nothing)."""
        assert self.store is not None
        result.ticket_checked = True
        try:
            if plan.behaviour in (Behaviour.NORMAL, Behaviour.BARGE):
                await check_ticket(result.caller, surge_expectation(result, plan), self.store)
                result.ticket_ok = result.caller.ok
                return
            deadline = time.monotonic() + 10
            ticket = None
            while time.monotonic() < deadline:
                ticket = await self.store.get_ticket_for_call(result.caller.call_id)
                if ticket is not None and ticket.end_reason is not None:
                    break
                await asyncio.sleep(0.2)
            result.caller.ticket = ticket
            result.ticket_ok = (
                ticket is not None and ticket.end_reason is not None and not ticket.complete
            )
            if not result.ticket_ok:
                result.caller.mismatches.append("expected a closed, incomplete ticket")
        except Exception as error:  # a check must not end the run
            result.caller.mismatches.append(f"ticket check failed: {error}")

    async def drain(self, timeout_s: float) -> None:
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def close(self) -> None:
        await self.clock.close()


class Monitor:
    """Samples the server every second and shows progress on stderr."""

    def __init__(self, server: ServerUnderTest, placer: CallPlacer, data: RunData) -> None:
        self.server = server
        self.placer = placer
        self.data = data
        self.last_scrape: Scrape | None = None
        self._task: asyncio.Task[None] | None = None
        self.show_progress = True
        # Scraping costs the server CPU (rendering, a store query): a cost benchmark of one
        # call sets 0 and reads /metrics only before and after.
        self.scrape_every = SCRAPE_EVERY

    async def start(self) -> None:
        self.server.refresh_workers()
        self.data.scrape_before = await self.server.scrape()
        self.last_scrape = self.data.scrape_before
        usage = self.server.usage()
        self.data.cpu_before = usage.cpu_s if usage else None
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.data.scrape_after = await self.server.scrape()
        usage = self.server.usage()
        self.data.cpu_after = usage.cpu_s if usage else None
        if self.show_progress:
            sys.stderr.write("\n")

    async def _run(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            tick += 1
            if self.scrape_every and tick % self.scrape_every == 0:
                self.last_scrape = await self.server.scrape() or self.last_scrape
            usage = self.server.usage()
            scrape = self.last_scrape
            cpu = None
            if usage is not None and self.data.cpu_before is not None:
                cpu = usage.cpu_s - self.data.cpu_before
            self.data.samples.append(
                Sample(
                    at=time.monotonic() - self.data.started_at,
                    active_calls=self.placer.active,
                    server_calls=scrape.get("callbot_calls_in_progress") if scrape else None,
                    cpu_s=cpu,
                    rss_bytes=usage.rss_bytes if usage else None,
                    asr_in_flight=(
                        scrape.values.get("callbot_asr_decodes_in_flight") if scrape else None
                    ),
                    surge_on=scrape.values.get("callbot_surge_on") if scrape else None,
                )
            )
            if self.show_progress:
                self._progress()

    def _progress(self) -> None:
        results = self.placer.results
        recent = [lat for r in results[-200:] for lat in r.caller.turn_latencies_s]
        p95 = percentile(recent, 95)
        failed = sum(r.failed for r in results)
        late = ""
        if self.last_scrape and self.data.scrape_before:
            frames = self.last_scrape.get(
                "callbot_late_frames_total"
            ) - self.data.scrape_before.get("callbot_late_frames_total")
            late = f"  late frames {frames:.0f}"
        elapsed = time.monotonic() - self.data.started_at
        sys.stderr.write(
            f"\r{elapsed:6.0f} s  in progress {self.placer.active:4d}  completed "
            f"{len(results) - failed:5d}  failed {failed:3d}  p95 "
            f"{'-' if p95 is None else f'{p95 * 1000:.0f} ms':>7}{late}   "
        )
        sys.stderr.flush()


async def run_arrivals(
    server: ServerUnderTest,
    plan: ArrivalPlan,
    placer: CallPlacer,
    *,
    drain_s: float = 400.0,
    progress: bool = True,
    scrape_every: int = SCRAPE_EVERY,
) -> RunData:
    """Open loop: place a call at each planned offset, then wait for all to end."""
    data = RunData(started_at=time.monotonic())
    monitor = Monitor(server, placer, data)
    monitor.show_progress = progress
    monitor.scrape_every = scrape_every
    await monitor.start()
    data.started_at = time.monotonic()
    try:
        for offset in plan.offsets:
            delay = data.started_at + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            placer.place()
            data.offered += 1
        await placer.drain(drain_s)
    finally:
        data.ended_at = time.monotonic()
        await monitor.stop()
    data.calls = list(placer.results)
    data.client_clock_late_ticks = placer.clock.stats.late_ticks
    return data


class ClosedLoop:
    """Keep ``target`` callers connected; raise ``target`` to add load step by step."""

    def __init__(self, placer: CallPlacer, *, start_gap_s: float = 0.25, seed: int = 0) -> None:
        self.placer = placer
        self.target = 0
        self.start_gap_s = start_gap_s  # new callers are spread out, not all at one instant
        self.rng = random.Random(seed)
        self.offered = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            if self.placer.active < self.target:
                self.placer.place()
                self.offered += 1
                await asyncio.sleep(self.start_gap_s * self.rng.uniform(0.5, 1.5))
            else:
                await asyncio.sleep(0.05)

    async def stop(self, drain_s: float) -> None:
        self.target = 0
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.placer.drain(drain_s)
