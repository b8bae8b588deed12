"""The decode's thread count reaches numpy's BLAS even though numpy was imported first
(the server imports it long before the ASR settings are read)."""

from __future__ import annotations

import os
import subprocess
import sys

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
