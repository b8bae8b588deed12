"""The serving process's interpreter, set up once start-up is done.

Two CPython defaults suit a batch job, not a loop that must send every call's frame each
20 ms beside decode threads:

- A full garbage collection scans every tracked object, on whichever thread happens to
  allocate, the event loop's included. Start-up leaves ~97,000 long-lived objects (model
  wrappers, tokenizer and cue tables, prompts, templates); a gen-2 pass over them took
  13–55 ms on the loop thread in load tests (2026-12-03), past the frame clock's 10 ms
  budget: the one at 36 ms, as calls ramped up, was followed at once by a late tick,
  which is a late frame for every call on the line. Frozen, the server's gen-2 passes
  took 5.5–5.7 ms at 100 calls.
- A thread waiting for the GIL asks for it after the switch interval (5 ms), and the loop
  waking for a tick may wait that long, more than once, behind decode threads running
  Python between their native calls. 1 ms bounds that wait. Measured, it made no
  difference: 150 speech-first calls on 2 vCPU gave 12 late ticks at either setting in a
  later pair of runs (an earlier pair's 4 against 7 was spread); kept as harmless
  (docs/performance.md, "The GIL's switch interval").
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def prepare_serving_process() -> int:
    """Freeze everything alive now out of the collector's reach and shorten the GIL's
    switch interval; returns how many objects were frozen.

    Frozen objects are still freed by reference counting; only a cycle among them would
    outlive its use, and start-up's objects last as long as the process anyway. For serving
    processes only: a test process that starts many bots would keep each one's cycles."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
