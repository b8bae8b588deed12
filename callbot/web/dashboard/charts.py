"""Bar charts as inline SVG, drawn on the server: nothing to load, nothing to build, and
they print. Every label goes through ``escape`` (it may be an admin unit name from a call).
Each chart also carries a <title> per bar, so hovering gives the exact figure, and a
``role="img"`` with an aria-label for screen readers.

Each chart is drawn twice, wide and narrow, and the stylesheet shows one (``chart_pair``).
An SVG scales its text with it: the 640-unit chart shown 340 px wide on a phone (375 px)
had 6 px labels (issue 16). The narrow one is drawn ``NARROW_WIDTH`` units wide, about
what a phone gives it, with labels above the bars, so its text stays at 12 px.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 220
CHART_WIDTH = 640
NARROW_WIDTH = 340
NARROW_LABEL = 16  # a label's line above its bar, narrow layout


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    css_class: str  # colours live in dashboard.css


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Vietnamese thousands separator


def _frame(title: str, width: int, height: int, narrow: bool) -> str:
    return (
        f'<svg class="chart{" narrow" if narrow else ""}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    )


def _row(row: int, narrow: bool) -> tuple[float, float, float, str]:
    """Where row ``row``'s bar starts (x, y), where its label's baseline is, and how the
    label is anchored: left of the bar (wide) or on a line above it (narrow)."""
    if narrow:
        y = row * (BAR_HEIGHT + GAP + NARROW_LABEL) + NARROW_LABEL
        return 0.0, y, y - 4, 'x="0" text-anchor="start"'
    y = row * (BAR_HEIGHT + GAP)
    return float(LABEL_WIDTH), y, y + BAR_HEIGHT * 0.7, f'x="{LABEL_WIDTH - 8}" text-anchor="end"'


def _rows_height(rows: int, narrow: bool) -> int:
    return rows * (BAR_HEIGHT + GAP + (NARROW_LABEL if narrow else 0))


def horizontal_bars(
    title: str, items: Sequence[tuple[str, int]], *, narrow: bool = False
) -> Markup:
    """One bar per item, longest first as given; labels on the left (above, narrow),
    counts on the right."""
    if not items:
        return Markup('<p class="empty">Chưa có số liệu.</p>')
    top = max(value for _, value in items) or 1
    width = NARROW_WIDTH if narrow else CHART_WIDTH
    x0 = 0 if narrow else LABEL_WIDTH
    bar_space = width - x0 - 70
    parts = [_frame(title, width, _rows_height(len(items), narrow), narrow)]
    for row, (label, value) in enumerate(items):
        x, y, label_y, anchor = _row(row, narrow)
        bar = max(1, round(value / top * bar_space)) if value else 0
        value_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text class="label" {anchor} y="{label_y:.0f}">{escape(label)}</text>'
            f'<rect class="bar" x="{x:.0f}" y="{y:.0f}" width="{bar}" height="{BAR_HEIGHT}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
            f'<text class="value" x="{x + bar + 6:.0f}" y="{value_y:.0f}">'
            f"{_number(value)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    title: str, items: Sequence[tuple[str, int]], *, label_every: int = 1, narrow: bool = False
) -> Markup:
    """Vertical columns in time order (calls per hour), every ``label_every``-th labelled
    (narrow: twice as sparse, so two-digit labels never touch)."""
    if not items:
        return Markup('<p class="empty">Chưa có số liệu.</p>')
    top = max(value for _, value in items) or 1
    width = NARROW_WIDTH if narrow else CHART_WIDTH
    label_every = label_every * 2 if narrow else label_every
    plot_height = 160
    height = plot_height + 40
    step = (width - 50) / len(items)
    parts = [
        _frame(title, width, height, narrow),
        f'<text class="value" x="0" y="12">{_number(top)}</text>',
        f'<line class="axis" x1="40" y1="{plot_height}" x2="{width}" y2="{plot_height}"/>',
    ]
    for index, (label, value) in enumerate(items):
        bar = value / top * (plot_height - 10)
        x = 45 + index * step
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{plot_height - bar:.1f}"'
            f' width="{max(1.0, step - 2):.1f}" height="{bar:.1f}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x + step / 2:.1f}" y="{plot_height + 16}"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Sequence[Segment]]], *, narrow: bool = False
) -> Markup:
    """One bar per row made of coloured segments (open tickets by age: within SLA, overdue,
    no SLA), with a legend under the chart."""
    totals = [sum(segment.value for segment in segments) for _, segments in rows]
    if not rows or not any(totals):
        return Markup('<p class="empty">Không có phiếu đang mở.</p>')
    top = max(totals) or 1
    width = NARROW_WIDTH if narrow else CHART_WIDTH
    x0 = 0 if narrow else LABEL_WIDTH
    bar_space = width - x0 - 70
    bars_height = _rows_height(len(rows), narrow)
    parts = [_frame(title, width, bars_height + 30, narrow)]
    for row, ((label, segments), total) in enumerate(zip(rows, totals, strict=True)):
        x, y, label_y, anchor = _row(row, narrow)
        parts.append(f'<text class="label" {anchor} y="{label_y:.0f}">{escape(label)}</text>')
        for segment in segments:
            segment_width = segment.value / top * bar_space
            if segment_width > 0:
                parts.append(
                    f'<rect class="{escape(segment.css_class)}" x="{x:.1f}" y="{y:.0f}"'
                    f' width="{segment_width:.1f}" height="{BAR_HEIGHT}"><title>{escape(label)},'
                    f" {escape(segment.label)}: {_number(segment.value)}</title></rect>"
                )
            x += segment_width
        parts.append(
            f'<text class="value" x="{x + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.0f}">'
            f"{_number(total)}</text>"
        )
    legend_y = bars_height + 16
    x = float(x0)
    for segment in rows[0][1]:
        parts.append(
            f'<rect class="{escape(segment.css_class)}" x="{x:.0f}" y="{legend_y - 10}"'
            f' width="12" height="12"/><text class="tick" x="{x + 16:.0f}" y="{legend_y}">'
            f"{escape(segment.label)}</text>"
        )
        x += 24 + 8 * len(segment.label)
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_pair(draw: Callable[..., Markup], *args: Any, **kwargs: Any) -> Markup:
    """The chart drawn wide and narrow; dashboard.css shows the one that fits the screen."""
    wide, narrow = draw(*args, **kwargs), draw(*args, narrow=True, **kwargs)
    if wide == narrow:  # "no figures yet": one message is enough
        return wide
    return Markup('<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>').format(
        wide, narrow
    )
