"""One case per household: how often the match links the wrong households, and how often it
misses the same one, on a synthetic set of request pairs.

    .venv/bin/python bench/bench_household_matching.py             # windows 14, 30, 60 days
    .venv/bin/python bench/bench_household_matching.py --kinds     # per kind of pair, too

``bench/household_pairs/pairs_2026-12.jsonl`` (its README says how it was made) was written
by a helper who had not read the rule, before the rule existed; it is not for tuning. Each
pair is two requests (numbers, district, ward, address, hours apart) and whether they are
one household. A pair counts as linked when ``household.same_household`` matches and the
second came within the window; the figures are

- wrong merges: pairs of two households linked, per pair of two households (a merged case
  hides a request from the agency — the figure to keep low);
- missed: pairs of one household not linked, per pair of one household (a second ticket:
  the agency sees it twice, as today).

The request's place is its ward when that names a unit (find_unit), else its district — what
a ticket's ``admin_unit`` would hold.
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

from callbot.nlu.admin_units import AdminUnit, find_unit  # noqa: E402
from callbot.tickets.household import Household, same_household  # noqa: E402
from callbot.tickets.store.sql_callers import number_forms  # noqa: E402

PAIRS = ROOT / "bench" / "household_pairs" / "pairs_2026-12.jsonl"


def household(request: dict) -> Household:
    numbers: set[str] = set()
    for key in ("caller_number", "callback_number"):
        numbers.update(number_forms(request.get(key) or ""))
    return Household(frozenset(numbers), place(request), request.get("address"))


def place(request: dict) -> AdminUnit | None:
    for key in ("ward", "district"):
        unit = find_unit(request[key]) if request.get(key) else None
        if unit is not None:
            return unit
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--windows", default="14,30,60", help="days, comma-separated")
    parser.add_argument("--kinds", action="store_true", help="a line per kind of pair")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines()]
    matched = [
        (pair, same_household(household(pair["first"]), household(pair["second"])))
        for pair in pairs
    ]
    same = sum(pair["same_household"] for pair in pairs)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.pairs.name}: {len(pairs)} pairs,")
    print(f"{same} of one household, {len(pairs) - same} of two\n")
    print(f"{'window':>8} {'wrong merges':>16} {'missed':>14} {'by number':>10} {'by address':>11}")
    for days in (float(d) for d in args.windows.split(",")):
        wrong = missed = 0
        by: Counter[str] = Counter()
        for pair, match in matched:
            linked = match is not None and pair["second"]["hours_after_first"] <= days * 24
            if linked:
                by[str(match)] += 1
            if linked and not pair["same_household"]:
                wrong += 1
            if not linked and pair["same_household"]:
                missed += 1
        others = len(pairs) - same
        print(
            f"{days:>6g} d {wrong:>5} ({100 * wrong / others:4.1f} %) "
            f"{missed:>5} ({100 * missed / same:4.1f} %) {by['number']:>10} {by['address']:>11}"
        )
    if args.kinds:
        print(f"\n{'kind':<28} {'label':>6} {'pairs':>6} {'linked (any window)':>20}")
        kinds: dict[tuple[str, bool], list[int]] = {}
        for pair, match in matched:
            row = kinds.setdefault((pair["kind"], pair["same_household"]), [0, 0])
            row[0] += 1
            row[1] += match is not None
        for (kind, label), (count, linked) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
            print(f"{kind:<28} {label!s:>6} {count:>6} {linked:>20}")


if __name__ == "__main__":
    main()
