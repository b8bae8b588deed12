"""The one interface every speech recogniser implements.

A call session opens one stream per caller utterance (or per question for streaming
engines), feeds it 8 kHz signed-linear audio as it arrives, and awaits the final
hypothesis when the endpointer says the caller has finished. ``accept`` is called on the
event loop for every 20 ms frame, so it must only buffer or hand work to a pool; decoding
never blocks the loop. Engines share one loaded model per process across all calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from callbot.speech.asr.choices import Choice, Choices


@dataclass(frozen=True)
class Hypothesis:
    text: str  # lower case, as the recogniser wrote it (Whisper punctuation stripped)
    confidence: float  # 0..1
    audio_seconds: float  # how much audio was decoded
    decode_seconds: float  # wall time spent decoding (for real-time factor figures)
    # The question's expected answers, scored against the audio (engines that can; None
    # when the stream was opened without choices or the engine cannot score).
    choice: Choice | None = None


class AsrStream(Protocol):
    def accept(self, pcm: bytes) -> None:
        """Add 8 kHz 16-bit little-endian mono audio. Cheap; never blocks the loop."""

    async def finish(self) -> Hypothesis:
        """No more audio: return the final hypothesis (empty text if nothing was heard)."""

    def cancel(self) -> None:
        """Drop the stream without decoding (caller hung up)."""


class AsrEngine(Protocol):
    name: str  # "whisper" or "vosk"
    supports_phrases: bool  # can constrain decoding to expected phrases (a grammar)
    supports_choices: bool  # can score a question's expected answers (Hypothesis.choice)

    def open_stream(
        self, phrases: Sequence[str] | None = None, choices: Choices | None = None
    ) -> AsrStream: ...

    async def close(self) -> None:
        """Release the model and the decoding pool."""
