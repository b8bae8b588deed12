"""The AMI actions the callbot sends, as typed methods over :meth:`AmiClient.action`.

A mixin of :class:`telephony.ami_client.AmiClient`: each method names the action's fields
once, so callers never spell AMI keys themselves.
"""

from __future__ import annotations

from telephony.ami_protocol import FieldsArg, Packet


class AmiActions:
    # Provided by AmiClient.
    async def action(
        self, name: str, fields: FieldsArg = None, *, timeout: float | None = None
    ) -> Packet:
        raise NotImplementedError

    async def list_action(
        self, name: str, fields: FieldsArg = None, *, timeout: float | None = None
    ) -> list[Packet]:
        raise NotImplementedError

    async def ping(self, *, timeout: float | None = None) -> Packet:
        return await self.action("Ping", timeout=timeout)

    async def queue_status(self, queue: str | None = None) -> list[Packet]:
        """QueueParams / QueueMember / QueueEntry events for one queue (or all)."""
        return await self.list_action("QueueStatus", {"Queue": queue} if queue else None)

    async def queue_withdraw_caller(
        self, queue: str, caller_channel: str, withdraw_info: str | None = None
    ) -> Packet:
        """Make ``Queue()`` return for this caller with ``QUEUESTATUS=WITHDRAW``."""
        fields = {"Queue": queue, "Caller": caller_channel}
        if withdraw_info is not None:
            fields["WithdrawInfo"] = withdraw_info
        return await self.action("QueueWithdrawCaller", fields)

    async def set_var(self, channel: str, name: str, value: str) -> Packet:
        """Set a channel variable, e.g. ``CALLBOT_HANDBACK=1`` before the bot hangs up."""
        return await self.action("Setvar", {"Channel": channel, "Variable": name, "Value": value})

    async def set_global(self, name: str, value: str) -> Packet:
        """Setvar without a Channel sets a global variable (the dialplan reads it as
        ``${GLOBAL(NAME)}``); same write class ``call`` as a channel variable."""
        return await self.action("Setvar", {"Variable": name, "Value": value})

    async def queue_summary(self, queue: str | None = None) -> list[Packet]:
        """QueueSummary events (LoggedIn, Available, Callers, HoldTime, TalkTime,
        LongestHoldTime) for one queue or all; needs no write class."""
        return await self.list_action("QueueSummary", {"Queue": queue} if queue else None)

    async def hangup(self, channel: str, cause: int | None = None) -> Packet:
        fields: dict[str, object] = {"Channel": channel}
        if cause is not None:
            fields["Cause"] = cause
        return await self.action("Hangup", fields)

    async def mix_monitor_start(
        self, channel: str, file: str, options: str | None = None
    ) -> Packet:
        """Start recording the channel (needs write class ``system``)."""
        fields: dict[str, object] = {"Channel": channel, "File": file}
        if options:
            fields["options"] = options
        return await self.action("MixMonitor", fields)

    async def mix_monitor_stop(self, channel: str, mixmonitor_id: str | None = None) -> Packet:
        fields: dict[str, object] = {"Channel": channel}
        if mixmonitor_id:
            fields["MixMonitorID"] = mixmonitor_id
        return await self.action("StopMixMonitor", fields)
