"""The call recording (stereo, aligned, crash-readable) and the paced bot output."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from callbot.call.recording import CallRecorder
from telephony.audio_format import FRAME_BYTES, SILENCE_FRAME
from telephony.audiosocket_protocol import FrameParser, Kind
from telephony.frame_clock import FrameClock
from telephony.paced_writer import PacedWriter


def tone(frames: int, value: int) -> bytes:
    return np.full(frames * FRAME_BYTES // 2, value, dtype="<i2").tobytes()


def read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 8000
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data[0::2], data[1::2], len(data) // 2


def test_caller_left_bot_right_aligned_per_tick(tmp_path):
    recorder = CallRecorder(tmp_path / "call.wav")
    recorder.caller_audio(tone(1, 1000))  # caller speaks in tick 0
    recorder.bot_frame(SILENCE_FRAME)
    recorder.bot_frame(tone(1, -2000))  # bot speaks in tick 1, caller silent (no frames)
    recorder.close()
    left, right, samples = read_stereo(tmp_path / "call.wav")
    assert samples == 320
    assert (left[:160] == 1000).all() and (left[160:] == 0).all()
    assert (right[:160] == 0).all() and (right[160:] == -2000).all()
    assert recorder.duration_ms == 40


def test_recording_is_readable_while_the_call_is_still_going(tmp_path):
    """A SIGKILL leaves the file as it is: the header must already describe the audio."""
    recorder = CallRecorder(tmp_path / "call.wav")
    for _ in range(120):  # 2.4 s
        recorder.caller_audio(tone(1, 500))
        recorder.bot_frame(SILENCE_FRAME)
    # Not closed: read it as a crash would leave it.
    _, _, samples = read_stereo(tmp_path / "call.wav")
    assert samples >= 8000 * 2  # at least the 2 s covered by the last header rewrite
    recorder.close()
    assert read_stereo(tmp_path / "call.wav")[2] == 120 * 160


def test_caller_audio_after_the_last_tick_is_kept(tmp_path):
    recorder = CallRecorder(tmp_path / "call.wav")
    recorder.bot_frame(SILENCE_FRAME)
    recorder.caller_audio(tone(3, 700))  # the caller's last words, then the hang-up
    recorder.close()
    left, _, _samples = read_stereo(tmp_path / "call.wav")
    assert (left == 700).sum() == 3 * 160


def test_full_disk_stops_the_recording_not_the_call(tmp_path):
    recorder = CallRecorder(Path("/dev/full"))
    for _ in range(60):
        recorder.bot_frame(SILENCE_FRAME)  # must not raise
    recorder.close()
    assert recorder.failed is not None and "No space left" in recorder.failed


def test_unwritable_place_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    recorder = CallRecorder(blocker / "sub" / "call.wav")
    recorder.bot_frame(SILENCE_FRAME)
    recorder.close()
    assert recorder.failed


async def test_paced_writer_sends_one_frame_per_tick_and_silence_when_idle():
    sent: list[bytes] = []
    clock = FrameClock()
    writer = PacedWriter(sent.append)
    handle = clock.add(writer.tick)
    playback = writer.play(tone(5, 1234) + bytes(100))  # 5.3 frames: padded to 6
    assert await playback.done is True
    await asyncio.sleep(0.1)
    clock.remove(handle)
    await clock.close()
    frames = FrameParser().receive_data(b"".join(sent))
    assert all(f.kind is Kind.AUDIO and len(f.payload) == FRAME_BYTES for f in frames)
    voiced = [f for f in frames if any(f.payload)]
    assert len(voiced) == 5  # the sixth frame is 100 bytes of silence + padding
    assert len(frames) > 7  # silence keeps flowing after the prompt


async def test_frame_clock_keeps_real_time_over_a_second():
    """50 ticks a second on an absolute timeline (Asterisk plays frames as they arrive)."""
    clock = FrameClock()
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    loop = asyncio.get_running_loop()
    start = loop.time()
    clock.add(tick)
    await asyncio.sleep(1.0)
    elapsed = loop.time() - start
    await clock.close()
    assert abs(ticks - elapsed * 50) <= 3


async def test_interrupt_drops_the_prompt_at_once():
    sent: list[bytes] = []
    writer = PacedWriter(sent.append)
    playback = writer.play(tone(50, 999))
    writer.tick()
    writer.tick()
    writer.interrupt()
    writer.tick()
    assert await playback.done is False
    frames = FrameParser().receive_data(b"".join(sent))
    assert [any(f.payload) for f in frames] == [True, True, False]
