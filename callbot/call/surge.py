"""Surge mode: when the bot itself nears its capacity, new calls get a short script (place
and callback number only), so each caller holds a slot for less time and more callers are
answered at all; a person calls every one of them back.

On and off automatically with hysteresis (on at ``on_at`` calls in progress, off only once
back down to ``off_at``), so a load hovering at the threshold does not flip the script
call by call; a supervisor can force it on or off, or give it back to the automatic rule.
Every change is logged and kept (``changes``) for the load-test report and the dashboard.
Calls already in progress keep the script they started with.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from callbot.call.script import Script
from callbot.speech.pieces import Digits, Piece, Prompt

log = logging.getLogger(__name__)

SHORT_SLOTS = ("place", "callback_number")
SURGE_GREETING = "surge_greeting"
# "Nhân viên sẽ gọi lại bạn sau khoảng" + the hours as one digit + "giờ nữa."
SURGE_ESTIMATE = "surge_estimate"
SURGE_ESTIMATE_HOURS = "surge_estimate_hours"
MAX_SPOKEN_HOURS = 9  # one spoken digit; beyond that no figure is said (it would not help)
CHANGES_KEPT = 1000


class SurgeOverride(StrEnum):
    AUTO = "auto"
    ON = "on"
    OFF = "off"


@dataclass(frozen=True)
class SurgeChange:
    at: float  # wall-clock seconds
    on: bool
    reason: str  # "auto: 120 of 140 calls" / "supervisor …"
    calls: int


def callback_estimate_hours(
    backlog: int | None, operators: int | None, callbacks_per_operator_hour: float
) -> int | None:
    """Whole hours (rounded up) until a person calls back a caller joining the backlog of
    open callbacks now, at the rate the operators on duty work through it; None when a
    figure would not be honest: nobody on duty, an unknown backlog, or beyond
    ``MAX_SPOKEN_HOURS``."""
    if backlog is None or not operators or operators < 1 or callbacks_per_operator_hour <= 0:
        return None
    hours = math.ceil((backlog + 1) / (operators * callbacks_per_operator_hour))
    return hours if hours <= MAX_SPOKEN_HOURS else None


def surge_greeting(hours: int | None) -> tuple[Piece, ...]:
    """The short greeting, with the callback estimate only when there is an honest one."""
    if hours is None:
        return (Prompt(SURGE_GREETING),)
    return (
        Prompt(SURGE_GREETING),
        Prompt(SURGE_ESTIMATE),
        Digits(str(hours)),
        Prompt(SURGE_ESTIMATE_HOURS),
    )


def short_script(script: Script, hours: int | None = None) -> Script:
    """The same script asking only where the caller is and how to call them back, both
    required; the readback, goodbye and hand-back stay as they are. ``hours``: the
    callback estimate said in the greeting (None: no figure)."""
    questions = tuple(
        dataclasses.replace(q, required=True) for q in script.questions if q.slot in SHORT_SLOTS
    )
    missing = set(SHORT_SLOTS) - {q.slot for q in questions}
    if missing:
        raise ValueError(f"the script has no question for {sorted(missing)}")
    return dataclasses.replace(script, greeting=surge_greeting(hours), questions=questions)


class SurgeMode:
    def __init__(
        self,
        max_calls: int,
        *,
        on_fraction: float = 0.9,
        off_fraction: float = 0.75,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_calls < 1 or not 0 < off_fraction < on_fraction <= 1:
            raise ValueError("need max_calls >= 1 and 0 < off_fraction < on_fraction <= 1")
        self.max_calls = max_calls
        self.on_at = max(1, round(max_calls * on_fraction))
        self.off_at = min(self.on_at - 1, round(max_calls * off_fraction))
        self.override = SurgeOverride.AUTO
        self._auto_on = False
        self._clock = clock
        self.changes: deque[SurgeChange] = deque(maxlen=CHANGES_KEPT)
        self.change_count = 0  # all changes since start (``changes`` keeps the latest)

    @property
    def on(self) -> bool:
        if self.override is SurgeOverride.AUTO:
            return self._auto_on
        return self.override is SurgeOverride.ON

    def observe(self, calls_in_progress: int) -> bool:
        """Feed the current load (at each new call); returns whether surge mode is on."""
        before = self.on
        if not self._auto_on and calls_in_progress >= self.on_at:
            self._auto_on = True
        elif self._auto_on and calls_in_progress <= self.off_at:
            self._auto_on = False
        if self.on != before:
            self._record(f"auto: {calls_in_progress} of {self.max_calls} calls", calls_in_progress)
        return self.on

    def set_override(self, override: SurgeOverride, who: str, calls_in_progress: int) -> bool:
        """A supervisor's switch (``who``: their account name, not a caller's data);
        returns whether surge mode changed."""
        before = self.on
        self.override = override
        log.info("surge mode set to %s by %s", override.value, who)
        if self.on != before:
            self._record(f"supervisor {who}: {override.value}", calls_in_progress)
        return self.on != before

    def script_for_new_call(self, script: Script, calls_in_progress: int) -> Script:
        return short_script(script) if self.observe(calls_in_progress) else script

    def _record(self, reason: str, calls: int) -> None:
        change = SurgeChange(self._clock(), self.on, reason, calls)
        self.changes.append(change)
        self.change_count += 1
        log.warning("surge mode %s (%s)", "ON" if change.on else "off", reason)
