"""Voice activity endpointer: when did the caller start and stop talking?

webrtcvad classifies each 20 ms frame; this class turns those votes into utterance
boundaries. It runs on the clock, not on frame counts: a Local or muted channel sends no
frames at all while silent, so ``tick(now)`` must be called regularly and a gap in the
frames counts as silence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

import webrtcvad

from telephony.audio_format import FRAME_BYTES, FRAME_MS, SAMPLE_RATE


@dataclass(frozen=True)
class EndpointerSettings:
    aggressiveness: int = 2  # webrtcvad 0..3; 2 suits phone audio with some background
    start_speech_ms: int = 100  # voiced audio needed to call it speech
    barge_in_ms: int = 240  # stricter while a prompt plays, so a cough does not cut it
    end_silence_ms: int = 700  # trailing silence that ends an utterance
    max_utterance_ms: int = 12_000
    no_speech_timeout_ms: int = 6_000
    preroll_ms: int = 300  # audio kept from before the start, so the first syllable survives


class EndReason(Enum):
    SILENCE = "silence"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True)
class SpeechStarted:
    at: float
    preroll: bytes  # audio just before (and including) the start


@dataclass(frozen=True)
class SpeechEnded:
    at: float
    reason: EndReason


@dataclass(frozen=True)
class NoSpeech:
    at: float


EndpointEvent = SpeechStarted | SpeechEnded | NoSpeech


class _State(Enum):
    IDLE = "idle"  # not listening
    WAITING = "waiting"  # listening, no speech yet
    SPEAKING = "speaking"


class Endpointer:
    def __init__(self, settings: EndpointerSettings | None = None) -> None:
        self.settings = settings or EndpointerSettings()
        self._vad = webrtcvad.Vad(self.settings.aggressiveness)
        self._preroll: deque[bytes] = deque(maxlen=max(1, self.settings.preroll_ms // FRAME_MS))
        self._state = _State.IDLE
        self._listen_since = 0.0
        self._speech_since = 0.0
        self._last_voiced_at = 0.0
        self._last_frame_at = 0.0
        self._voiced_run_ms = 0
        self._barge_in = False
        self.frames_classified = 0

    @property
    def in_speech(self) -> bool:
        return self._state is _State.SPEAKING

    @property
    def listening(self) -> bool:
        return self._state is not _State.IDLE

    def listen(self, now: float, *, prompt_playing: bool = False) -> None:
        """Start waiting for an utterance.

        While a prompt plays, speech must last ``barge_in_ms`` to count (a cough should not
        cut the bot off) and the no-speech timer does not run: silence is only the caller's
        once the bot has finished asking.
        """
        self._state = _State.WAITING
        self._listen_since = now
        self._voiced_run_ms = 0
        self._barge_in = prompt_playing
        self._preroll.clear()

    def prompt_finished(self, now: float) -> None:
        """The prompt ended: normal sensitivity, and the no-speech timer starts now."""
        if self._barge_in and self._state is _State.WAITING:
            self._listen_since = now
        self._barge_in = False

    def stop(self) -> None:
        self._state = _State.IDLE

    def push_frame(self, frame: bytes, now: float) -> list[EndpointEvent]:
        """Classify one 20 ms frame received at ``now`` (seconds, monotonic)."""
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"endpointer frames are {FRAME_BYTES} bytes, got {len(frame)}")
        if self._state is _State.IDLE:
            return []
        self.frames_classified += 1
        voiced = self._vad.is_speech(frame, SAMPLE_RATE)
        # A gap since the previous frame is silence: it breaks a voiced run.
        if now - self._last_frame_at > 2.5 * FRAME_MS / 1000:
            self._voiced_run_ms = 0
        self._last_frame_at = now
        events: list[EndpointEvent] = []
        if self._state is _State.WAITING:
            self._preroll.append(frame)
            self._voiced_run_ms = self._voiced_run_ms + FRAME_MS if voiced else 0
            needed = self.settings.barge_in_ms if self._barge_in else self.settings.start_speech_ms
            if self._voiced_run_ms >= needed:
                self._state = _State.SPEAKING
                self._speech_since = now
                self._last_voiced_at = now
                events.append(SpeechStarted(now, b"".join(self._preroll)))
                self._preroll.clear()
        elif voiced:
            self._last_voiced_at = now
        return events + self.tick(now)

    def tick(self, now: float) -> list[EndpointEvent]:
        """Let time pass: ends utterances and times out silence even with no frames."""
        s = self.settings
        if self._state is _State.SPEAKING:
            if (now - self._last_voiced_at) * 1000 >= s.end_silence_ms:
                self._state = _State.IDLE
                return [SpeechEnded(now, EndReason.SILENCE)]
            if (now - self._speech_since) * 1000 >= s.max_utterance_ms:
                self._state = _State.IDLE
                return [SpeechEnded(now, EndReason.MAX_LENGTH)]
        elif (
            self._state is _State.WAITING
            and not self._barge_in
            and (now - self._listen_since) * 1000 >= s.no_speech_timeout_ms
        ):
            self._state = _State.IDLE
            return [NoSpeech(now)]
        return []
