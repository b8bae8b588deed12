"""Reading WAV files into the call path's format (8 kHz mono s16le)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from callbot.speech.resample import resample, to_pcm16
from telephony.audio_format import SAMPLE_RATE


class WavError(ValueError):
    pass


def read_wav_8k(path: Path) -> bytes:
    """Any PCM WAV (8/16/24/32-bit, mono or stereo, any rate) → 8 kHz mono s16le."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        raise WavError(f"{path}: not a PCM WAV file ({error})") from error
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) * 256
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 65536
    else:
        raise WavError(f"{path}: {width * 8}-bit samples are not supported")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        samples = resample(samples, rate, SAMPLE_RATE)
    return to_pcm16(samples)


def write_wav_8k(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)
    tmp.replace(path)
