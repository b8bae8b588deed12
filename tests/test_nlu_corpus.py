"""Per-slot accuracy of the extractors on the labelled corpus (tests/data/nlu_corpus.jsonl).

Thresholds: phone numbers and places ≥ 95 % on clean text and ≥ 85 % with recogniser-like
noise (the project's stated figures); the other slots have thresholds a little under what the
code reaches today, so that a regression fails but a single new hard case does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callbot.nlu.corpus import EXTRACTORS, accuracy, load_corpus

CORPUS = Path(__file__).parent / "data" / "nlu_corpus.jsonl"
# Hand-written after the rules, in other wording; small, so only an overall threshold.
HELD_OUT = Path(__file__).parent / "data" / "nlu_heldout.jsonl"

THRESHOLDS: dict[str, tuple[float, float]] = {  # slot → (clean, asr)
    "phone": (0.95, 0.85),
    "place": (0.95, 0.85),
    "case_type": (0.90, 0.85),
    "subject": (0.90, 0.85),
    "household": (0.90, 0.80),
    "name": (0.90, 0.75),
    "address": (0.85, 0.75),
    "yes_no": (0.95, 0.90),
    "human": (0.95, 0.90),
    "correction": (0.90, 0.85),
}


@pytest.fixture(scope="module")
def scores() -> dict[tuple[str, str], tuple[int, int]]:
    return accuracy(load_corpus(CORPUS))


def test_corpus_is_large_and_covers_every_slot() -> None:
    records = load_corpus(CORPUS)
    assert len(records) >= 400
    assert {r.slot for r in records} == set(EXTRACTORS) == set(THRESHOLDS)
    assert {r.noise for r in records} == {"clean", "asr"}


@pytest.mark.parametrize("slot", sorted(THRESHOLDS))
@pytest.mark.parametrize("noise", ["clean", "asr"])
def test_slot_accuracy(scores: dict, slot: str, noise: str) -> None:
    good, total = scores[(slot, noise)]
    threshold = THRESHOLDS[slot][0 if noise == "clean" else 1]
    assert total > 0
    assert good / total >= threshold, f"{slot}/{noise}: {good}/{total} < {threshold:.0%}"


def test_held_out_overall_accuracy() -> None:
    scores = accuracy(load_corpus(HELD_OUT))
    good = sum(g for g, _ in scores.values())
    total = sum(n for _, n in scores.values())
    assert total >= 50
    assert good / total >= 0.9


def test_a_2025_ward_inside_the_labelled_district_is_right_and_one_outside_is_not() -> None:
    from callbot.nlu.admin_units import district_2021_to_wards_2025
    from callbot.nlu.corpus import is_correct

    inside = district_2021_to_wards_2025()["Quận 1"]
    outside = district_2021_to_wards_2025()["Huyện Cần Giờ"]
    assert "Phường Bến Thành" in inside
    assert is_correct("place", "Phường Bến Thành", "Quận 1")
    assert not is_correct("place", outside[0], "Quận 1")
    assert not is_correct("place", "Phường Bến Thành", None)  # unclear stays unclear
    assert not is_correct("household", "Phường Bến Thành", "Quận 1")
