"""Scoring the extractors on a labelled utterance corpus (tests and bench share this).

A record is {"text", "slot", "expected", "noise"}; ``expected`` is None when the right answer
is "nothing understood" (an invalid phone number, no place named). A prediction below
``MIN_CONFIDENCE`` counts as nothing understood, the way the dialog treats it (it asks again).
Names and street addresses are compared with tone marks folded and case ignored: without a
lexicon of streets and given names a dropped tone mark cannot be restored, and a supervisor
reading the ticket restores it at a glance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from callbot.nlu.address import extract_address
from callbot.nlu.admin_units import district_2021_to_wards_2025
from callbot.nlu.case_type import extract_case_type
from callbot.nlu.correction import extract_correction
from callbot.nlu.extraction import ACCEPT_CONFIDENCE, Extraction
from callbot.nlu.household import extract_household
from callbot.nlu.human_request import wants_human
from callbot.nlu.name import extract_name
from callbot.nlu.phone import extract_phone
from callbot.nlu.place import extract_place
from callbot.nlu.subject import extract_subject
from callbot.nlu.text import fold
from callbot.nlu.yes_no import extract_yes_no

MIN_CONFIDENCE = ACCEPT_CONFIDENCE
FOLDED_SLOTS = frozenset({"name", "address"})


@dataclass(frozen=True)
class Record:
    text: str
    slot: str
    expected: str | None
    noise: str  # "clean" or "asr"


def _human(text: str) -> Extraction | None:
    return Extraction("true" if wants_human(text) else "false", 1.0, text)


EXTRACTORS: dict[str, Callable[[str], Extraction | None]] = {
    "phone": extract_phone,
    "place": extract_place,
    "case_type": extract_case_type,
    "subject": extract_subject,
    "household": extract_household,
    "name": extract_name,
    "address": extract_address,
    "yes_no": extract_yes_no,
    "human": _human,
    "correction": extract_correction,
}


def load_corpus(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as f:
        return [Record(**json.loads(line)) for line in f if line.strip()]


def predict(slot: str, text: str) -> str | None:
    result = EXTRACTORS[slot](text)
    if result is None or result.confidence < MIN_CONFIDENCE:
        return None
    return result.value


def is_correct(slot: str, predicted: str | None, expected: str | None) -> bool:
    if predicted is None or expected is None:
        return predicted is expected
    if slot in FOLDED_SLOTS:
        return fold(predicted.lower()) == fold(expected.lower())
    if slot == "place" and predicted in district_2021_to_wards_2025().get(expected, ()):
        # The caller named a 2025 ward that lies in the labelled 2021 district: a more
        # precise answer, and routed the same (labels name the district callers still say).
        return True
    return predicted == expected


def accuracy(records: Iterable[Record]) -> dict[tuple[str, str], tuple[int, int]]:
    """(slot, noise) → (correct, total)."""
    scores: dict[tuple[str, str], tuple[int, int]] = {}
    for r in records:
        ok = is_correct(r.slot, predict(r.slot, r.text), r.expected)
        good, total = scores.get((r.slot, r.noise), (0, 0))
        scores[(r.slot, r.noise)] = (good + ok, total + 1)
    return scores
