"""Overflow controller: decides when a caller waiting for a human goes to the bot instead.

Two modes (docs/asterisk/README.md shows the dialplan for each):

``observe``
    The dialplan alone decides: ``Queue(support,,,,20)`` returns on timeout (or when the
    queue is full / empty, per ``QUEUESTATUS``) and the next priorities run
    ``AudioSocket()``. The controller only watches and logs; it sends nothing.

``rules``
    The controller withdraws waiting callers with AMI ``QueueWithdrawCaller`` (Queue,
    Caller = the caller's channel); ``Queue()`` then returns with ``QUEUESTATUS=WITHDRAW``
    and the dialplan sends the call to the bot. Two rules, either may be off (None):

    * **max_wait_s** — no operator is available and the caller has waited at least
      ``max_wait_s``. While an operator is free the queue is moving, so we leave it alone.
    * **max_queue_len** — more than ``max_queue_len`` callers wait: the excess goes to the
      bot, **longest-waiting first**. They have already waited the most and, with every
      operator busy, the bot is their fastest answer; newer callers move up behind them.
      This rule holds whether or not an operator is free.

    A caller picked by both rules is withdrawn once, with reason ``max_wait``.

:func:`decide_withdrawals` is pure (state in, decisions out); :class:`OverflowController`
is the thin async runner that remembers what it already withdrew so no caller is
withdrawn twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from telephony.ami_client import AmiConnectionLost, AmiError, AmiException
from telephony.ami_protocol import Packet
from telephony.queue_watcher import QueueState, QueueWatcher

if TYPE_CHECKING:
    from telephony.ami_client import AmiClient

log = logging.getLogger(__name__)


class OverflowMode(StrEnum):
    OBSERVE = "observe"
    RULES = "rules"


@dataclass(frozen=True)
class OverflowRules:
    max_wait_s: float | None = 20.0
    max_queue_len: int | None = None

    def __post_init__(self) -> None:
        if self.max_wait_s is not None and self.max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0")
        if self.max_queue_len is not None and self.max_queue_len < 0:
            raise ValueError("max_queue_len must be >= 0")


@dataclass(frozen=True)
class Withdrawal:
    queue: str
    channel: str
    reason: str  # "max_wait" or "max_queue_len"
    wait_s: float


def decide_withdrawals(
    state: QueueState,
    rules: OverflowRules,
    now: float,
    already_withdrawn: Collection[str] = (),
) -> list[Withdrawal]:
    """Callers of ``state`` to withdraw now, longest-waiting first.

    ``already_withdrawn`` holds channels a withdrawal was already sent for; they are
    neither chosen again nor counted in the queue length (they are on their way out).
    """
    candidates = [c for c in state.callers_by_wait() if c.channel not in already_withdrawn]
    chosen: dict[str, Withdrawal] = {}
    if rules.max_wait_s is not None and state.available == 0:
        for c in candidates:
            if c.wait_s(now) >= rules.max_wait_s:
                chosen[c.channel] = Withdrawal(state.name, c.channel, "max_wait", c.wait_s(now))
    if rules.max_queue_len is not None:
        excess = len(candidates) - len(chosen) - rules.max_queue_len
        for c in candidates:
            if excess <= 0:
                break
            if c.channel not in chosen:
                chosen[c.channel] = Withdrawal(
                    state.name, c.channel, "max_queue_len", c.wait_s(now)
                )
                excess -= 1
    order = {c.channel: i for i, c in enumerate(candidates)}
    return sorted(chosen.values(), key=lambda w: order[w.channel])


class OverflowController:
    """Runs the overflow rules for one queue every ``interval_s`` and on each queue event."""

    def __init__(
        self,
        client: AmiClient,
        watcher: QueueWatcher,
        queue: str,
        mode: OverflowMode | str = OverflowMode.OBSERVE,
        rules: OverflowRules | None = None,
        *,
        interval_s: float = 1.0,
    ) -> None:
        self.client = client
        self.watcher = watcher
        self.queue = queue
        self.mode = OverflowMode(mode)
        self.rules = rules or OverflowRules()
        self.interval_s = interval_s
        # Channels we sent QueueWithdrawCaller for; forgotten once they leave the queue.
        self.withdrawn: set[str] = set()
        self.history: list[Withdrawal] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._unsubscribe: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    def start(self) -> None:
        if self._task is not None:
            return
        for name in ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon"):
            self._unsubscribe.append(self.client.subscribe(name, self._on_queue_event))
        self._task = asyncio.create_task(self._run(), name=f"overflow-{self.queue}")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_queue_event(self, packet: Packet) -> None:
        if packet.get("Queue") != self.queue:
            return
        if self.mode is OverflowMode.OBSERVE and packet.event == "QueueCallerAbandon":
            # Timeout and hang-up look the same here (no reason field); HoldTime helps.
            log.info(
                "queue %s: caller left after %ss (timeout or hang-up)",
                self.queue,
                packet.get("HoldTime"),
            )
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()
            try:
                await self.evaluate_once()
            except Exception:
                log.exception("overflow evaluation failed")

    async def evaluate_once(self) -> list[Withdrawal]:
        """Apply the rules once; return the withdrawals sent (empty in observe mode)."""
        async with self._lock:
            state = self.watcher.state(self.queue)
            # Forget callers that have left: their channel name will not come back.
            self.withdrawn &= set(state.callers)
            if self.mode is OverflowMode.OBSERVE:
                return []
            decisions = decide_withdrawals(state, self.rules, self.watcher.now(), self.withdrawn)
            sent = []
            for w in decisions:
                # Marked before sending: a second evaluation during the await must not
                # pick the same caller.
                self.withdrawn.add(w.channel)
                try:
                    await self.client.queue_withdraw_caller(w.queue, w.channel)
                except AmiConnectionLost as exc:
                    # Not sent (or unknown): the resync after reconnect will show whether
                    # the caller is still waiting, and the rules will run again.
                    self.withdrawn.discard(w.channel)
                    log.warning("withdraw from %s not sent: %s", w.queue, exc)
                    break
                except AmiError as exc:
                    # E.g. the caller just left or was already withdrawn: don't retry.
                    log.info("withdraw from %s refused: %s", w.queue, exc.message)
                    continue
                except AmiException as exc:
                    log.warning("withdraw from %s uncertain: %s", w.queue, exc)
                    continue
                log.info(
                    "withdrew a caller from %s to the bot (%s, waited %.0f s)",
                    w.queue,
                    w.reason,
                    w.wait_s,
                )
                log.debug("withdrawn channel %s", w.channel)
                sent.append(w)
                self.history.append(w)
            return sent
