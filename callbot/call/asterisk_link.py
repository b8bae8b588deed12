"""The callbot's link to Asterisk's manager interface (AMI), when one is configured.

One AMI connection per callbot process carries three things: the queue watcher (are
operators free? for hand-back and the dashboard), the caller directory (the dialplan's
``UserEvent(CallbotCall…)`` ties an AudioSocket UUID to its channel and caller number),
and, in ``rules`` mode, the overflow controller that withdraws waiting callers to the bot.
Without AMI the bot still answers calls; tickets just lack the caller's number and the
bot cannot hand back.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from callbot.config import AmiSettingsSection
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

OperatorReached = Callable[[str, str], Awaitable[object]]  # call id, operator name


class AsteriskLink:
    def __init__(
        self, settings: AmiSettingsSection, on_operator_reached: OperatorReached | None = None
    ) -> None:
        self.settings = settings
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
        # retry=True: Asterisk may come up after us; calls are answered meanwhile.
        await self.client.connect(retry=True)
        self.overflow.start()
        log.info("AMI: queue %s, overflow mode %s", self.settings.queue, self.overflow.mode)

    async def stop(self) -> None:
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

        The variable must be set before the hangup frame, or the dialplan may test it
        first. Returns False when the channel is unknown or AMI refused.
        """
        channel = caller.channel if isinstance(caller, CallerInfo) else None
        if not channel:
            log.warning("call %s: hand-back without a known channel", call_id)
            return False
        try:
            await self.client.set_var(channel, HANDBACK_VARIABLE, "1")
        except (AmiError, TimeoutError, ConnectionError) as error:
            log.warning("call %s: could not mark hand-back: %s", call_id, error)
            return False
        self._watch_handed_back(channel, call_id)
        return True

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
