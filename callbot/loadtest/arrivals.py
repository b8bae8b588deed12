"""When simulated calls arrive: a Poisson process at a given rate, or bursts.

Call centres see calls as a Poisson process (independent callers), so the gaps between
arrivals are exponential with mean 1/rate. A seed makes a run repeatable: the same seed
gives the same arrival times, scripts and behaviours.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*$")


def parse_rate(text: str) -> float:
    """ "3600/h", "60/min", "1/s" or "1" (per second) → calls per second."""
    match = _RATE.match(text.lower())
    if not match or (match.group(2) and match.group(2) not in _UNITS):
        raise ValueError(f"bad rate {text!r}: use e.g. 3600/h, 60/min, 1/s")
    per = _UNITS[match.group(2)] if match.group(2) else 1.0
    rate = float(match.group(1)) / per
    if rate <= 0:
        raise ValueError(f"rate must be positive: {text!r}")
    return rate


def parse_duration(text: str) -> float:
    """ "90", "90s", "5m", "1h" → seconds."""
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", text.lower())
    if not match or (match.group(2) and match.group(2) not in _UNITS):
        raise ValueError(f"bad duration {text!r}: use e.g. 90s, 5m, 1h")
    return float(match.group(1)) * (_UNITS[match.group(2)] if match.group(2) else 1.0)


@dataclass(frozen=True)
class ArrivalPlan:
    """Offsets in seconds from the start of the run at which a call is placed."""

    offsets: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.offsets)


def poisson_arrivals(
    rate_per_s: float,
    rng: random.Random,
    *,
    duration_s: float | None = None,
    calls: int | None = None,
) -> ArrivalPlan:
    """Arrivals of a Poisson process, until ``duration_s`` or ``calls`` (whichever first)."""
    if duration_s is None and calls is None:
        raise ValueError("give a duration or a number of calls")
    offsets: list[float] = []
    t = 0.0
    while calls is None or len(offsets) < calls:
        t += rng.expovariate(rate_per_s)
        if duration_s is not None and t > duration_s:
            break
        offsets.append(t)
    return ArrivalPlan(tuple(offsets))


def burst_arrivals(
    size: int,
    *,
    every_s: float | None = None,
    duration_s: float | None = None,
    calls: int | None = None,
    spread_s: float = 0.0,
    rng: random.Random | None = None,
) -> ArrivalPlan:
    """``size`` calls at once (within ``spread_s``), repeated every ``every_s`` seconds
    for ``duration_s`` or until ``calls`` have been placed; one burst without ``every_s``."""
    if size < 1:
        raise ValueError("a burst has at least one call")
    rng = rng or random.Random(0)
    offsets: list[float] = []
    start = 0.0
    while True:
        for _ in range(size):
            if calls is not None and len(offsets) >= calls:
                return ArrivalPlan(tuple(sorted(offsets)))
            offsets.append(start + (rng.uniform(0, spread_s) if spread_s else 0.0))
        if every_s is None:
            break
        start += every_s
        if duration_s is not None and start > duration_s:
            break
        if duration_s is None and calls is None:
            break
    return ArrivalPlan(tuple(sorted(offsets)))
