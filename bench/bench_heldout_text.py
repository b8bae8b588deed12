"""Typed answers through the extractors, on the held-out set written outside the rules.

``tests/heldout/answers_2026-12.jsonl`` was written by a helper who had not read the NLU
rules, before the speech issue's rule changes, and is never used for tuning: it judges them.
The spoken sets of ``bench/speech_answers/`` can be read as typed text the same way.
Each record is {"text", "slot", "expected", "style"}; ``expected`` is None where the right
answer is "nothing understood" (an unclear yes/no, an invalid number), a bool for "human".
Below ``ACCEPT_CONFIDENCE`` a prediction counts as nothing understood, as in the dialog.
Printed per slot: accuracy and the wrong-value rate; ``--misses`` lists what failed (to read
*after* a change is made, never to write rules from).

    .venv/bin/python bench/bench_heldout_text.py [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callbot.nlu.corpus import EXTRACTORS, is_correct, predict  # noqa: E402

HELD_OUT = ROOT / "tests" / "heldout" / "answers_2026-12.jsonl"
OWN = ROOT / "tests" / "data" / "nlu_corpus.jsonl"


# The 2026-12b set labels illness answers "medical"; the script has no such category: its
# menu's option 3 ("người già, trẻ em, người khuyết tật hoặc bệnh nặng") files serious
# illness as vulnerable, so that is the right value for them.
SAME_VALUE = {("case_type", "medical"): "vulnerable"}


def expected_of(record: dict) -> str | None:
    value = record["expected"]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return SAME_VALUE.get((record["slot"], str(value)), str(value))


def score(path: Path, misses: bool) -> dict[str, tuple[int, int, int]]:
    """slot → (right, wrong value, total)."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in path.open(encoding="utf-8"):
        if not line.strip():
            continue
        record = json.loads(line)
        slot = record["slot"]
        if slot not in EXTRACTORS:
            continue
        want, got = expected_of(record), predict(slot, record["text"])
        right = is_correct(slot, got, want)
        row = table[slot]
        row[0] += right
        row[1] += (not right) and got is not None
        row[2] += 1
        if misses and not right:
            print(f"  miss {slot}: {record['text']!r} → {got!r} (want {want!r})")
    return {slot: (r[0], r[1], r[2]) for slot, r in table.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=[HELD_OUT, OWN])
    # (paths inside the project are shown relative to it)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    for path in (p.resolve() for p in args.files):
        if not path.is_file():
            parser.error(f"{path}: no such file")
        table = score(path, args.misses)
        right = sum(r for r, _, _ in table.values())
        wrong = sum(w for _, w, _ in table.values())
        total = sum(n for _, _, n in table.values())
        share = f"{100 * right / total:.1f} % right, {100 * wrong / total:.1f} % wrong value"
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"\n{shown}: {total} answers, {share}")
        for slot, (r, w, n) in sorted(table.items()):
            print(f"  {slot:11} {n:>4}  {100 * r / n:5.1f} % right  {100 * w / n:5.1f} % wrong")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
