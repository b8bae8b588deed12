"""``GET /metrics``: the callbot's figures in the Prometheus text format.

Everything is read at scrape time from what the call path already keeps (``CallMetrics``,
the frame clock's stats, the ASR engine), so the call path pays nothing for it — except
turn latencies, which become a histogram as they are recorded (a bounded window of samples
cannot give Prometheus the monotonic counts it needs). Ticket counts by status come from the
store, cached a few seconds so a scraper hammering the endpoint cannot load the database.

A registry per app, not prometheus_client's global one: tests and ``callbot loadtest`` build
several apps in one process, and each must report only its own callbot.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from callbot.call.metrics import CallMetrics

log = logging.getLogger(__name__)

router = APIRouter()

TICKET_CACHE_S = 5.0
# Dense around the 800 ms turn budget so a p95 read from the buckets is within ~50 ms.
LATENCY_BUCKETS = (
    0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 2.0, 3.0, 5.0, 10.0,
)  # fmt: skip


class _ObservedDeque(deque):  # type: ignore[type-arg]
    """The session appends turn latencies to ``CallMetrics.turn_latencies_s``; this deque
    also puts each one in the histogram, so the session needs no Prometheus code."""

    def __init__(self, items: Iterable[float], maxlen: int | None, histogram: Histogram) -> None:
        super().__init__(items, maxlen)
        self.histogram = histogram

    def append(self, value: float) -> None:
        super().append(value)
        self.histogram.observe(value)


class AsrInFlight:
    """Wraps an ASR engine to count decodes in flight (``finish()`` awaited, not returned):
    with Whisper that is the decode queue — a growing number means the pool is saturated."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.in_flight = 0
        self.finished = 0

    def __getattr__(self, name: str) -> Any:  # name, supports_phrases, close…
        return getattr(self._engine, name)

    def open_stream(self, phrases: Sequence[str] | None = None, choices: Any = None) -> Any:
        return _CountedStream(self._engine.open_stream(phrases, choices), self)


class _CountedStream:
    def __init__(self, stream: Any, counter: AsrInFlight) -> None:
        self._stream = stream
        self._counter = counter

    def accept(self, pcm: bytes) -> None:
        self._stream.accept(pcm)

    def cancel(self) -> None:
        self._stream.cancel()

    async def finish(self) -> Any:
        self._counter.in_flight += 1
        try:
            return await self._stream.finish()
        finally:
            self._counter.in_flight -= 1
            self._counter.finished += 1


class CallbotCollector(Collector):
    def __init__(self, metrics: CallMetrics) -> None:
        self.metrics = metrics
        self.services: Any | None = None  # CallServices, once the server has set it
        self.tickets: list[tuple[str, bool, int]] = []  # (status, complete, count), cached

    def collect(self) -> Iterable[Metric]:
        m = self.metrics
        yield GaugeMetricFamily(
            "callbot_calls_in_progress", "Calls connected now.", value=m.calls_in_progress
        )
        ended = CounterMetricFamily(
            "callbot_calls_ended", "Calls ended, by end reason.", labels=["reason"]
        )
        for reason, count in sorted(m.calls_ended.items()):
            ended.add_metric([reason], count)
        yield ended
        yield CounterMetricFamily(
            "callbot_calls_complete", "Calls that ended with a complete ticket.", m.calls_complete
        )
        yield CounterMetricFamily(
            "callbot_barge_ins", "Prompts cut short by the caller speaking.", m.barge_ins
        )
        yield CounterMetricFamily(
            "callbot_unidentified_connections",
            "AudioSocket connections that sent no valid UUID (not filed as tickets).",
            m.unidentified_connections,
        )
        yield CounterMetricFamily(
            "callbot_store_writes_journaled",
            "Store writes that failed and were kept in the call's journal for replay.",
            m.store_writes_journaled,
        )
        yield CounterMetricFamily(
            "callbot_requests_not_saved",
            "Calls handed back because neither the store nor the journal could keep them.",
            m.requests_not_saved,
        )
        yield CounterMetricFamily(
            "callbot_asr_utterances", "Caller utterances decoded.", m.utterances
        )
        yield CounterMetricFamily(
            "callbot_asr_audio_seconds", "Seconds of caller audio decoded.", m.asr_audio_s
        )
        yield CounterMetricFamily(
            "callbot_asr_decode_seconds", "Wall seconds spent decoding.", m.asr_decode_s
        )
        asr = getattr(self.services, "asr", None)
        if isinstance(asr, AsrInFlight):
            yield GaugeMetricFamily(
                "callbot_asr_decodes_in_flight",
                "Decodes waiting or running (the ASR queue depth).",
                value=asr.in_flight,
            )
        surge = getattr(self.services, "pick_script", None)  # call/surge_gate.py's gate
        if surge is not None and hasattr(surge, "change_count"):
            yield GaugeMetricFamily(
                "callbot_surge_on",
                "1 while surge mode gives new calls the short script.",
                value=1 if surge.on else 0,
            )
            yield CounterMetricFamily(
                "callbot_surge_changes", "Times surge mode went on or off.", surge.change_count
            )
        clock = getattr(self.services, "clock", None)
        if clock is not None:
            stats = clock.stats
            yield CounterMetricFamily(
                "callbot_frame_clock_ticks", "20 ms ticks of the shared frame clock.", stats.ticks
            )
            yield CounterMetricFamily(
                "callbot_frame_clock_late_ticks",
                "Ticks more than 10 ms late (the bot's audio fell behind real time).",
                stats.late_ticks,
            )
            yield CounterMetricFamily(
                "callbot_late_frames",
                "Late ticks x calls on the clock then: bot frames sent late.",
                stats.late_frames,
            )
            yield CounterMetricFamily(
                "callbot_frame_clock_resets", "Stalls too long to catch up.", stats.resets
            )
            yield GaugeMetricFamily(
                "callbot_frame_clock_max_lateness_seconds",
                "Worst tick lateness since start.",
                value=stats.max_lateness_s,
            )
        tickets = GaugeMetricFamily(
            "callbot_tickets",
            f"Tickets in the store by status (refreshed at most every {TICKET_CACHE_S:.0f} s).",
            labels=["status", "complete"],
        )
        for status, complete, count in self.tickets:
            tickets.add_metric([status, str(complete).lower()], count)
        yield tickets
        # ru_maxrss is KiB on Linux: the high-water mark a load test wants, which the
        # standard process collector (current RSS) does not give.
        yield GaugeMetricFamily(
            "callbot_process_peak_rss_bytes",
            "Peak resident memory of this process.",
            value=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )


class MetricsState:
    def __init__(self, app_state: Any) -> None:
        self.app_state = app_state
        self.store = app_state.store
        metrics: CallMetrics = app_state.metrics
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "callbot_turn_latency_seconds",
            "End of caller input (endpointer decision or key) to the bot's first audio frame.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for value in metrics.turn_latencies_s:
            self.latency.observe(value)
        metrics.turn_latencies_s = _ObservedDeque(
            metrics.turn_latencies_s, metrics.turn_latencies_s.maxlen, self.latency
        )
        self.collector = CallbotCollector(metrics)
        self.registry.register(self.collector)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, RSS, fds
        self._tickets_at = float("-inf")
        self._lock = asyncio.Lock()

    def bind_services(self) -> None:
        """The clock and the ASR engine live in ``CallServices``, which ``start_callbot``
        puts in ``app.state.services`` after ``create_app``: picked up on the first scrape
        (the load tester scrapes once before it places any call)."""
        services = getattr(self.app_state, "services", None)
        if services is None or self.collector.services is services:
            return
        if not isinstance(services.asr, AsrInFlight):
            services.asr = AsrInFlight(services.asr)
        self.collector.services = services

    async def refresh_tickets(self) -> None:
        async with self._lock:
            if time.monotonic() - self._tickets_at < TICKET_CACHE_S:
                return
            self._tickets_at = time.monotonic()
            try:
                self.collector.tickets = await count_tickets(self.store)
            except Exception:  # a scrape must not fail because the store hiccuped
                log.exception("metrics: could not count tickets")

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def count_tickets(store: Any) -> list[tuple[str, bool, int]]:
    """(status, complete, count) for every group; empty for a store without SQL."""
    counter = getattr(store, "count_by_status", None)
    if counter is not None:  # a store that offers it (preferred; see docs/scaling.md)
        return await counter()
    transaction = getattr(store, "_transaction", None)
    if transaction is None:
        return []
    async with transaction("metrics", write=False) as tx:
        rows = await tx.fetch(
            "SELECT status, complete, COUNT(*) AS n FROM tickets GROUP BY status, complete"
        )
    return [(str(r["status"]), bool(r["complete"]), int(r["n"])) for r in rows]


def install_metrics(app: Any) -> MetricsState:
    """Make ``app`` serve /metrics for the store and metrics in its state."""
    state = MetricsState(app.state)
    app.state.prometheus = state
    app.include_router(router)
    return state


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request) -> Response:
    state: MetricsState = request.app.state.prometheus
    state.bind_services()
    await state.refresh_tickets()
    return Response(state.render(), media_type=CONTENT_TYPE_LATEST)
