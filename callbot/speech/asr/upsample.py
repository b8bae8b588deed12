"""Rate conversion between the 8 kHz call audio and 16 kHz recognisers, in plain numpy.

A half-band windowed-sinc FIR (65 taps): flat to about 3.5 kHz, which is all a telephone
line carries, and cheap (about 2 ms per second of audio). Whole clips only: Whisper
converts an utterance at once, and Vosk resamples inside Kaldi.
"""

from __future__ import annotations

import numpy as np

HALF_WIDTH = 32


def _halfband_taps(half_width: int = HALF_WIDTH) -> np.ndarray:
    n = np.arange(-half_width, half_width + 1)
    taps = np.sinc(n / 2) * np.hanning(2 * half_width + 3)[1:-1]
    return (taps / taps.sum()).astype(np.float32)


TAPS = _halfband_taps()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2").tobytes()


def upsample_8k_to_16k(samples: np.ndarray) -> np.ndarray:
    """Double the rate of a whole clip: zero-stuff, then low-pass with gain 2."""
    if samples.size == 0:
        return samples.astype(np.float32)
    stuffed = np.zeros(2 * samples.size, dtype=np.float32)
    stuffed[::2] = samples
    return np.convolve(stuffed, 2 * TAPS, mode="same").astype(np.float32)


def downsample_16k_to_8k(samples: np.ndarray) -> np.ndarray:
    """Halve the rate of a whole clip: low-pass below 4 kHz, keep every other sample."""
    if samples.size == 0:
        return samples.astype(np.float32)
    return np.convolve(samples.astype(np.float32), TAPS, mode="same")[::2].copy()
