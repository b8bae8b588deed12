"""Whisper's log-mel features for one utterance, computed the cheap way.

faster-whisper's ``FeatureExtractor`` is a general STFT (checks, complex128 steps, a full
complex spectrum) and was the largest single cost in a profile of the server under load,
ahead of the decode itself. Whisper's front end is fixed — 400-sample Hann window, 160-sample
hop, centred with reflect padding, 80 (or 128) mel bands, log10 clipped 8 below the peak —
so one strided real FFT over the frames gives the same features (equal to float32 rounding,
checked in tests/test_asr_whisper.py) for about two thirds of the CPU.
"""

from __future__ import annotations

import numpy as np

N_FFT = 400
HOP = 160
TAIL_PADDING = 160  # faster-whisper's default: the last frame sees a little past the end


class LogMel:
    def __init__(self, mel_filters: np.ndarray) -> None:
        self._mel = np.ascontiguousarray(mel_filters, dtype=np.float32)
        self._window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """(n_mels, frames) features of float32 16 kHz ``audio`` (at least one sample)."""
        audio = np.pad(np.asarray(audio, dtype=np.float32), (0, TAIL_PADDING))
        padded = np.pad(audio, (N_FFT // 2, N_FFT // 2), mode="reflect")
        count = 1 + (padded.size - N_FFT) // HOP
        step = padded.strides[0]
        frames = np.lib.stride_tricks.as_strided(
            padded, (count, N_FFT), (step * HOP, step), writeable=False
        )
        spectrum = np.fft.rfft(frames * self._window, n=N_FFT, axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        mel = self._mel @ power[:-1].T  # the STFT's last frame only covers the padding
        log = np.log10(np.maximum(mel, 1e-10))
        log = np.maximum(log, log.max() - 8.0)
        return (log + 4.0) / 4.0
