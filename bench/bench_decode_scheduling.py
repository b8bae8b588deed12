"""Decode scheduling under a queue: first come first served vs earliest deadline first.

A burst like the one that hurts at load: every decode slot is busy (two closed answers
decoding), then a few callers finish long free-text answers (a description, ~10 s) a
moment before several others finish short closed answers (yes/no, scored with the
question's choices). The order of the queue decides who waits. Prints, per policy and
answer kind, the latency from end of answer to result (median / p95 / max): what a caller
waits for beyond the endpointer.

    .venv/bin/python bench/bench_decode_scheduling.py [--rounds 5] [--long 2] [--short 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import callbot.speech.asr.whisper as whisper_module  # noqa: E402
from callbot.call.metrics import percentile  # noqa: E402
from callbot.config import AsrSettings  # noqa: E402
from callbot.nlu.candidates import CHOICES  # noqa: E402
from callbot.speech.asr.factory import build_engine  # noqa: E402
from callbot.speech.asr.scheduling import decode_deadline  # noqa: E402
from callbot.speech.wav import read_wav_8k  # noqa: E402

CLIPS = ROOT / "callbot" / "simulation" / "speech" / "audio"


def first_come_first_served(now: float, audio_seconds: float, closed: bool) -> float:
    return now  # what a plain thread pool does


async def one_burst(engine, long_pcm: bytes, short: list[bytes], n_long: int, n_short: int):
    async def timed(kind: str, pcm: bytes, choices) -> tuple[str, float]:
        start = time.perf_counter()
        await engine.transcribe(pcm, choices)
        return kind, time.perf_counter() - start

    # The two slots taken (not counted), then the long answers, then the short ones.
    busy = [asyncio.create_task(timed("busy", short[0], CHOICES["yes_no"])) for _ in range(2)]
    await asyncio.sleep(0.01)
    jobs = [asyncio.create_task(timed("free text", long_pcm, None)) for _ in range(n_long)]
    await asyncio.sleep(0.01)  # the long answers ended a moment earlier
    jobs += [
        asyncio.create_task(timed("closed", short[i % len(short)], CHOICES["yes_no"]))
        for i in range(n_short)
    ]
    await asyncio.gather(*busy)
    return await asyncio.gather(*jobs)


async def main(rounds: int, n_long: int, n_short: int) -> None:
    clips = sorted((read_wav_8k(p) for p in CLIPS.glob("*.wav")), key=len)
    short = clips[:4]
    long_pcm = b"".join(clips[-6:])[: 10 * 16000]
    print(
        f"burst: {n_long} free-text answers of {len(long_pcm) / 16000:.1f} s, then {n_short} "
        f"closed answers of {statistics.mean(len(c) for c in short) / 16000:.1f} s; "
        f"{rounds} rounds; load average {os.getloadavg()[0]:.2f}"
    )
    engine = build_engine(AsrSettings(engine="whisper"))
    await one_burst(engine, long_pcm, short, 1, 2)  # warm up
    print(f"{'policy':<28} {'answer':<10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, policy in (
        ("first come, first served", first_come_first_served),
        ("earliest deadline first", decode_deadline),
    ):
        whisper_module.decode_deadline = policy
        results: dict[str, list[float]] = {}
        for _ in range(rounds):
            for kind, seconds in await one_burst(engine, long_pcm, short, n_long, n_short):
                results.setdefault(kind, []).append(seconds)
        for kind, latencies in sorted(results.items()):
            print(
                f"{name:<28} {kind:<10} {statistics.median(latencies) * 1000:>10.0f} "
                f"{percentile(latencies, 95) * 1000:>8.0f} {max(latencies) * 1000:>8.0f}"
            )
    whisper_module.decode_deadline = decode_deadline
    await engine.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--long", type=int, default=2)
    parser.add_argument("--short", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.long, args.short))
