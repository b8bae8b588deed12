"""Whisper log-mel features: faster-whisper's extractor vs callbot.speech.asr.features.

The engine's input as a call delivers it: the simulated callers' 8 kHz clips
(callbot/simulation/speech/audio), upsampled to 16 kHz, cut to 1, 2, 3 and 4 s. The two
front ends run in alternating blocks of rounds on the same clip, so load from other work
on the machine hits both alike. Prints ms per call (median, p95 of wall time), CPU ms per
call (process CPU time over the blocks, which counts numpy's BLAS threads, spin-waiting
included) and the largest difference between the two outputs. ``--busy N`` keeps N other
processes spinning meanwhile, as decodes keep the CPUs busy at load.

    .venv/bin/python bench/bench_features.py [--rounds 300] [--n-mels 80] [--busy 2] [--only P]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callbot.call.metrics import percentile  # noqa: E402
from callbot.speech.asr.features import log_mel  # noqa: E402
from callbot.speech.asr.upsample import pcm16_to_float, upsample_8k_to_16k  # noqa: E402
from callbot.speech.wav import read_wav_8k  # noqa: E402

CLIPS = ROOT / "callbot" / "simulation" / "speech" / "audio"
SECONDS = (1.0, 2.0, 3.0, 4.0)


def utterance(seconds: float) -> np.ndarray:
    """Real speech at 16 kHz, ``seconds`` long: the clips end to end, cut to length."""
    audio = np.concatenate(
        [upsample_8k_to_16k(pcm16_to_float(read_wav_8k(p))) for p in sorted(CLIPS.glob("*.wav"))]
    )
    return np.ascontiguousarray(audio[: int(seconds * 16_000)])


def spin(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(
    paths: dict[str, Callable[[np.ndarray], np.ndarray]], audio: np.ndarray, rounds: int
) -> dict[str, tuple[list[float], float]]:
    """Per path: wall ms of each call, and process CPU ms per call."""
    walls: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, float] = dict.fromkeys(paths, 0.0)
    block = 25
    for _ in range(max(1, rounds // block)):
        for name, fn in paths.items():
            started = time.process_time()
            for _ in range(block):
                wall = time.perf_counter()
                fn(audio)
                walls[name].append((time.perf_counter() - wall) * 1e3)
            cpu[name] += (time.process_time() - started) * 1e3
    return {name: (walls[name], cpu[name] / len(walls[name])) for name in paths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--n-mels", type=int, default=80)
    parser.add_argument("--busy", type=int, default=0, help="spinning processes meanwhile")
    parser.add_argument(
        "--only", choices=["faster-whisper", "features.log_mel"], help="time one path alone"
    )
    args = parser.parse_args()

    from faster_whisper.feature_extractor import FeatureExtractor

    extractor = FeatureExtractor(feature_size=args.n_mels)
    paths: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "faster-whisper": extractor,
        "features.log_mel": lambda audio: log_mel(audio, args.n_mels),
    }
    if args.only:  # alone: no BLAS threads left spinning by the other path's block
        paths = {args.only: paths[args.only]}
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(args.busy)]
    for process in spinners:
        process.start()
    print(
        f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}; "
        f"{args.rounds} rounds per length and path; {args.busy} busy processes"
    )
    print(f"{'audio':>6} {'path':<17} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} {'max diff':>9}")
    try:
        for seconds in SECONDS:
            audio = utterance(seconds)
            diff = float(np.max(np.abs(log_mel(audio, args.n_mels) - extractor(audio))))
            for fn in paths.values():  # warm caches and BLAS threads
                for _ in range(10):
                    fn(audio)
            for name, (walls, cpu) in measure(paths, audio, args.rounds).items():
                shown = "-" if name == "faster-whisper" else f"{diff:.1e}"
                print(
                    f"{seconds:>5.0f}s {name:<17} {statistics.median(walls):>9.3f} "
                    f"{percentile(walls, 95):>7.3f} {cpu:>7.3f} {shown:>9}"
                )
    finally:
        stop.set()
        for process in spinners:
            process.join()


if __name__ == "__main__":
    main()
