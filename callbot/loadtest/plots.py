"""The load report's plots: inline SVG drawn here, axis ticks from matplotlib's locator.

The report must open from a mail attachment, so the SVG is written into the page (no
scripts, fonts or images from elsewhere) and kept small: bars, dots and lines drawn here.
Where the ticks go is matplotlib's ``MaxNLocator`` (docs/dependencies.md): at most a few
"nice" values (1, 2, 2.5 or 5 times a power of ten) whose first and last enclose the data,
and the axis is drawn over exactly that span. The hand-made ticks before it cut the data's
maximum in quarters (262.5, 525, 787.5 ms…) and let the data run to the edge.

matplotlib comes with the ``loadtest`` extra. Without it the report is written all the
same, with a line saying how to get the plots in their place (``PLOTS_MISSING``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

W, H, PAD = 640, 220, 40
LEFT, RIGHT, TOP, BOTTOM = PAD + 8, W - 20, 10, H - PAD  # room for the last x label
LATENCY_BUDGET_S = 0.8
X_BINS = 8  # a 600 px axis holds eight labels; the 220 px one five (nice_ticks' default)
PLOTS_MISSING = (
    "Plots need matplotlib (its axis ticks): pip install 'callbot-1022[loadtest]'. "
    "The figures below are complete without them."
)


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed: the report leaves its plots out and says why."""


def available() -> bool:
    try:
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        return False
    return True


def nice_ticks(low: float, high: float, *, integer: bool = False, bins: int = 5) -> list[float]:
    """Tick values from matplotlib's MaxNLocator: nice numbers, the first ≤ low and the
    last ≥ high. A range of zero width is widened (one unit, or 5 % of a large value) so
    a single point or an idle run still gets an axis."""
    try:
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:
        raise PlotsUnavailable(PLOTS_MISSING) from exc
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"axis bounds must be finite: {low}, {high}")
    low, high = min(low, high), max(low, high)
    if high - low <= abs(high) * 1e-12:
        spread = max(1.0, abs(low) * 0.05)
        # From zero (an idle run: no calls, no seconds) the axis stays at zero; a single
        # point elsewhere sits mid-axis rather than on its edge.
        low, high = (0.0, spread) if low == 0 else (low - spread / 2, high + spread / 2)
    locator = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10], integer=integer)
    ticks = [float(t) for t in locator.tick_values(low, high)]
    # The locator may add one tick beyond each end; keep only one at or past each bound.
    while len(ticks) > 2 and ticks[1] <= low:
        ticks.pop(0)
    while len(ticks) > 2 and ticks[-2] >= high:
        ticks.pop()
    return ticks


def tick_label(value: float) -> str:
    """``0.30000000000000004`` → ``0.3``; ``1000000000.0`` → ``1000000000``."""
    return f"{value:.12g}"


@dataclass(frozen=True)
class Axis:
    ticks: list[float]

    @property
    def low(self) -> float:
        return self.ticks[0]

    @property
    def high(self) -> float:
        return self.ticks[-1]

    def fraction(self, value: float) -> float:
        """Where ``value`` falls, 0 at the first tick and 1 at the last (clamped)."""
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))


@dataclass(frozen=True)
class Frame:
    x: Axis
    y: Axis

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (
            LEFT + (RIGHT - LEFT) * self.x.fraction(x),
            BOTTOM - (BOTTOM - TOP) * self.y.fraction(y),
        )

    def axes(self, x_label: str, y_label: str) -> str:
        parts = [
            f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#333"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="#333"/>',
            f'<text x="{W / 2}" y="{H - 5}" text-anchor="middle">{html.escape(x_label)}</text>',
            f'<text x="12" y="{H / 2}" transform="rotate(-90 12 {H / 2})" '
            f'text-anchor="middle">{html.escape(y_label)}</text>',
        ]
        for value in self.x.ticks:
            x, _ = self.xy(value, self.y.low)
            parts.append(
                f'<line x1="{x:.1f}" y1="{BOTTOM}" x2="{x:.1f}" y2="{BOTTOM + 4}" stroke="#333"/>'
                f'<text class="x-tick" x="{x:.1f}" y="{BOTTOM + 14}" text-anchor="middle">'
                f"{tick_label(value)}</text>"
            )
        for value in self.y.ticks:
            _, y = self.xy(self.x.low, value)
            parts.append(
                f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#333"/>'
                f'<text class="y-tick" x="{LEFT - 6}" y="{y + 3:.1f}" text-anchor="end">'
                f"{tick_label(value)}</text>"
            )
        return "".join(parts)


def frame(x_max: float, y_max: float, *, x_integer: bool = False, y_integer: bool = False) -> Frame:
    """Axes from 0 to at least the data's maximum on both sides."""
    return Frame(
        Axis(nice_ticks(0.0, x_max, integer=x_integer, bins=X_BINS)),
        Axis(nice_ticks(0.0, y_max, integer=y_integer)),
    )


def _svg(body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="10">{body}</svg>'
    )


def latency_histogram_svg(latencies_ms: list[float], bin_ms: float = 50.0) -> str:
    if not latencies_ms:
        return _svg('<text x="20" y="20">no turns</text>')
    top = max(1000.0, min(max(latencies_ms), 3000.0))
    bins = [0] * int(top / bin_ms + 1)
    for value in latencies_ms:
        bins[min(len(bins) - 1, int(value / bin_ms))] += 1
    plot = frame(len(bins) * bin_ms, max(bins), y_integer=True)
    bars = []
    for i, count in enumerate(bins):
        x, y = plot.xy(i * bin_ms, count)
        x_end, _ = plot.xy((i + 1) * bin_ms, count)
        colour = "#c33" if i * bin_ms >= LATENCY_BUDGET_S * 1000 else "#37a"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, x_end - x - 1):.1f}" '
            f'height="{BOTTOM - y:.1f}" fill="{colour}"><title>{i * bin_ms:.0f}–'
            f"{(i + 1) * bin_ms:.0f} ms: {count}</title></rect>"
        )
    budget_x, _ = plot.xy(LATENCY_BUDGET_S * 1000, 0)
    bars.append(
        f'<line x1="{budget_x:.1f}" y1="{TOP}" x2="{budget_x:.1f}" y2="{BOTTOM}" stroke="#c33" '
        'stroke-dasharray="4 3"/>'
    )
    return _svg(plot.axes("turn latency, ms (last bin: and above)", "turns") + "".join(bars))


def _polyline(points: list[list[float]], plot: Frame, colour: str) -> str:
    if not points:
        return ""
    coords = " ".join("{:.1f},{:.1f}".format(*plot.xy(p[0], p[1])) for p in points)
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>'


def concurrency_svg(series: dict[str, list[list[Any]]]) -> str:
    active, server = series.get("active_calls", []), series.get("server_calls", [])
    plot = frame(
        max([p[0] for p in active + server] + [1.0]),
        max([p[1] for p in active + server] + [1.0]),
        y_integer=True,
    )
    return _svg(
        plot.axes("seconds since start", "calls connected")
        + _polyline(active, plot, "#37a")
        + _polyline(server, plot, "#e80")
        + f'<text x="{W - 240}" y="20" fill="#37a">callers (client)</text>'
        + f'<text x="{W - 240}" y="32" fill="#e80">calls in progress (/metrics)</text>'
    )


def latency_over_time_svg(series: dict[str, list[list[Any]]]) -> str:
    turns = series.get("turns", [])
    plot = frame(
        max([p[0] for p in turns] + [1.0]),
        max(1000.0, min(3000.0, max([p[1] for p in turns] + [0.0]))),
    )
    dots = [
        '<circle cx="{:.1f}" cy="{:.1f}" r="1.6" fill="{}"/>'.format(
            *plot.xy(t, lat), "#37a" if keys else "#e80"
        )
        for t, lat, keys in turns
    ]
    _, budget_y = plot.xy(0, LATENCY_BUDGET_S * 1000)
    return _svg(
        plot.axes("seconds since start", "turn latency, ms")
        + f'<line x1="{LEFT}" y1="{budget_y:.1f}" x2="{RIGHT}" y2="{budget_y:.1f}" '
        'stroke="#c33" stroke-dasharray="4 3"/>'
        + "".join(dots)
        + f'<text x="{W - 240}" y="20" fill="#37a">keypad answers</text>'
        + f'<text x="{W - 240}" y="32" fill="#e80">spoken answers (incl. 700 ms endpointing)</text>'
    )
