"""The endpointer on real (espeak-ng) speech, with time passing the way the wire delivers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbot.call.endpointer import (
    Endpointer,
    EndpointerSettings,
    EndReason,
    NoSpeech,
    SpeechEnded,
    SpeechStarted,
)
from callbot.call.rebuffer import Rebuffer
from callbot.speech.wav import read_wav_8k
from telephony.audio_format import FRAME_BYTES

SPEECH = Path(__file__).parents[1] / "callbot" / "simulation" / "speech" / "audio"


@pytest.fixture(scope="module")
def sentence() -> bytes:
    return read_wav_8k(SPEECH / "luong_thuc.wav")


def frames(pcm: bytes) -> list[bytes]:
    return Rebuffer().push(pcm + bytes(-len(pcm) % FRAME_BYTES))


def feed(endpointer: Endpointer, pcm: bytes, start: float, step: float = 0.02):
    """Push frames at real-time timestamps; returns (events with times, next time)."""
    events = []
    now = start
    for frame in frames(pcm):
        events += endpointer.push_frame(frame, now)
        now += step
    return events, now


def test_speech_start_and_end_after_trailing_silence(sentence):
    endpointer = Endpointer(EndpointerSettings(end_silence_ms=700))
    endpointer.listen(0.0)
    events, _now = feed(endpointer, bytes(8000) + sentence + bytes(16000), 0.0)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SpeechEnded]
    started, ended = events
    assert 0.45 < started.at < 0.8  # after the 0.5 s of leading silence
    assert started.preroll  # the onset is kept for the recogniser
    assert ended.reason is EndReason.SILENCE
    assert ended.at >= started.at + len(sentence) / 16000 * 0.5


def test_a_gap_with_no_frames_counts_as_silence(sentence):
    """Asterisk sends nothing while a Local channel is silent: the clock ends the utterance."""
    endpointer = Endpointer(EndpointerSettings(end_silence_ms=700))
    endpointer.listen(0.0)
    events, now = feed(endpointer, sentence, 0.0)
    assert [type(e) for e in events] == [SpeechStarted]
    assert endpointer.tick(now + 0.3) == []
    ended = endpointer.tick(now + 0.8)
    assert [type(e) for e in ended] == [SpeechEnded]


def test_no_speech_timeout_runs_on_the_clock():
    endpointer = Endpointer(EndpointerSettings(no_speech_timeout_ms=3000))
    endpointer.listen(10.0)
    assert endpointer.tick(12.9) == []
    assert endpointer.tick(13.0) == [NoSpeech(13.0)]
    assert not endpointer.listening


def test_no_speech_timer_waits_for_the_prompt_to_finish():
    endpointer = Endpointer(EndpointerSettings(no_speech_timeout_ms=3000))
    endpointer.listen(0.0, prompt_playing=True)
    assert endpointer.tick(8.0) == []  # an 8 s prompt: the caller is not silent yet
    endpointer.prompt_finished(8.0)
    assert endpointer.tick(10.9) == []
    assert endpointer.tick(11.0) == [NoSpeech(11.0)]


def test_maximum_utterance_length(sentence):
    endpointer = Endpointer(EndpointerSettings(max_utterance_ms=1000))
    endpointer.listen(0.0)
    events, _ = feed(endpointer, sentence, 0.0)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended and ended[0].reason is EndReason.MAX_LENGTH


def test_barge_in_needs_longer_speech_than_an_answer(sentence):
    short_burst = frames(sentence)[10:21]  # ~220 ms of voiced speech
    answering = Endpointer(EndpointerSettings(start_speech_ms=100, barge_in_ms=400))
    answering.listen(0.0)
    barging = Endpointer(EndpointerSettings(start_speech_ms=100, barge_in_ms=400))
    barging.listen(0.0, prompt_playing=True)
    a = b = []
    for i, frame in enumerate(short_burst):
        a = a + answering.push_frame(frame, i * 0.02)
        b = b + barging.push_frame(frame, i * 0.02)
    assert any(isinstance(e, SpeechStarted) for e in a)
    assert not any(isinstance(e, SpeechStarted) for e in b)


def test_silence_alone_never_starts_speech():
    endpointer = Endpointer()
    endpointer.listen(0.0)
    events, _now = feed(endpointer, bytes(16000 * 3), 0.0)
    assert not any(isinstance(e, SpeechStarted) for e in events)


def test_wrong_frame_size_is_a_clear_error():
    endpointer = Endpointer()
    endpointer.listen(0.0)
    with pytest.raises(ValueError, match="320 bytes"):
        endpointer.push_frame(bytes(100), 0.0)


def test_rebuffer_recuts_odd_framing():
    rebuffer = Rebuffer()
    out = rebuffer.push(bytes(100)) + rebuffer.push(bytes(500)) + rebuffer.push(bytes(60))
    assert [len(f) for f in out] == [320, 320]
    assert len(rebuffer.flush()) == 20
