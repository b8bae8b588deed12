"""The callbot's link to Asterisk's manager interface (AMI), when one is configured.

One AMI connection per callbot process carries four things: the queue watcher (are
operators free? for hand-back and the dashboard), the caller directory (the dialplan's
``UserEvent(CallbotCall…)`` ties an AudioSocket UUID to its channel and caller number),
in ``rules`` mode the overflow controller that withdraws waiting callers to the bot, and
the variables the dialplan reads: a handed-back caller's ticket (call/handback_context.py)
and the queue's expected wait, a global refreshed from the watcher's live figures.
Without AMI the bot still answers calls; tickets just lack the caller's number and the
bot cannot hand back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from callbot.call.handback_context import (
    QUEUE_PRIO_VARIABLE,
    HandbackContext,
    QueueFigures,
    expected_wait_s,
    wait_variables,
)
from callbot.config import AmiSettingsSection
from callbot.tickets.model import Priority, Ticket
from callbot.tickets.store.base import StoreError
from telephony.ami_client import AmiClient, AmiError, AmiSettings
from telephony.ami_protocol import Packet
from telephony.correlation import CallerDirectory, CallerInfo
from telephony.overflow import OverflowController, OverflowRules
from telephony.queue_watcher import QueueWatcher

log = logging.getLogger(__name__)

HANDBACK_VARIABLE = "CALLBOT_HANDBACK"  # the dialplan requeues the caller when it is 1
# A handed-back caller still unanswered after this long was sent to the callback message
# by the dialplan's hand-back timeout; we stop watching for their AgentConnect.
HANDBACK_WATCH_S = 3600.0
HANDBACK_WATCH_MAX = 10_000

# The expected-wait global is recomputed this often and sent when it changed (and after
# every login: Asterisk forgets globals when it restarts).
WAIT_REFRESH_S = 15.0
# Operator answers counted over the longest of these windows the watcher has seen whole.
ANSWER_WINDOWS_S = (600, 300, 120, 60)
# A slow store must not keep a caller who asked for a person waiting: the hand-back then
# goes without the ticket's details.
CONTEXT_LOOKUP_S = 1.0

OperatorReached = Callable[[str, str], Awaitable[object]]  # call id, operator name
_AMI_FAILURES = (AmiError, TimeoutError, ConnectionError)


class TicketLookup(Protocol):
    """The ticket store, as far as the hand-back needs it."""

    async def get_ticket_for_call(self, call_id: str) -> Ticket | None: ...


class AsteriskLink:
    def __init__(
        self,
        settings: AmiSettingsSection,
        on_operator_reached: OperatorReached | None = None,
        tickets: TicketLookup | None = None,
        *,
        wait_refresh_s: float = WAIT_REFRESH_S,
    ) -> None:
        self.settings = settings
        self.tickets = tickets  # where a handed-back call's context is read
        self.wait_refresh_s = wait_refresh_s
        self.published_wait: list[tuple[str, str]] | None = None  # what Asterisk holds
        self._wait_task: asyncio.Task[None] | None = None
        # Called when a caller the bot handed back is answered by an operator (AgentConnect
        # on their channel): the ticket then leaves the callback queue.
        self.on_operator_reached = on_operator_reached
        # Channels handed back and not yet answered: channel → (call id, when).
        self._handed_back: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._unsubscribe_connect: Callable[[], None] = lambda: None
        self.client = AmiClient(
            AmiSettings(
                host=settings.host,
                port=settings.port,
                username=settings.username,
                secret=settings.secret,
            )
        )
        self.watcher = QueueWatcher(self.client, [settings.queue])
        self.callers = CallerDirectory()
        self.overflow = OverflowController(
            self.client,
            self.watcher,
            settings.queue,
            settings.overflow_mode,
            OverflowRules(max_wait_s=settings.max_wait_s, max_queue_len=settings.max_queue_len),
        )

    async def start(self) -> None:
        self.watcher.attach()
        self.callers.attach(self.client)
        self._unsubscribe_connect = self.client.subscribe("AgentConnect", self._agent_connected)
        self.client.add_resync_hook(self._forget_published_wait)
        # retry=True: Asterisk may come up after us; calls are answered meanwhile.
        await self.client.connect(retry=True)
        self.overflow.start()
        self._wait_task = asyncio.create_task(self._publish_wait_loop(), name="ami-wait")
        log.info("AMI: queue %s, overflow mode %s", self.settings.queue, self.overflow.mode)

    async def stop(self) -> None:
        if self._wait_task is not None:
            self._wait_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wait_task
        await self.overflow.stop()
        self._unsubscribe_connect()
        self.callers.detach()
        self.watcher.detach()
        await self.client.close()

    async def caller_known(self, call_id: str, caller: object) -> None:
        """A call was tied to its channel: start Asterisk's own recording if configured."""
        folder = self.settings.mixmonitor_dir
        if not folder or not isinstance(caller, CallerInfo) or not caller.channel:
            return
        try:
            await self.client.mix_monitor_start(caller.channel, f"{folder}/{call_id}.wav")
        except (AmiError, TimeoutError, ConnectionError) as error:
            log.warning("call %s: MixMonitor not started: %s", call_id, error)

    async def hand_back(self, call_id: str, caller: object | None) -> bool:
        """Mark the channel for requeueing; the session then sends the hangup frame.

        First the ticket's context (number, case type, place, callback number, summary,
        the operator's announcement), best effort: a hand-back without it still reaches a
        person. Then ``CALLBOT_HANDBACK=1``, which decides: it must be set before the
        hangup frame, or the dialplan may test it first. Returns False when the channel is
        unknown or AMI refused the flag.
        """
        channel = caller.channel if isinstance(caller, CallerInfo) else None
        if not channel:
            log.warning("call %s: hand-back without a known channel", call_id)
            return False
        context = await self._context(call_id)
        variables = context.channel_variables()
        if context.priority == Priority.EMERGENCY:  # issue 17: top of the queue, at once
            variables.append((QUEUE_PRIO_VARIABLE, str(self.settings.emergency_queue_prio)))
        # Sent together: the actions are pipelined on the one link (each its own ActionID).
        results = await asyncio.gather(
            *(self.client.set_var(channel, n, v) for n, v in variables),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        for error in failed:
            if not isinstance(error, _AMI_FAILURES):
                raise error
        if failed:  # names and values stay out of the log: they hold personal data
            log.warning(
                "call %s: %d of %d context variables not set: %s",
                call_id, len(failed), len(results), failed[0],
            )  # fmt: skip
        try:
            await self.client.set_var(channel, HANDBACK_VARIABLE, "1")
        except _AMI_FAILURES as error:
            log.warning("call %s: could not mark hand-back: %s", call_id, error)
            return False
        log.info("call %s: handed back with ticket %s", call_id, context.ticket_id)
        self._watch_handed_back(channel, call_id)
        return True

    async def _context(self, call_id: str) -> HandbackContext:
        if self.tickets is None:
            return HandbackContext(None)
        try:
            async with asyncio.timeout(CONTEXT_LOOKUP_S):
                ticket = await self.tickets.get_ticket_for_call(call_id)
        except (StoreError, TimeoutError) as error:
            log.warning("call %s: handed back without its ticket's details: %s", call_id, error)
            return HandbackContext(None)
        if ticket is not None and ticket.end_reason is not None:
            # An ended ticket is an earlier call's (a dialplan that reused a UUID): its
            # caller's details must not reach this caller's operator.
            return HandbackContext(None)
        return HandbackContext.from_ticket(ticket)

    # ── the expected wait, a global the dialplan reads ───────────────────────────────────

    def queue_figures(self, holdtime_s: float = 0.0) -> QueueFigures:
        state = self.watcher.state(self.settings.queue)
        now = datetime.now(UTC)
        answered, window = None, 0.0
        for window_s in ANSWER_WINDOWS_S:
            answered = self.watcher.operator_answered_since(now - timedelta(seconds=window_s))
            if answered is not None:
                window = float(window_s)
                break
        return QueueFigures(
            logged_in=state.logged_in,
            available=state.available,
            waiting=state.waiting,
            answered_recently=answered,
            window_s=window,
            holdtime_s=holdtime_s,
        )

    async def publish_wait(self) -> list[tuple[str, str]] | None:
        """Compute the expected wait and set the globals if they changed. Returns what
        was sent (None: nothing new)."""
        holdtime = 0.0
        with contextlib.suppress(*_AMI_FAILURES):
            for packet in await self.client.queue_summary(self.settings.queue):
                if packet.get("Queue") == self.settings.queue:
                    with contextlib.suppress(ValueError, TypeError):
                        holdtime = float(packet.get("HoldTime") or 0)
        variables = wait_variables(expected_wait_s(self.queue_figures(holdtime)))
        if variables == self.published_wait:
            return None
        for name, value in variables:
            await self.client.set_global(name, value)
        self.published_wait = variables
        log.info("expected wait in %s now %s s", self.settings.queue, variables[1][1] or "unknown")
        return variables

    async def _forget_published_wait(self) -> None:
        self.published_wait = None  # a (re)started Asterisk has no globals of ours

    async def _publish_wait_loop(self) -> None:
        while True:
            if self.client.connected:
                try:
                    await self.publish_wait()
                except _AMI_FAILURES as error:
                    log.warning("expected wait not published: %s", error)
            await asyncio.sleep(self.wait_refresh_s)

    def _watch_handed_back(self, channel: str, call_id: str) -> None:
        now = time.monotonic()
        self._handed_back[channel] = (call_id, now)
        self._handed_back.move_to_end(channel)
        while self._handed_back:
            _, (_, since) = next(iter(self._handed_back.items()))
            if len(self._handed_back) <= HANDBACK_WATCH_MAX and now - since < HANDBACK_WATCH_S:
                break
            self._handed_back.popitem(last=False)

    async def _agent_connected(self, packet: Packet) -> None:
        """AgentConnect: an operator answered a queue caller. If it is one the bot handed
        back, the caller reached a person and needs no callback."""
        channel = packet.get("Channel") or ""
        entry = self._handed_back.pop(channel, None)
        if entry is None or self.on_operator_reached is None:
            return
        operator = packet.get("MemberName") or packet.get("Interface") or "operator"
        try:
            await self.on_operator_reached(entry[0], operator)
        except Exception:
            log.exception("call %s: could not record that an operator answered", entry[0])
