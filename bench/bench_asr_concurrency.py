"""Whisper under concurrent utterances: how decodes queue when several callers finish
speaking at once, for a few (workers, threads) settings on this machine.

Prints, per setting and burst size, the latency (end of utterance → text) median / p95 /
max and the decode throughput. The call server's turn latency at load is dominated by this.

    .venv/bin/python bench/bench_asr_concurrency.py [--bursts 1,4,8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from callbot.call.metrics import percentile
from callbot.config import AsrSettings
from callbot.speech.asr.factory import build_engine
from callbot.speech.wav import read_wav_8k

CLIPS = Path(__file__).parents[1] / "callbot" / "simulation" / "speech" / "audio"
SETTINGS = [(1, 2), (2, 1), (1, 1)]  # (workers, threads per decode)


async def burst(engine, clips: list[bytes], size: int) -> list[float]:
    async def one(pcm: bytes) -> float:
        stream = engine.open_stream()
        stream.accept(pcm)
        start = time.perf_counter()
        await stream.finish()
        return time.perf_counter() - start

    return list(await asyncio.gather(*(one(clips[i % len(clips)]) for i in range(size))))


async def main(bursts: list[int], rounds: int) -> None:
    clips = [read_wav_8k(p) for p in sorted(CLIPS.glob("*.wav"))]
    audio_s = statistics.mean(len(c) / 16000 for c in clips)
    print(f"{len(clips)} clips, mean {audio_s:.1f} s; load average {os.getloadavg()[0]:.2f}")
    print(
        f"{'workers×threads':<16} {'burst':>5} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
        f"{'decodes/s':>10}"
    )
    for workers, threads in SETTINGS:
        engine = build_engine(AsrSettings(engine="whisper", workers=workers, threads=threads))
        await burst(engine, clips, 2)  # warm up
        for size in bursts:
            latencies: list[float] = []
            start = time.perf_counter()
            for _ in range(rounds):
                latencies += await burst(engine, clips, size)
            wall = time.perf_counter() - start
            print(
                f"{workers}×{threads:<14} {size:>5} {statistics.median(latencies) * 1000:>10.0f} "
                f"{percentile(latencies, 95) * 1000:>8.0f} {max(latencies) * 1000:>8.0f} "
                f"{len(latencies) / wall:>10.1f}"
            )
        await engine.close()
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bursts", default="1,4,8")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main([int(b) for b in args.bursts.split(",")], args.rounds))
