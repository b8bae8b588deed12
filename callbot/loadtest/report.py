"""Figures from a load run: a JSON document, a self-contained HTML page with inline SVG
plots (no scripts, fonts or images from elsewhere: it opens from a mail attachment; drawn in
callbot/loadtest/plots.py), and a terminal summary.
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from callbot.call.metrics import percentile
from callbot.loadtest import plots
from callbot.loadtest.runner import RunData, heard_surge
from callbot.loadtest.server import bucket_delta, histogram_quantile

LATENCY_BUDGET_S = plots.LATENCY_BUDGET_S
log = logging.getLogger(__name__)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _quantiles_ms(values: list[float]) -> dict[str, float | None]:
    return {f"p{q}": _ms(percentile(values, q)) for q in (50, 95, 99)} | {"n": len(values)}


@dataclass
class Figures:
    label: str
    wall_s: float
    calls: dict[str, int]
    behaviours: dict[str, int]
    tickets: dict[str, int]
    turn_latency_client_ms: dict[str, Any]
    turn_latency_server_ms: dict[str, Any]
    late_audio: dict[str, Any]
    asr: dict[str, Any]
    cost: dict[str, Any]
    concurrency: dict[str, Any]
    mean_call_s: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    series: dict[str, list[list[float]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Surge mode (issue 17): when it switched, from the server's /metrics, and how many
    # calls got the short script.
    surge: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


def compute(data: RunData, *, label: str, settings: dict[str, Any] | None = None) -> Figures:
    calls = data.calls
    failed = [c for c in calls if c.failed]
    answered = [c for c in calls if c.answered and not c.failed]
    completed = [c for c in answered if c.completed]
    behaviours: dict[str, int] = {}
    for c in calls:
        behaviours[c.behaviour.value] = behaviours.get(c.behaviour.value, 0) + 1
    checked = [c for c in calls if c.ticket_checked]
    turns = [t for c in calls for t in c.turns]
    by_kind: dict[str, list[float]] = {}
    for _, kind, latency in turns:
        by_kind.setdefault(kind, []).append(latency)
    client_latency = _quantiles_ms([t[2] for t in turns]) | {
        kind: _quantiles_ms(values) for kind, values in sorted(by_kind.items())
    }
    before, after = data.scrape_before, data.scrape_after
    server_latency: dict[str, Any] = {}
    late: dict[str, Any] = {
        "client_gaps_over_40ms": sum(c.gaps for c in calls),
        "client_calls_with_gaps": sum(1 for c in calls if c.gaps),
        "client_max_gap_ms": _ms(max((c.max_gap_s for c in calls), default=0.0)),
        "client_frames_received": sum(c.frames for c in calls),
        "client_clock_late_ticks": data.client_clock_late_ticks,
    }
    asr: dict[str, Any] = {}
    peak_rss = None
    if after is not None:
        delta = bucket_delta(after, before)
        server_latency = {
            f"p{q}": _ms(histogram_quantile(q / 100, delta)) for q in (50, 95, 99)
        } | {"n": int(max(delta.values(), default=0))}

        def diff(name: str) -> float:
            return after.get(name) - (before.get(name) if before else 0.0)

        late |= {
            "server_late_frames": int(diff("callbot_late_frames_total")),
            "server_late_ticks": int(diff("callbot_frame_clock_late_ticks_total")),
            "server_clock_resets": int(diff("callbot_frame_clock_resets_total")),
            "server_max_lateness_ms": _ms(after.get("callbot_frame_clock_max_lateness_seconds")),
        }
        audio_s = diff("callbot_asr_audio_seconds_total")
        decode_s = diff("callbot_asr_decode_seconds_total")
        asr = {
            "utterances": int(diff("callbot_asr_utterances_total")),
            "audio_s": round(audio_s, 1),
            "decode_s": round(decode_s, 1),
            "rtf": round(decode_s / audio_s, 3) if audio_s else None,
            "max_decodes_in_flight": max(
                (s.asr_in_flight or 0 for s in data.samples), default=None
            ),
        }
        peak_rss = after.values.get("callbot_process_peak_rss_bytes_sum")
    wall = max(1e-9, data.ended_at - data.started_at)
    cpu = (
        data.cpu_after - data.cpu_before
        if data.cpu_after is not None and data.cpu_before is not None
        else None
    )
    rss_samples = [s.rss_bytes for s in data.samples if s.rss_bytes]
    peak = max([*rss_samples, int(peak_rss or 0)], default=0) or None
    cost = {
        "server_cpu_s": round(cpu, 1) if cpu is not None else None,
        "server_cores_used": round(cpu / wall, 3) if cpu is not None else None,
        "cpu_s_per_completed_call": (
            round(cpu / len(completed), 2) if cpu is not None and completed else None
        ),
        "peak_rss_mib": round(peak / 2**20, 1) if peak else None,
        "machine_cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    active = [s.active_calls for s in data.samples]
    concurrency = {
        "max": max(active, default=0),
        "mean": round(sum(active) / len(active), 1) if active else 0,
    }
    durations = [c.caller.duration_s for c in completed]
    problems = [
        f"{c.caller.script} ({c.behaviour.value}): "
        + (c.caller.error or "; ".join(c.caller.mismatches))
        for c in calls
        if c.failed or (c.ticket_checked and not c.ticket_ok)
    ][:50]
    t0 = data.started_at
    series = {
        "active_calls": [[round(s.at, 1), s.active_calls] for s in data.samples],
        "server_calls": [
            [round(s.at, 1), s.server_calls] for s in data.samples if s.server_calls is not None
        ],
        "turns": [
            [round(at - t0, 2), round(lat * 1000, 1), kind == "keys"] for at, kind, lat in turns
        ],
        "cpu_s": [[round(s.at, 1), round(s.cpu_s, 2)] for s in data.samples if s.cpu_s is not None],
    }
    return Figures(
        surge=surge_figures(data),
        label=label,
        wall_s=round(wall, 1),
        calls={
            "offered": data.offered,
            "answered": len(answered),
            "completed": len(completed),
            "incomplete": len(answered) - len(completed),
            "failed": len(failed),
        },
        behaviours=behaviours,
        tickets={"checked": len(checked), "match_script": sum(c.ticket_ok for c in checked)},
        turn_latency_client_ms=client_latency,
        turn_latency_server_ms=server_latency,
        late_audio=late,
        asr=asr,
        cost=cost,
        concurrency=concurrency,
        mean_call_s=round(sum(durations) / len(durations), 1) if durations else None,
        settings=settings or {},
        series=series,  # type: ignore[arg-type]
        problems=problems,
    )


def surge_figures(data: RunData) -> dict[str, Any]:
    """When surge mode went on and off (seconds into the run, at the sampling's
    resolution), its change count on the server, and the calls that got the short script;
    {} when the server does not run surge mode."""
    states = [(s.at, s.surge_on) for s in data.samples if s.surge_on is not None]
    after, before = data.scrape_after, data.scrape_before
    if not states and (after is None or "callbot_surge_on" not in after.values):
        return {}
    switched: list[list[Any]] = []
    first = before.values.get("callbot_surge_on") if before is not None else None
    last = bool(first) if first is not None else None
    for at, on in states:
        if last is None or bool(on) != last:
            switched.append([round(at, 1), "on" if on else "off"])
        last = bool(on)
    changes = None
    if after is not None:
        changes = int(
            after.get("callbot_surge_changes_total")
            - (before.get("callbot_surge_changes_total") if before else 0.0)
        )
    return {
        "on_at_start": bool(first) if first is not None else None,
        "switched": switched,
        "server_changes": changes,
        "short_script_calls": sum(1 for c in data.calls if heard_surge(c)),
    }


# ── terminal ─────────────────────────────────────────────────────────────────────────────


def summary(f: Figures) -> str:
    c, cl, sv, la, co = (
        f.calls,
        f.turn_latency_client_ms,
        f.turn_latency_server_ms,
        f.late_audio,
        f.cost,
    )

    def q(d: dict[str, Any]) -> str:
        return " / ".join("-" if d.get(k) is None else f"{d[k]:.0f}" for k in ("p50", "p95", "p99"))

    lines = [
        f"== {f.label}: {f.wall_s:.0f} s",
        f"calls      offered {c['offered']}  answered {c['answered']}  completed "
        f"{c['completed']}  incomplete {c['incomplete']}  failed {c['failed']}",
        f"tickets    {f.tickets['match_script']}/{f.tickets['checked']} match their script"
        f"   behaviours {f.behaviours}",
        f"latency    client p50/p95/p99 {q(cl)} ms (n={cl.get('n', 0)})"
        + "".join(f"; {k} {q(v)}" for k, v in cl.items() if isinstance(v, dict)),
        f"           server p50/p95/p99 {q(sv)} ms (n={sv.get('n', 0)})" if sv else "",
        f"late audio server late frames {la.get('server_late_frames', '-')} (ticks "
        f"{la.get('server_late_ticks', '-')}, worst {la.get('server_max_lateness_ms', '-')} ms);"
        f" client gaps >40 ms {la['client_gaps_over_40ms']} in"
        f" {la['client_calls_with_gaps']} calls",
        f"asr        {f.asr.get('utterances', '-')} utterances, RTF {f.asr.get('rtf', '-')},"
        f" max decodes in flight {f.asr.get('max_decodes_in_flight', '-')}",
        f"cost       server CPU {co['server_cpu_s']} s = {co['server_cores_used']} cores;"
        f" {co['cpu_s_per_completed_call']} CPU-s per completed call;"
        f" peak RSS {co['peak_rss_mib']} MiB",
        f"concurrency max {f.concurrency['max']}, mean {f.concurrency['mean']};"
        f" mean completed call {f.mean_call_s} s; load average {co['load_average_at_end']}",
    ]
    if f.surge:
        switched = ", ".join(f"{state} at {at:.0f} s" for at, state in f.surge["switched"])
        lines.append(
            f"surge      {switched or 'no switch'}; {f.surge['server_changes']} changes on the"
            f" server; {f.surge['short_script_calls']} calls got the short script"
        )
    if f.problems:
        lines.append(f"problems   {len(f.problems)} (first: {f.problems[0]})")
    return "\n".join(line for line in lines if line)


# ── HTML ─────────────────────────────────────────────────────────────────────────────────


def _plots(f: Figures) -> str:
    if not plots.available():
        return f'<p class="no-plots">{html.escape(plots.PLOTS_MISSING)}</p>'
    latencies = [t[1] for t in f.series.get("turns", [])]
    return (
        "<h3>Turn latency (client side: end of caller input → first bot audio)</h3>"
        f"{plots.latency_histogram_svg(latencies)}"
        f"<h3>Concurrent calls over time</h3>{plots.concurrency_svg(f.series)}"
        f"<h3>Turn latency over time</h3>{plots.latency_over_time_svg(f.series)}"
    )


def _table(d: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th>"
        f"<td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
        for k, v in d.items()
    )
    return f"<table>{rows}</table>"


def render_html(figures: list[Figures], title: str = "callbot load test") -> str:
    sections = []
    for f in figures:
        sections.append(
            f"<section><h2>{html.escape(f.label)}</h2><pre>{html.escape(summary(f))}</pre>"
            + _plots(f)
            + "<h3>Figures</h3>"
            + _table(
                {
                    "calls": f.calls,
                    "tickets": f.tickets,
                    "client latency ms": f.turn_latency_client_ms,
                    "server latency ms": f.turn_latency_server_ms,
                    "late audio": f.late_audio,
                    "asr": f.asr,
                    "cost": f.cost,
                    "settings": f.settings,
                    "surge": f.surge,
                }
            )
            + (
                "<h3>Problems</h3><ul>"
                + "".join(f"<li>{html.escape(p)}</li>" for p in f.problems)
                + "</ul>"
                if f.problems
                else ""
            )
            + "</section>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left;font-size:12px}pre{background:#f6f6f6;padding:8px;font-size:12px;"
        "white-space:pre-wrap}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>" + "".join(sections) + "</body></html>"
    )


def write_reports(
    figures: list[Figures], out_dir: Path, name: str = "loadtest"
) -> tuple[Path, Path]:
    if not plots.available():
        log.warning("load report written without its plots: %s", plots.PLOTS_MISSING)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}.json"
    html_path = out_dir / f"{name}.html"
    json_path.write_text(
        json.dumps([asdict(f) for f in figures], indent=2, ensure_ascii=False), encoding="utf-8"
    )
    html_path.write_text(render_html(figures), encoding="utf-8")
    return json_path, html_path
