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
    # Forms a telephone line can make sound like another value's form ("phải" and "sai":
    # the band stops at 3.4 kHz, where /f/ and /s/ differ): a pick won by one of them is
    # not trusted alone; the free transcript must agree (``nlu.candidates.telephone_twins``).
    confusable: frozenset[str] = frozenset()

    def pick(self, scores: Sequence[float]) -> Choice:
        """``choose`` over this question's texts, at its thresholds."""
        texts, values = self.texts()
        return choose(scores, values, min_score=self.min_score, min_margin=self.min_margin,
                      texts=texts, confusable=self.confusable)  # fmt: skip

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
    needs_agreement: bool = False  # won by a confusable form: only with the free text's word

    @property
    def confidence(self) -> float:
        """The margin read as log-odds of the winner against the runner-up."""
        return 1.0 / (1.0 + math.exp(-self.margin))


def choose(scores: Sequence[float], values: Sequence[str], *, min_score: float,
           min_margin: float, texts: Sequence[str] | None = None,
           confusable: frozenset[str] = frozenset()) -> Choice:  # fmt: skip
    """The value whose best form scored highest, if it is both high and clearly ahead;
    marked ``needs_agreement`` when that best form is one of the ``confusable`` texts."""
    best: dict[str, float] = {}
    best_text: dict[str, str] = {}
    for i, (score, value) in enumerate(zip(scores, values, strict=True)):
        if score > best.get(value, float("-inf")):
            best[value] = score
            if texts is not None:
                best_text[value] = texts[i]
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return Choice(None, 0.0, 0.0)
    top_value, top = ranked[0]
    margin = top - ranked[1][1] if len(ranked) > 1 else top
    if top < min_score or margin < min_margin:
        return Choice(None, top, margin)
    return Choice(top_value, top, margin, best_text.get(top_value) in confusable)
