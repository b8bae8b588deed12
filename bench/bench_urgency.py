"""Urgency triage: precision and recall per level on a labelled utterance set.

    .venv/bin/python bench/bench_urgency.py              # the tuning set, as written
    .venv/bin/python bench/bench_urgency.py --asr-form   # the same, as a recogniser writes it
    .venv/bin/python bench/bench_urgency.py --sweep      # other operating points
    .venv/bin/python bench/bench_urgency.py --all-forms --heldout  # held-out: run it ONCE

Each line of a set is {"text", "level": emergency|urgent|normal, "why"}. Besides the per
level table it prints the two figures the operating point is chosen on: how many urgent or
emergency callers were left at "normal" (a missed one waits a day), and how many normal
callers were raised (each costs an operator a minute). ``--asr-form`` lower-cases the text,
drops punctuation and, with ``--toneless``, every tone mark, as a recogniser may.
docs/triage.md has the figures and the choice.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callbot.nlu.text import fold, normalise  # noqa: E402
from callbot.nlu.urgency import (  # noqa: E402
    EMERGENCY,
    EMERGENCY_AT,
    LEVELS,
    NORMAL,
    URGENT_AT,
    evidence,
    level_of,
)

TUNING = ROOT / "tests" / "data" / "urgency_tuning.jsonl"
HELDOUT = ROOT / "tests" / "heldout" / "urgency_2026-12.jsonl"


def load(path: Path) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        if row.get("level") not in LEVELS or not isinstance(row.get("text"), str):
            raise SystemExit(f"{path}: bad row {row!r}")
    return rows


def asr_form(text: str, *, toneless: bool) -> str:
    norm = normalise(text)
    return fold(norm) if toneless else norm


def table(gold: list[str], got: list[str]) -> list[str]:
    lines = [f"{'level':<10} {'n':>4} {'precision':>10} {'recall':>8}"]
    for level in reversed(LEVELS):
        n = sum(g == level for g in gold)
        predicted = sum(p == level for p in got)
        right = sum(g == p == level for g, p in zip(gold, got, strict=True))
        precision = f"{right / predicted:.2f}" if predicted else "–"
        recall = f"{right / n:.2f}" if n else "–"
        lines.append(f"{level:<10} {n:>4} {precision:>10} {recall:>8}")
    raised = [g != NORMAL for g in gold]
    got_raised = [p != NORMAL for p in got]
    tp = sum(a and b for a, b in zip(raised, got_raised, strict=True))
    lines.append(
        f"{'raised':<10} {sum(raised):>4} "
        f"{(tp / sum(got_raised) if any(got_raised) else 0):>10.2f} "
        f"{(tp / sum(raised) if any(raised) else 0):>8.2f}   (urgent or emergency vs normal)"
    )
    accuracy = sum(g == p for g, p in zip(gold, got, strict=True)) / len(gold)
    missed = sum(g != NORMAL and p == NORMAL for g, p in zip(gold, got, strict=True))
    false = sum(g == NORMAL and p != NORMAL for g, p in zip(gold, got, strict=True))
    e_missed = sum(g == EMERGENCY and p != EMERGENCY for g, p in zip(gold, got, strict=True))
    lines.append(
        f"accuracy {accuracy:.2f}; raised callers left at normal: {missed}; "
        f"emergencies not called emergency: {e_missed}; normal callers raised: {false}"
    )
    confusion = Counter(zip(gold, got, strict=True))
    lines.append(
        "confusion (gold → got): "
        + ", ".join(f"{g}→{p} {n}" for (g, p), n in sorted(confusion.items()) if g != p)
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", action="store_true", help="the held-out set (once)")
    parser.add_argument("--asr-form", action="store_true", help="lower case, no punctuation")
    parser.add_argument("--toneless", action="store_true", help="with --asr-form: no tones")
    parser.add_argument("--sweep", action="store_true", help="other thresholds as well")
    parser.add_argument("--errors", action="store_true", help="print each wrong utterance")
    parser.add_argument(
        "--all-forms", action="store_true", help="also the recogniser forms, in the same run"
    )
    args = parser.parse_args(argv)
    path = HELDOUT if args.heldout else TUNING
    rows = load(path)
    texts = [
        asr_form(r["text"], toneless=args.toneless) if args.asr_form else r["text"] for r in rows
    ]
    gold = [r["level"] for r in rows]
    found = [evidence(t) for t in texts]
    form = "as written"
    if args.asr_form:
        form = "recogniser form (lower case, no punctuation" + (
            ", no tones)" if args.toneless else ")"
        )
    print(f"{path.relative_to(ROOT)}: {len(rows)} utterances, {form}")
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    print(f"{today}; thresholds urgent ≥ {URGENT_AT:g}, emergency ≥ {EMERGENCY_AT:g}")
    got = [level_of(ev)[0] for ev in found]
    print("\n".join(table(gold, got)))
    if args.all_forms:  # one run gives every figure (the held-out set is run once)
        for toneless in (False, True):
            forms = [asr_form(r["text"], toneless=toneless) for r in rows]
            print(f"\nrecogniser form: lower case, no punctuation{', no tones' * toneless}")
            print("\n".join(table(gold, [level_of(evidence(t))[0] for t in forms])))
    if args.sweep:
        print("\nsweep: urgent_at emergency_at → raised P/R, emergency P/R, missed, false")
        for urgent_at in (1.0, 1.5, 2.0, 2.5, 3.0):
            for emergency_at in (1.5, 2.0, 2.5, 3.0):
                levels = [
                    level_of(ev, urgent_at=urgent_at, emergency_at=emergency_at)[0] for ev in found
                ]
                pairs = list(zip(gold, levels, strict=True))
                raised_tp = sum(g != NORMAL and p != NORMAL for g, p in pairs)
                raised_p = raised_tp / max(1, sum(p != NORMAL for _, p in pairs))
                raised_r = raised_tp / max(1, sum(g != NORMAL for g, _ in pairs))
                e_tp = sum(g == p == EMERGENCY for g, p in pairs)
                e_p = e_tp / max(1, sum(p == EMERGENCY for _, p in pairs))
                e_r = e_tp / max(1, sum(g == EMERGENCY for g, _ in pairs))
                missed = sum(g != NORMAL and p == NORMAL for g, p in pairs)
                false = sum(g == NORMAL and p != NORMAL for g, p in pairs)
                print(
                    f"  {urgent_at:>4g} {emergency_at:>4g} → {raised_p:.2f}/{raised_r:.2f}"
                    f"  {e_p:.2f}/{e_r:.2f}  {missed:>3} {false:>3}"
                )
    if args.errors and not args.heldout:  # the held-out set is never read for its errors
        for text, g, p, ev in zip(texts, gold, got, found, strict=True):
            if g != p:
                print(f"{g:>9} → {p:<9} e={ev.emergency:.1f} u={ev.urgent:.1f} {text}  {ev.cues}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
