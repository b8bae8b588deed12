"""Callers who asked for a person while none was free, and the operators who free up.

Each operator who becomes free is offered to **one** caller, the one who asked first, and
only if that operator is still free a moment later. Asterisk rings a caller already waiting
in the queue the instant an operator frees up; handing our caller back then would only
put them behind that caller with nobody to answer (issue 11: one freed operator used to
hand back every caller who had asked). The dialplan's hand-back ``Queue()`` has a timeout
and a callback message, so a caller who still loses the race does not wait without end.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

# Long enough for Asterisk to ring a waiting caller (the member then shows as ringing or in
# use), short enough that our caller hears the transfer promptly.
SETTLE_S = 0.5


class OperatorView(Protocol):
    """Whether a human could take the call now (telephony.queue_watcher.QueueWatcher)."""

    def operator_available(self, queue: str) -> bool: ...

    def on_operator_free(self, callback: Callable[[str, object], object]) -> Callable[[], None]: ...


class HandbackQueue:
    def __init__(self, operators: OperatorView, queue: str, *, settle_s: float = SETTLE_S) -> None:
        self.operators = operators
        self.queue = queue
        self.settle_s = settle_s
        self._waiting: OrderedDict[str, Callable[[], None]] = OrderedDict()
        self._unsubscribe: Callable[[], None] | None = None
        self.offered = 0  # operators offered to a waiting caller
        self.lost_races = 0  # operators taken by someone else before we could offer them

    def attach(self) -> None:
        self._unsubscribe = self.operators.on_operator_free(self._operator_freed)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def ask(self, call_id: str, offer: Callable[[], None]) -> None:
        """``call_id`` wants a person; ``offer()`` is called once when one is theirs.
        Asking again keeps the caller's place."""
        self._waiting.setdefault(call_id, offer)

    def withdraw(self, call_id: str) -> None:
        """The call ended or no longer waits."""
        self._waiting.pop(call_id, None)

    @property
    def waiting(self) -> list[str]:
        return list(self._waiting)

    async def _operator_freed(self, queue: str, member: object) -> None:
        if queue != self.queue or not self._waiting:
            return
        await asyncio.sleep(self.settle_s)
        # Asked of the live queue state, not of ``member``: a status event replaces the
        # member's record, so the object we were given may be stale already.
        if not self.operators.operator_available(queue):
            self.lost_races += 1
            log.info("operator freed in %s was taken before a hand-back", queue)
            return
        if not self._waiting:
            return
        call_id, offer = self._waiting.popitem(last=False)
        self.offered += 1
        log.info("operator free in %s: offered to call %s", queue, call_id)
        offer()
