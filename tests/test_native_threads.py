"""The decode's thread count reaches numpy's BLAS even though numpy was imported first
(the server imports it long before the ASR settings are read)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import numpy  # first, as in the server
from threadpoolctl import threadpool_info
from callbot.speech.asr.factory import pin_native_threads
before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
pin_native_threads(1)
after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
print(before, after)
"""


def test_blas_threads_are_capped_after_numpy_was_loaded():
    # A fresh process told nothing: numpy's OpenBLAS starts one thread per core.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "2"  # as on a 2-core box with nothing set
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    before, after = out.split("] [")
    assert before == "[2"  # the cap below is not a no-op
    assert after == "1]"


# A real decode in a fresh process: which threads spent the CPU, and at which nice value.
DECODE_SCRIPT = """
import asyncio, glob, os, sys
import numpy as np
from callbot.config import AsrSettings
from callbot.speech.asr.factory import build_engine

def threads():
    found = {}
    for task in glob.glob(f"/proc/{os.getpid()}/task/*"):
        try:  # a pool thread may exit between the listing and the read
            fields = open(task + "/stat").read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[int(task.rsplit("/", 1)[1])] = (int(fields[16]), int(fields[11]) + int(fields[12]))
    return found

engine = build_engine(AsrSettings(engine="whisper", decode_nice=int(sys.argv[1])))
before = threads()
speech = np.random.default_rng(0).normal(0, 3000, 8000 * 3).astype("<i2").tobytes()

async def decode():
    for _ in range(4):
        await engine.transcribe(speech)
    await engine.close()

asyncio.run(decode())
busy = {n for tid, (n, cpu) in threads().items() if cpu - before.get(tid, (0, 0))[1] > 1
        and tid != os.getpid()}
print(os.getpriority(os.PRIO_PROCESS, 0), sorted(busy))
"""


def _decode_in_fresh_process(nice: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", DECODE_SCRIPT, str(nice)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # the child's traceback, not its argv
    return done.stdout.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_decoding_threads_run_below_the_loops_priority():
    # The threads that spent the decode's CPU are lowered; the loop's thread is not.
    assert _decode_in_fresh_process(10) == "0 [10]"
    assert _decode_in_fresh_process(0) == "0 [0]"  # switched off: all at the same priority
