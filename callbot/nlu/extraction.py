"""The result every slot extractor returns."""

from __future__ import annotations

from dataclasses import dataclass

# Below this an extraction is "not understood": the dialog asks again (ivr.py) and the
# corpus scorer counts it as nothing (corpus.py). One figure for both, so that what the
# benchmarks report is what a caller gets.
ACCEPT_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Extraction:
    """One slot value read from one utterance.

    ``value`` is normalised (a code such as ``"essentials"``, digits, a canonical name);
    ``heard`` is the span of the (normalised) utterance it came from, kept so a supervisor can
    see why the bot believed it; ``reason`` says why confidence is low (e.g. a phone number
    with a bad prefix), empty when there is nothing to say.
    """

    value: str
    confidence: float
    heard: str
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence out of range: {self.confidence}")
