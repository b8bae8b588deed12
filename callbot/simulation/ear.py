"""How a simulated caller knows what the bot asked.

The bot speaks pre-rendered pieces from the prompt library, sent byte for byte over
loopback. So a simulated caller that has the same library can recognise each piece exactly
by the first samples after its leading silence, then skip the piece's known length and
look for the next one. This gives the caller the bot's prompt names ("ask_place",
"retry", "digit_4"…) without a speech recogniser, so scripts react to the question
actually asked, as a person would, and can check digits read back (the ticket number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callbot.speech.prompts import PromptLibrary

SIGNATURE_SAMPLES = 24


@dataclass(frozen=True)
class _Piece:
    name: str
    voiced: np.ndarray  # the samples after the leading zeros

    def matches(self, samples: np.ndarray, start: int) -> bool:
        end = start + self.voiced.size
        return end <= samples.size and np.array_equal(samples[start:end], self.voiced)


class PromptEar:
    def __init__(self, prompts: PromptLibrary) -> None:
        # Pieces can share a start ("Bạn cần…", "Bạn đang…"): a signature names candidates,
        # the full comparison decides, longest first.
        self._by_signature: dict[bytes, list[_Piece]] = {}
        for name in prompts.texts:
            samples = np.frombuffer(prompts.audio(name), dtype="<i2")
            nonzero = np.flatnonzero(samples)
            if nonzero.size == 0:
                continue
            start = int(nonzero[0])
            signature = samples[start : start + SIGNATURE_SAMPLES].tobytes()
            candidates = self._by_signature.setdefault(signature, [])
            candidates.append(_Piece(name, samples[start:].copy()))
            candidates.sort(key=lambda piece: -piece.voiced.size)

    def pieces(self, audio: bytes) -> list[str]:
        """Names of the library pieces heard in ``audio``, in order; unknown audio skipped."""
        samples = np.frombuffer(audio[: len(audio) // 2 * 2], dtype="<i2")
        nonzero = np.flatnonzero(samples)
        heard: list[str] = []
        position = 0
        while True:
            # Next voiced sample at or after position.
            index = int(np.searchsorted(nonzero, position))
            if index >= nonzero.size:
                return heard
            start = int(nonzero[index])
            candidates = self._by_signature.get(
                samples[start : start + SIGNATURE_SAMPLES].tobytes(), []
            )
            piece = next((p for p in candidates if p.matches(samples, start)), None)
            if piece is not None:
                heard.append(piece.name)
                position = start + piece.voiced.size
                continue
            # Not a piece start (free TTS text, or inside a piece): jump to the next onset,
            # a voiced sample after at least 10 ms of exact silence.
            gaps = np.flatnonzero(np.diff(nonzero[index:]) > 80)
            if gaps.size == 0:
                return heard
            position = int(nonzero[index + int(gaps[0]) + 1])

    @staticmethod
    def digits(pieces: list[str]) -> str:
        """The digits read out, in order: ["digit_1", "digit_2"] → "12"."""
        return "".join(p.removeprefix("digit_") for p in pieces if p.startswith("digit_"))
