"""CPU per utterance of Whisper's log-mel front end: faster-whisper's FeatureExtractor
against the engine's own (callbot/speech/asr/log_mel.py), same features.

    .venv/bin/python bench/bench_log_mel.py [--seconds 3] [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faster_whisper.feature_extractor import FeatureExtractor

from callbot.speech.asr.log_mel import LogMel


def cpu_ms(fn, audio: np.ndarray, repeats: int) -> list[float]:
    fn(audio)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn(audio)
        times.append(1000 * (time.process_time() - start))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    reference = FeatureExtractor()
    ours = LogMel(reference.mel_filters)
    audio = np.random.default_rng(0).normal(0, 0.1, int(args.seconds * 16000)).astype(np.float32)
    diff = float(np.abs(reference(audio) - ours(audio)).max())
    print(f"{args.seconds:.1f} s utterance, {args.repeats} runs each; max |difference| {diff:.1e}")
    for name, fn in (("faster-whisper FeatureExtractor", reference), ("callbot LogMel", ours)):
        times = sorted(cpu_ms(fn, audio, args.repeats))
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"  {name:32} CPU median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
