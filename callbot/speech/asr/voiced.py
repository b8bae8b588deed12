"""The voiced span of an utterance, for scoring a closed answer.

The endpointer hands the recogniser the caller's words *with* its 0.3 s pre-roll and the
0.7 s of trailing silence that ended the turn (and line noise in both). Free decoding does
not mind; scoring a question's candidates does: it measures each text against the audio
and against silence, and silence (or noise) inside the window is explained equally badly by
every text, which flattens the scores or tilts them — in a live call, untrimmed, wrong
candidates won by several nats. webrtcvad (already the endpointer's detector) finds the
first and last voiced 20 ms frames; the span between them, plus a small margin, is scored.
"""

from __future__ import annotations

import webrtcvad

from telephony.audio_format import BYTES_PER_MS, SAMPLE_RATE

FRAME_MS = 20
MARGIN_MS = 100
# 2 of 0–3: noise-tolerant without dropping soft syllable onsets.
AGGRESSIVENESS = 2


def voiced_span(pcm: bytes, *, margin_ms: int = MARGIN_MS) -> bytes:
    """``pcm`` (8 kHz 16-bit mono) cut to its first..last voiced frame ± ``margin_ms``;
    unchanged when no frame is voiced (the scorer then sees what there is)."""
    frame = FRAME_MS * BYTES_PER_MS
    vad = webrtcvad.Vad(AGGRESSIVENESS)
    voiced = [
        i
        for i in range(0, len(pcm) - frame + 1, frame)
        if vad.is_speech(pcm[i : i + frame], SAMPLE_RATE)
    ]
    if not voiced:
        return pcm
    margin = margin_ms * BYTES_PER_MS
    return pcm[max(0, voiced[0] - margin) : min(len(pcm), voiced[-1] + frame + margin)]
