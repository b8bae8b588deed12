"""Per-slot accuracy (clean / ASR-like noise) and extraction time of the NLU extractors.

Run: .venv/bin/python bench/bench_nlu.py [corpus.jsonl ...]

By default it scores the generated development corpus (tests/data/nlu_corpus.jsonl) and the
hand-written held-out set (tests/data/nlu_heldout.jsonl, written after the rules; its first
run scored 60/62, the two misses were fixed afterwards).

Times are per utterance, measured after one warm-up pass (which builds the place index),
repeated REPEATS times over the corpus so the percentiles rest on enough samples.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callbot.nlu.corpus import EXTRACTORS, accuracy, load_corpus

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
DEFAULT_CORPORA = [DATA / "nlu_corpus.jsonl", DATA / "nlu_heldout.jsonl"]
REPEATS = 5


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(path: Path) -> None:
    corpus = load_corpus(path)
    start = time.perf_counter()
    scores = accuracy(corpus)  # also the warm-up pass
    warm_s = time.perf_counter() - start

    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(REPEATS):
        for record in corpus:
            extract = EXTRACTORS[record.slot]
            t0 = time.perf_counter_ns()
            extract(record.text)
            timings[record.slot].append((time.perf_counter_ns() - t0) / 1000.0)

    print(
        f"\n{path.name}: {len(corpus)} utterances; "
        f"first pass (incl. loading unit data) {warm_s * 1000:.0f} ms"
    )
    header = f"{'slot':<11} {'clean':>13} {'asr':>13}   {'median µs':>9} {'p95 µs':>8}"
    print(header)
    print("-" * len(header))
    total_good = total = 0
    for slot in EXTRACTORS:
        cells = []
        for noise in ("clean", "asr"):
            good, n = scores.get((slot, noise), (0, 0))
            total_good, total = total_good + good, total + n
            cells.append(f"{good / n:6.1%} ({good:>3}/{n:<3})" if n else f"{'-':>13}")
        times = timings[slot]
        print(
            f"{slot:<11} {cells[0]:>13} {cells[1]:>13}   "
            f"{statistics.median(times):9.1f} {_percentile(times, 0.95):8.1f}"
        )
    print("-" * len(header))
    print(f"overall {total_good / total:.1%} ({total_good}/{total})")


def main() -> None:
    for path in [Path(a) for a in sys.argv[1:]] or DEFAULT_CORPORA:
        report(path)


if __name__ == "__main__":
    main()
