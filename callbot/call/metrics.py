"""Counters and latency samples for one callbot process.

Kept in memory and cheap to update from the call path; the load tester and ``/metrics``
read them. Latency samples are kept in a bounded window so a long run does not grow.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from callbot.speech.asr.base import Hypothesis

WINDOW = 10_000


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0 ≤ q ≤ 100) by nearest rank: the smallest sample that at least
    q % of the samples are at or under; None for no samples.

    numpy's ``inverted_cdf`` method (Hyndman & Fan type 1), not its default ``linear``: a
    latency percentile here is a capacity gate ("p95 under 800 ms"), so it must be a delay
    some turn really had and must not understate the tail. The rounded index used before
    numpy (``round(q / 100 * (n - 1))``, numpy's ``nearest``) did: of 13 samples it called
    the 12th the p95, which only 92 % of them are at or under."""
    if not values:
        return None
    return float(np.percentile(values, q, method="inverted_cdf"))


@dataclass
class CallMetrics:
    calls_in_progress: int = 0
    calls_ended: Counter[str] = field(default_factory=Counter)
    calls_complete: int = 0
    barge_ins: int = 0
    # Connections that never named a call with a valid UUID (port scans, junk): logged and
    # counted here, never filed as tickets — no one is behind them to call back.
    unidentified_connections: int = 0
    # Store writes that failed and were kept in the call's journal (replayed later), and
    # calls whose request could not be kept at all (journal failed too): handed back.
    store_writes_journaled: int = 0
    requests_not_saved: int = 0
    utterances: int = 0
    asr_audio_s: float = 0.0
    asr_decode_s: float = 0.0
    turn_latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def call_ended(self, reason: str, complete: bool) -> None:
        self.calls_ended[reason] += 1
        self.calls_complete += int(complete)

    def asr_decoded(self, hypothesis: Hypothesis) -> None:
        self.utterances += 1
        self.asr_audio_s += hypothesis.audio_seconds
        self.asr_decode_s += hypothesis.decode_seconds

    def turn_latency(self, seconds: float) -> None:
        self.turn_latencies_s.append(seconds)

    def summary(self) -> dict[str, object]:
        latencies = list(self.turn_latencies_s)
        return {
            "calls_in_progress": self.calls_in_progress,
            "calls_ended": dict(self.calls_ended),
            "calls_complete": self.calls_complete,
            "utterances": self.utterances,
            "asr_rtf": self.asr_decode_s / self.asr_audio_s if self.asr_audio_s else None,
            "turn_latency_p50_s": percentile(latencies, 50),
            "turn_latency_p95_s": percentile(latencies, 95),
            "barge_ins": self.barge_ins,
            "unidentified_connections": self.unidentified_connections,
            "store_writes_journaled": self.store_writes_journaled,
            "requests_not_saved": self.requests_not_saved,
        }
