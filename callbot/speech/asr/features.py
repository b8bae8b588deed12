"""Whisper's log-mel front end in float32 numpy, a drop-in for faster-whisper's extractor.

faster-whisper's ``FeatureExtractor.__call__`` (1.2.1) sends its 80 x 201 mel product to
numpy's OpenBLAS, which runs a product that size on every core. On our 2 vCPU box, busy
with decodes, the call then waits for a second BLAS thread to be scheduled, and that thread
spin-waits afterwards: bench/bench_features.py measured several times the work itself in
CPU and a p95 of tens of ms for a 1 ms computation. At 100 concurrent calls py-spy put
the extractor above the decode (issue #14).

This module computes the same thing (Whisper's definition: 400-sample periodic Hann window,
hop 160, ``n_fft`` 400, reflect-padded centred frames, Slaney mel filters, ``log10`` clamped
to ``max - 8``, then ``(x + 4) / 4``) in float32 on the calling thread only: the window and
filters are built once per ``n_mels``, the frames are a view, power is ``re² + im²``
(no square root), and the mel filters are applied as the narrow bands they are.
Padding is the extractor's: ``padding`` zeros appended (160 in faster-whisper's call), so
the frame count and the ``max - 8`` clamp (taken over every frame, the last included) are
identical. tests/test_asr_features.py holds it to the extractor's output.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
DEFAULT_PADDING = 160  # what faster-whisper's extractor appends when called without padding=


@lru_cache(maxsize=8)
def mel_filters(n_mels: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Slaney-scale triangular filters, (n_mels, n_fft // 2 + 1) float32, read-only.

    faster-whisper's own construction (as librosa's and OpenAI Whisper's), so the filters
    are the extractor's to the bit. Imported here, not at the top: the faster_whisper
    package loads CTranslate2, which must come after its thread pinning (factory.py).
    """
    from faster_whisper.feature_extractor import FeatureExtractor

    filters = FeatureExtractor.get_mel_filters(sample_rate, N_FFT, n_mels).astype(np.float32)
    filters.flags.writeable = False  # shared by every call through the cache
    return filters


@lru_cache(maxsize=8)
def _banded_filters(n_mels: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The filters as bands: filter m is ``sum_j power[bins[m, j]] * weights[m, j]``.

    A triangle spans at most 14 of the 201 FFT bins (80 mels), so the band form does the
    same non-zero products as the dense one. Padding entries have weight zero.
    """
    filters = mel_filters(n_mels, sample_rate)
    nonzero = filters > 0
    first = np.argmax(nonzero, axis=1)
    last = filters.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    counts = np.where(nonzero.any(axis=1), last - first, 0)  # an empty triangle: all zero
    offsets = np.arange(max(1, int(counts.max())))
    bins = np.minimum(first[:, np.newaxis] + offsets, filters.shape[1] - 1)
    inside = offsets < counts[:, np.newaxis]
    weights = np.where(inside, np.take_along_axis(filters, bins, axis=1), 0.0)
    weights = weights.astype(np.float32)[:, :, np.newaxis]
    for array in (bins, weights):
        array.flags.writeable = False
    return bins, weights


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic, as torch.hann_window
    window.flags.writeable = False
    return window


def log_mel(
    samples: np.ndarray,
    n_mels: int = 80,
    padding: int = DEFAULT_PADDING,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Log-mel spectrogram of float32 mono 16 kHz ``samples``: (n_mels, frames) float32.

    ``frames`` is ``(len(samples) + padding) // 160``, as faster-whisper's extractor
    returns it (its last frame mostly covers the padding; the engine drops it).
    """
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"log_mel wants mono samples, got shape {audio.shape}")
    if padding:
        audio = np.pad(audio, (0, padding))
    # Centred frames: reflect N_FFT // 2 at both ends, as torch.stft(center=True).
    audio = np.pad(audio, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(audio, N_FFT)[::HOP]
    # float32 throughout, as the extractor (numpy >= 2 keeps rfft in complex64). The
    # extractor drops the last STFT frame, so it is never computed here.
    spectrum = np.fft.rfft(frames[:-1] * _hann(), axis=-1)
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    # The mel product without BLAS: numpy's OpenBLAS runs a product this size on every
    # core, so on a busy 2 vCPU box the call waits for a second thread to be scheduled and
    # that thread then spin-waits (bench/bench_features.py, docs/performance.md).
    bins, weights = _banded_filters(n_mels, sample_rate)
    # Bins by rows first: the gather then reads contiguous rows (30 % faster, measured).
    terms = np.take(np.ascontiguousarray(power.T), bins, axis=0)  # (n_mels, band, frames)
    terms *= weights
    mel = terms.sum(axis=1)
    log_spec = np.log10(np.maximum(mel, 1e-10, out=mel), out=mel)
    np.maximum(log_spec, log_spec.max() - 8.0, out=log_spec)
    log_spec += 4.0
    log_spec /= 4.0
    return log_spec
