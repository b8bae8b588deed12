"""The serving process's heap, set up once start-up is done.

A full garbage collection scans every tracked object, and CPython runs it on whichever
thread happens to allocate, the event loop's included. Start-up leaves ~97,000 long-lived
objects (model wrappers, tokenizer and cue tables, prompts, templates); a gen-2 pass over
them took 13–55 ms on the loop thread in load tests (2026-12-03), past the frame clock's
10 ms budget: the one at 36 ms, as calls ramped up, was followed at once by a late tick,
which is a late frame for every call on the line. Frozen, the server's gen-2 passes took
5.5–5.7 ms at 100 calls.
"""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> int:
    """Move everything alive now out of the collector's reach; returns how many objects.

    Frozen objects are still freed by reference counting; only a cycle among them would
    outlive its use, and start-up's objects last as long as the process anyway. For serving
    processes only: a test process that starts many bots would keep each one's cycles."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
