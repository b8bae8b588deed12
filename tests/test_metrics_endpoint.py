"""/metrics: Prometheus text from the call path's counters, the frame clock and the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from callbot.call.metrics import CallMetrics
from callbot.config import Settings
from callbot.tickets.model import CallEndReason, CallRecord, utcnow
from callbot.tickets.store.factory import open_store
from callbot.web.app import create_app
from callbot.web.metrics import AsrInFlight


def _samples(text: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


class _Clock:
    class stats:  # stands in for FrameClock.stats
        ticks, late_ticks, late_frames, resets, max_lateness_s = 500, 2, 7, 0, 0.031


class _Stream:
    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate

    def accept(self, pcm: bytes) -> None: ...

    def cancel(self) -> None: ...

    async def finish(self) -> str:
        await self.gate.wait()
        return "text"


class _Engine:
    name = "fake"
    supports_phrases = False
    supports_choices = False

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    def open_stream(self, phrases=None, choices=None) -> _Stream:
        return _Stream(self.gate)


class _Services:
    def __init__(self) -> None:
        self.clock = _Clock()
        self.asr = _Engine()


async def test_metrics_exposition(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    await store.open()
    try:
        for n in range(3):
            await store.begin_call(CallRecord(f"call-{n}", utcnow()))
        await store.end_call(
            "call-0", ended_at=utcnow(), reason=CallEndReason.COMPLETED, complete=True
        )
        metrics = CallMetrics()
        metrics.turn_latency(0.12)  # before /metrics existed: still counted
        settings = Settings()
        app = create_app(store, settings, metrics)
        services = _Services()
        app.state.services = services
        metrics.calls_in_progress = 2
        metrics.call_ended("completed", True)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            first = _samples((await client.get("/metrics")).text)
            # The ASR engine is wrapped on the first scrape: decodes in flight are counted.
            assert isinstance(services.asr, AsrInFlight)
            stream = services.asr.open_stream()
            decode = asyncio.create_task(stream.finish())
            await asyncio.sleep(0)
            metrics.turn_latency(0.45)
            metrics.turn_latency(2.0)
            second = _samples((await client.get("/metrics")).text)
            services.asr._engine.gate.set()
            await decode
            third = _samples((await client.get("/metrics")).text)
    finally:
        await store.close()
    assert first["callbot_calls_in_progress"] == 2
    assert first["callbot_calls_ended_total{reason=completed}"] == 1
    assert first["callbot_late_frames_total"] == 7
    assert first["callbot_frame_clock_max_lateness_seconds"] == 0.031
    assert first["callbot_tickets{complete=true,status=new}"] == 1
    assert first["callbot_tickets{complete=false,status=new}"] == 2
    assert first["callbot_turn_latency_seconds_count"] == 1
    assert second["callbot_turn_latency_seconds_count"] == 3
    assert second["callbot_turn_latency_seconds_bucket{le=0.5}"] == 2
    assert second["callbot_turn_latency_seconds_bucket{le=1.0}"] == 2
    assert second["callbot_asr_decodes_in_flight"] == 1
    assert third["callbot_asr_decodes_in_flight"] == 0
    assert first["process_cpu_seconds_total"] > 0
    assert first["callbot_process_peak_rss_bytes"] > 10 * 2**20
