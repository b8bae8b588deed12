"""Sample-rate conversion for whole clips (prompts, TTS output, recogniser input).

FFT resampling is exact for band-limited signals and needs nothing beyond numpy; clips on
this path are seconds long, where it costs well under a millisecond.
"""

from __future__ import annotations

import numpy as np


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Float or int16 samples at ``src_rate`` → float32 samples at ``dst_rate``."""
    x = np.asarray(samples, dtype=np.float32)
    if src_rate == dst_rate or x.size == 0:
        return x
    n_out = round(x.size * dst_rate / src_rate)
    spectrum = np.fft.rfft(x)
    n_bins = n_out // 2 + 1
    if n_bins <= spectrum.size:
        spectrum = spectrum[:n_bins]  # drops what is above the new Nyquist: the low-pass
    else:
        spectrum = np.pad(spectrum, (0, n_bins - spectrum.size))
    return (np.fft.irfft(spectrum, n_out) * (n_out / x.size)).astype(np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """s16le bytes → float32 in [-1, 1] (what speech models take)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
