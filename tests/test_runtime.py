"""The serving process freezes its start-up heap, so a full collection skips it, and
shortens the GIL's switch interval."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# In a child process: freezing the pytest process would keep every later test's cycles.
CHILD = textwrap.dedent(
    """
    import gc
    import sys
    from callbot.runtime import SWITCH_INTERVAL_S, prepare_serving_process

    class Node:
        def __init__(self):
            self.me = self  # a cycle: only the collector could ever free it

    start_up = [Node() for _ in range(5000)]
    frozen = prepare_serving_process()
    assert frozen >= 5000, frozen
    assert sys.getswitchinterval() == SWITCH_INTERVAL_S < 0.005  # below the default
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(n) in tracked for n in start_up), "start-up objects still scanned"
    later = [Node() for _ in range(10)]
    del later
    assert gc.collect() >= 10, "objects made after start-up are collected as before"
    print("ok")
    """
)


def test_start_up_objects_leave_the_collector_and_later_cycles_are_still_freed():
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
