"""Cue-phrase scoring shared by the closed-class extractors (case type, subject, correction).

Cues are written with their diacritics, as a reader expects, and matched folded: recognisers
drop tone marks far more often than they produce a different word that folds the same.
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


@lru_cache(maxsize=64)
def _folded_cues(cues: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    # Longest first so "không có gì ăn" is found before "có".
    return tuple(sorted(((fold(c), w) for c, w in cues), key=lambda cw: -len(cw[0])))


def score_cues(
    folded_text: str, cues: Mapping[str, Sequence[tuple[str, float]]]
) -> dict[str, CueHit]:
    """Sum the weights of each label's cues found as whole words in ``folded_text``.

    A cue found inside a longer cue already counted (of any label) is not counted again, so
    "không có gì ăn" does not also count as "có".
    """
    padded = f" {folded_text} "
    spans_used: list[tuple[int, int]] = []
    hits: dict[str, CueHit] = {}
    flat = sorted(
        (
            (cue, weight, label)
            for label, cs in cues.items()
            for cue, weight in _folded_cues(tuple(cs))
        ),
        key=lambda t: -len(t[0]),
    )
    for cue, weight, label in flat:
        start = padded.find(f" {cue} ")
        while start != -1:
            span = (start, start + len(cue) + 2)
            if not any(a <= span[0] and span[1] <= b for a, b in spans_used):
                spans_used.append(span)
                prev = hits.get(label)
                tok = padded[: start + 1].count(" ") - 1
                first = prev.first if prev else (tok, tok + cue.count(" ") + 1)
                hits[label] = CueHit(label, (prev.score if prev else 0.0) + weight, first)
                break
            start = padded.find(f" {cue} ", start + 1)
    return hits
