"""Bar charts as inline SVG, drawn on the server: nothing to load, nothing to build, and
they print. Every label goes through ``escape`` (it may be an admin unit name from a call).
Each chart also carries a <title> per bar, so hovering gives the exact figure, and a
``role="img"`` with an aria-label for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 220
CHART_WIDTH = 640


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    css_class: str  # colours live in dashboard.css


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Vietnamese thousands separator


def horizontal_bars(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """One bar per item, longest first as given; labels on the left, counts on the right."""
    if not items:
        return Markup('<p class="empty">Chưa có số liệu.</p>')
    top = max(value for _, value in items) or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - 70
    height = len(items) * (BAR_HEIGHT + GAP)
    parts = [
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (label, value) in enumerate(items):
        y = row * (BAR_HEIGHT + GAP)
        width = max(1, round(value / top * bar_space)) if value else 0
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{text_y:.0f}"'
            f' text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
            f'<text class="value" x="{LABEL_WIDTH + width + 6}" y="{text_y:.0f}">'
            f"{_number(value)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, items: Sequence[tuple[str, int]], *, label_every: int = 1) -> Markup:
    """Vertical columns in time order (calls per hour), every ``label_every``-th labelled."""
    if not items:
        return Markup('<p class="empty">Chưa có số liệu.</p>')
    top = max(value for _, value in items) or 1
    plot_height = 160
    height = plot_height + 40
    step = (CHART_WIDTH - 50) / len(items)
    parts = [
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="value" x="0" y="12">{_number(top)}</text>',
        f'<line class="axis" x1="40" y1="{plot_height}" x2="{CHART_WIDTH}" y2="{plot_height}"/>',
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


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[Segment]]]) -> Markup:
    """One bar per row made of coloured segments (open tickets by age: within SLA, overdue,
    no SLA), with a legend under the chart."""
    totals = [sum(segment.value for segment in segments) for _, segments in rows]
    if not rows or not any(totals):
        return Markup('<p class="empty">Không có phiếu đang mở.</p>')
    top = max(totals) or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - 70
    height = len(rows) * (BAR_HEIGHT + GAP) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, ((label, segments), total) in enumerate(zip(rows, totals, strict=True)):
        y = row * (BAR_HEIGHT + GAP)
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{text_y:.0f}"'
            f' text-anchor="end">{escape(label)}</text>'
        )
        x = float(LABEL_WIDTH)
        for segment in segments:
            width = segment.value / top * bar_space
            if width > 0:
                parts.append(
                    f'<rect class="{escape(segment.css_class)}" x="{x:.1f}" y="{y}"'
                    f' width="{width:.1f}" height="{BAR_HEIGHT}"><title>{escape(label)},'
                    f" {escape(segment.label)}: {_number(segment.value)}</title></rect>"
                )
            x += width
        parts.append(
            f'<text class="value" x="{x + 6:.1f}" y="{text_y:.0f}">{_number(total)}</text>'
        )
    legend_y = len(rows) * (BAR_HEIGHT + GAP) + 16
    x = float(LABEL_WIDTH)
    for segment in rows[0][1]:
        parts.append(
            f'<rect class="{escape(segment.css_class)}" x="{x:.0f}" y="{legend_y - 10}"'
            f' width="12" height="12"/><text class="tick" x="{x + 16:.0f}" y="{legend_y}">'
            f"{escape(segment.label)}</text>"
        )
        x += 24 + 8 * len(segment.label)
    parts.append("</svg>")
    return Markup("".join(parts))
