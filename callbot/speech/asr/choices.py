"""Constrained recognition: the answers a closed question expects, and the pick among them.

A question with a known set of answers ("đúng/sai", the case types, the districts, 1–15
people) hands the recogniser its ``Choices``: each slot value with the texts a caller says
for it. The engine scores every text against the utterance (``WhisperEngine.score_16k``:
nats of mutual information between audio and text) and ``choose`` takes the value whose best
text scored highest, only if it is high enough and clearly ahead of the next value; otherwise
"none of these" (``Choice.value is None``) and the dialog asks again or offers the keypad.
The two thresholds are calibrated per question on speech (``bench/calibrate_speech_choices.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Choices:
    forms: Mapping[str, tuple[str, ...]]  # slot value → the texts that say it
    min_score: float  # the winning text's score, nats
    min_margin: float  # how far the winning value must lead the next one, nats

    def texts(self) -> tuple[list[str], list[str]]:
        """Flattened (texts, values): what to score, and the value each text stands for."""
        texts, values = [], []
        for value, forms in self.forms.items():
            for form in forms:
                texts.append(form)
                values.append(value)
        return texts, values


@dataclass(frozen=True)
class Choice:
    value: str | None  # None: no candidate explains the answer well enough
    score: float  # the best value's score (nats of mutual information)
    margin: float  # how far ahead of the next value

    @property
    def confidence(self) -> float:
        """The margin read as log-odds of the winner against the runner-up."""
        return 1.0 / (1.0 + math.exp(-self.margin))


def choose(scores: Sequence[float], values: Sequence[str], *, min_score: float,
           min_margin: float) -> Choice:  # fmt: skip
    """The value whose best form scored highest, if it is both high and clearly ahead."""
    best: dict[str, float] = {}
    for score, value in zip(scores, values, strict=True):
        best[value] = max(score, best.get(value, float("-inf")))
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return Choice(None, 0.0, 0.0)
    top_value, top = ranked[0]
    margin = top - ranked[1][1] if len(ranked) > 1 else top
    if top < min_score or margin < min_margin:
        return Choice(None, top, margin)
    return Choice(top_value, top, margin)
