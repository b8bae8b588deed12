"""Cue-phrase scoring shared by the closed-class extractors (case type, subject, correction).

Cues are written with their diacritics and matched with them first; a match with tone marks
removed counts less (see ``score_cues``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from callbot.nlu.text import fold


@dataclass(frozen=True)
class CueHit:
    label: str
    score: float
    first: tuple[int, int]  # token span (start, end) of the label's first cue found

    def heard(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens[self.first[0] : self.first[1]])


# A cue word heard without its tone marks ("trung" for "trứng": the recogniser dropped
# them) counts this much of the cue's weight; one heard with *other* marks that fold the
# same ("cơ" for "có", "đôi" for "đói", "sủa" for "sữa") is most likely another word and
# counts far less. A cue counts by its least exact word.
DROPPED_MARKS_WEIGHT = 0.5
OTHER_MARKS_WEIGHT = 0.25


def _word_weight(heard: str, heard_folded: str, cue: str, cue_folded: str) -> float:
    if heard == cue:
        return 1.0
    if heard_folded != cue_folded:
        return 0.0
    return DROPPED_MARKS_WEIGHT if heard == heard_folded else OTHER_MARKS_WEIGHT


@lru_cache(maxsize=64)
def _cue_tokens(
    cues: tuple[tuple[str, float], ...],
) -> tuple[tuple[tuple[str, ...], tuple[str, ...], float], ...]:
    return tuple((tuple(c.split()), tuple(fold(c).split()), w) for c, w in cues)


_FLAT: dict[int, tuple[object, list[tuple[tuple[str, ...], tuple[str, ...], float, str]]]] = {}


def _longest_first(
    cues: Mapping[str, Sequence[tuple[str, float]]],
) -> list[tuple[tuple[str, ...], tuple[str, ...], float, str]]:
    """Every label's cues, longest first (kept per cue table: the tables are constants)."""
    kept = _FLAT.get(id(cues))
    if kept is not None and kept[0] is cues:
        return kept[1]
    flat = sorted(
        (
            (exact, plain, weight, label)
            for label, cs in cues.items()
            for exact, plain, weight in _cue_tokens(tuple(cs))
        ),
        key=lambda t: -len(" ".join(t[0])),
    )
    if len(_FLAT) < 64:
        _FLAT[id(cues)] = (cues, flat)
    return flat


def score_cues(text: str, cues: Mapping[str, Sequence[tuple[str, float]]]) -> dict[str, CueHit]:
    """Sum the weights of each label's cues found as whole words in normalised ``text``.

    Tones first: a cue written exactly as heard counts fully; one that matches only with
    tone marks removed counts less (``DROPPED_MARKS_WEIGHT``, ``OTHER_MARKS_WEIGHT``).
    Longest cues first, and a cue found
    inside a longer cue already counted (of any label) is not counted again, so "không có gì
    ăn" does not also count as "có".
    """
    toks = text.split()
    folded = [fold(t) for t in toks]
    # Where each folded word occurs: a cue is only tried where its first word is (the
    # urgency cues are hundreds, run over a whole call's words, on the event loop).
    where: dict[str, list[int]] = {}
    for i, word in enumerate(folded):
        where.setdefault(word, []).append(i)
    spans_used: list[tuple[int, int]] = []
    hits: dict[str, CueHit] = {}
    for exact, plain, weight, label in _longest_first(cues):
        n = len(exact)
        for start in where.get(plain[0], ()):
            end = start + n
            if end > len(toks) or tuple(folded[start:end]) != plain:
                continue
            if any(a <= start and end <= b for a, b in spans_used):
                continue
            factor = min(
                _word_weight(toks[i], folded[i], exact[i - start], plain[i - start])
                for i in range(start, end)
            )
            counted = weight * factor
            spans_used.append((start, end))
            prev = hits.get(label)
            first = prev.first if prev else (start, end)
            hits[label] = CueHit(label, (prev.score if prev else 0.0) + counted, first)
            break
    return hits
