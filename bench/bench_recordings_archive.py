"""How much `callbot recordings compress` saves, and what it costs in CPU (issue 14 item 4).

    .venv/bin/python bench/bench_recordings_archive.py            # 5 calls of ~140 s
    .venv/bin/python bench/bench_recordings_archive.py --calls 20 --seconds 60

Each call goes through the real recorder (callbot/call/recording.py) as a live call writes
it: the bot's prompts (prompts/audio, espeak-ng's Vietnamese voice) on the right, a scripted
caller's answers (callbot/simulation/speech, espeak-ng too) on the left, the 20 ms tick
between them. The repo holds no human call audio, so the figures are for synthetic speech in
two line conditions: "silent line" is digital silence between utterances (what the
simulator's calls record), "line hiss" adds Gaussian noise (sigma 30 LSB, about -60 dBFS)
on the caller's channel, closer to a real trunk. FLAC keeps every sample either way; the
hiss costs ratio. CPU is time.process_time() of compress_file (read the WAV, encode,
fsync, rename, decode back and compare), per minute of call.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callbot.call.recording import CallRecorder  # noqa: E402
from callbot.recordings_archive import compress_file, read_flac, read_wav  # noqa: E402
from callbot.speech.wav import read_wav_8k  # noqa: E402
from telephony.audio_format import FRAME_BYTES, SAMPLE_RATE  # noqa: E402

PROMPTS = sorted((ROOT / "prompts" / "audio").glob("*.wav"))
ANSWERS = sorted((ROOT / "callbot" / "simulation" / "speech" / "audio").glob("*.wav"))
GAP_FRAMES = 30  # 0.6 s of nobody speaking between turns


def record_call(path: Path, seconds: float, rng: random.Random, hiss: float) -> float:
    """One call of about ``seconds``: prompt, gap, answer, gap, …; its length in seconds."""
    noise = np.random.default_rng(rng.randrange(1 << 30))
    recorder = CallRecorder(path)
    silence = bytes(FRAME_BYTES)

    def caller(pcm: bytes) -> bytes:
        if not hiss:
            return pcm
        samples = np.frombuffer(pcm, "<i2").astype(np.int32)
        samples += noise.normal(0, hiss, len(samples)).round().astype(np.int32)
        return np.clip(samples, -32768, 32767).astype("<i2").tobytes()

    frames = 0
    while frames * 0.02 < seconds:
        bot = read_wav_8k(rng.choice(PROMPTS))
        for start in range(0, len(bot), FRAME_BYTES):
            recorder.caller_audio(caller(silence))
            recorder.bot_frame(bot[start : start + FRAME_BYTES].ljust(FRAME_BYTES, b"\0"))
            frames += 1
        answer = read_wav_8k(rng.choice(ANSWERS))
        gap = caller(silence * GAP_FRAMES)
        speech = caller(answer + bytes(-len(answer) % FRAME_BYTES)) + gap
        for start in range(0, len(speech), FRAME_BYTES):
            recorder.caller_audio(speech[start : start + FRAME_BYTES])
            recorder.bot_frame(silence)
            frames += 1
    recorder.close()
    return recorder.duration_ms / 1000


def measure(folder: Path, calls: int, seconds: float, hiss: float) -> dict[str, float]:
    rng = random.Random(1022)
    wav_bytes = flac_bytes = 0
    audio_s = cpu_s = 0.0
    for n in range(calls):
        wav = folder / f"call{n}.wav"
        audio_s += record_call(wav, seconds, rng, hiss)
        samples = read_wav(wav).samples
        wav_bytes += wav.stat().st_size
        started = time.process_time()
        flac_bytes += compress_file(wav, wav.with_suffix(".flac"))
        cpu_s += time.process_time() - started
        assert np.array_equal(read_flac(wav.with_suffix(".flac")).samples, samples)
    return {
        "audio_s": audio_s,
        "wav_mb": wav_bytes / 1e6,
        "flac_mb": flac_bytes / 1e6,
        "ratio": wav_bytes / flac_bytes,
        "cpu_s_per_call_min": cpu_s / (audio_s / 60),
        "flac_kb_per_s": flac_bytes / audio_s / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=140.0, help="about this long each")
    args = parser.parse_args()
    print(f"{args.calls} calls of ~{args.seconds:.0f} s, {SAMPLE_RATE} Hz 16-bit stereo WAV")
    print(f"{'line':<12} {'audio':>8} {'WAV':>8} {'FLAC':>8} {'ratio':>7} {'FLAC':>10}  CPU")
    for name, hiss in (("silent line", 0.0), ("line hiss", 30.0)):
        with tempfile.TemporaryDirectory() as folder:
            r = measure(Path(folder), args.calls, args.seconds, hiss)
        print(
            f"{name:<12} {r['audio_s']:>7.0f}s {r['wav_mb']:>6.1f}MB {r['flac_mb']:>6.1f}MB "
            f"{r['ratio']:>5.2f}:1 {r['flac_kb_per_s']:>5.1f} kB/s "
            f"{r['cpu_s_per_call_min'] * 1000:>6.1f} ms/call-min"
        )
        per_hour = r["flac_kb_per_s"] * 140 * 3600 / 1e6
        cores = r["cpu_s_per_call_min"] * 140 / 60  # CPU-s per call × 1 call/s
        print(
            f"{'':<12} at 3,600 calls/h of 140 s: {per_hour:.1f} GB/h of FLAC (WAV 16.1), "
            f"{cores:.2f} of a core to keep up"
        )


if __name__ == "__main__":
    main()
