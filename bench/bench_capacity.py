"""Capacity on this machine: the highest concurrency with p95 turn latency ≤ 800 ms and no
late audio frames, and the calls/hour/core it implies.

A thin wrapper round `callbot loadtest --capacity` that waits for the machine to be quiet
(1-minute load average under --max-load, since other work on a shared machine makes the
frame clock late for reasons that are not the callbot's) and records the load average
before and after next to the figures.

    .venv/bin/python bench/bench_capacity.py [--engine whisper|vosk] [--levels 8,16,24]
        [--window 90] [--scripts keypad-essentials=3,speech-first=1] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wait_for_quiet(max_load: float, patience_s: float) -> float:
    deadline = time.monotonic() + patience_s
    while True:
        load = os.getloadavg()[0]
        if load <= max_load or time.monotonic() > deadline:
            return load
        print(f"bench: load average {load:.2f} > {max_load}; waiting", file=sys.stderr)
        time.sleep(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="whisper", choices=["whisper", "vosk"])
    parser.add_argument("--levels", default="4,8,16,24,32,48,64,96")
    parser.add_argument("--window", type=float, default=90.0)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--scripts", default="keypad-essentials=1,speech-first=1")
    parser.add_argument("--late-tolerance", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-load", type=float, default=0.7)
    parser.add_argument("--patience", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args, extra = parser.parse_known_args()
    out = args.out / f"capacity-{args.engine}-{time.strftime('%Y%m%d-%H%M%S')}"
    load_before = wait_for_quiet(args.max_load, args.patience)
    command = [
        sys.executable, "-m", "callbot", "loadtest", "--capacity",
        "--engine", args.engine, "--levels", args.levels, "--window", str(args.window),
        "--settle", str(args.settle), "--scripts", args.scripts,
        "--late-tolerance", str(args.late_tolerance), "--workers", str(args.workers),
        "--out", str(out), *extra,
    ]  # fmt: skip
    started = time.time()
    code = subprocess.call(command, cwd=ROOT)
    record = {
        "command": command[2:],
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "minutes": round((time.time() - started) / 60, 1),
        "cpus": os.cpu_count(),
    }
    (out / "machine.json").write_text(json.dumps(record, indent=2))
    print(f"bench: load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return code


if __name__ == "__main__":
    sys.exit(main())
