"""Hand-back to a person, against the AMI test peer over TCP and a real SQLite store: one
caller per freed operator, in order of asking; never a transfer that cannot be made; a
handed-back ticket leaves the callback queue once an operator answers (AgentConnect)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from callbot.call.asterisk_link import HANDBACK_VARIABLE, AsteriskLink
from callbot.call.handback_queue import HandbackQueue
from callbot.config import AmiSettingsSection
from callbot.server import operator_reached
from callbot.tickets.model import CallEndReason, CallRecord, EventKind, utcnow
from callbot.tickets.store.factory import open_store
from telephony.ami_client import AmiClient, AmiSettings
from telephony.correlation import CallerInfo
from telephony.queue_watcher import QueueWatcher

try:
    from ami_server import AmiTestServer, FakeMember, FakeQueue
except ImportError:
    from tests.ami_server import AmiTestServer, FakeMember, FakeQueue

RINGING, IN_USE, NOT_IN_USE = 6, 2, 1


def busy_queue() -> FakeQueue:
    return FakeQueue(
        "support",
        members=[
            FakeMember("Tổng đài viên 1", "PJSIP/op1", status=IN_USE, in_call=True),
            FakeMember("Tổng đài viên 2", "PJSIP/op2", status=IN_USE, in_call=True),
        ],
        ringinuse=False,
    )


async def eventually(check, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_each_freed_operator_goes_to_one_caller_in_order_of_asking():
    async with AmiTestServer(queues=[busy_queue()]) as ami:
        client = AmiClient(AmiSettings(port=ami.port, secret=ami.secret))
        watcher = QueueWatcher(client, ["support"])
        watcher.attach()
        await client.connect()
        await eventually(lambda: watcher.state("support").logged_in == 2)
        handbacks = HandbackQueue(watcher, "support", settle_s=0.2)
        handbacks.attach()
        offered: list[str] = []
        for call in ("first", "second", "third"):
            handbacks.ask(call, lambda call=call: offered.append(call))
        handbacks.ask("first", lambda: offered.append("first again"))  # keeps its place
        try:
            # Operator 1 frees up: only the caller who asked first is offered them.
            await ami.set_member_status("support", "PJSIP/op1", NOT_IN_USE)
            await eventually(lambda: offered == ["first"])
            await asyncio.sleep(0.4)
            assert offered == ["first"]
            # The bot's caller takes the operator; then operator 2 frees, but a caller who
            # was waiting in Asterisk's queue is rung at once: no hand-back for that one.
            await ami.set_member_status("support", "PJSIP/op1", IN_USE)
            await ami.set_member_status("support", "PJSIP/op2", NOT_IN_USE)
            await ami.set_member_status("support", "PJSIP/op2", RINGING)
            await eventually(lambda: handbacks.lost_races == 1)
            assert offered == ["first"]
            # A caller who hung up meanwhile is not offered anyone.
            handbacks.withdraw("second")
            await ami.set_member_status("support", "PJSIP/op2", NOT_IN_USE)
            await eventually(lambda: offered == ["first", "third"])
            assert handbacks.waiting == []
        finally:
            handbacks.detach()
            watcher.detach()
            await client.close()


async def test_hand_back_needs_a_known_channel_that_asterisk_accepts():
    async with AmiTestServer(queues=[busy_queue()]) as ami:
        ami.known_channels = {"PJSIP/trunk-0000002a"}
        link = AsteriskLink(AmiSettingsSection(enabled=True, port=ami.port, secret=ami.secret))
        await link.start()
        try:
            await asyncio.wait_for(ami.logged_in.wait(), 5)
            call = str(uuid.uuid4())
            assert await link.hand_back(call, None) is False  # no UserEvent: channel unknown
            gone = CallerInfo(call, channel="PJSIP/trunk-00000099")  # hung up meanwhile
            assert await link.hand_back(call, gone) is False
            on_channels = lambda: {k: v for k, v in ami.variables.items() if k[0]}  # noqa: E731
            assert on_channels() == {}
            here = CallerInfo(call, channel="PJSIP/trunk-0000002a")
            assert await link.hand_back(call, here) is True
            assert ami.variable("PJSIP/trunk-0000002a", HANDBACK_VARIABLE) == "1"
            # No ticket store given: the context variables are set, empty, so a caller's
            # earlier pass through the bot cannot leave another ticket's details behind.
            assert ami.variable("PJSIP/trunk-0000002a", "CALLBOT_TICKET") == ""
        finally:
            await link.stop()


async def test_an_ended_ticket_of_the_same_uuid_is_not_announced(tmp_path: Path):
    """A dialplan that reused a UUID hands back with no details, never another caller's."""
    store = await open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    async with AmiTestServer(queues=[busy_queue()]) as ami:
        link = AsteriskLink(
            AmiSettingsSection(enabled=True, port=ami.port, secret=ami.secret), tickets=store
        )
        await link.start()
        try:
            await asyncio.wait_for(ami.logged_in.wait(), 5)
            call = str(uuid.uuid4())
            await store.begin_call(CallRecord(call, utcnow()))
            here = CallerInfo(call, channel="PJSIP/trunk-0000002a")
            assert await link.hand_back(call, here)
            ticket = await store.get_ticket_for_call(call)
            assert ticket is not None
            assert ami.variable(here.channel, "CALLBOT_TICKET") == str(ticket.id)
            await store.end_call(
                call, ended_at=utcnow(), reason=CallEndReason.HANDED_BACK, complete=False
            )
            again = CallerInfo(call, channel="PJSIP/trunk-0000002b")
            assert await link.hand_back(call, again)
            assert ami.variable(again.channel, "CALLBOT_TICKET") == ""
            assert ami.variable(again.channel, HANDBACK_VARIABLE) == "1"
        finally:
            await link.stop()
            await store.close()


async def test_handed_back_ticket_leaves_the_callback_queue_when_an_operator_answers(
    tmp_path: Path,
):
    store = await open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    queue = busy_queue()
    async with AmiTestServer(queues=[queue]) as ami:
        link = AsteriskLink(
            AmiSettingsSection(enabled=True, port=ami.port, secret=ami.secret),
            on_operator_reached=operator_reached(store),
        )
        await link.start()
        try:
            await asyncio.wait_for(ami.logged_in.wait(), 5)
            calls = {}
            for channel in ("PJSIP/trunk-0000002a", "PJSIP/trunk-0000002b"):
                call = str(uuid.uuid4())
                await store.begin_call(CallRecord(call, utcnow() - timedelta(seconds=90)))
                assert await link.hand_back(call, CallerInfo(call, channel=channel))
                ticket = await store.end_call(
                    call, ended_at=utcnow(), reason=CallEndReason.HANDED_BACK, complete=False
                )
                assert ticket.needs_callback
                calls[channel] = ticket.id
            # An operator answers the first caller; nobody answers the second.
            await ami.agent_connect("support", "PJSIP/trunk-0000002a", queue.members[0])
            await ami.agent_connect("support", "PJSIP/trunk-0000009f", queue.members[1])

            async def answered() -> bool:
                ticket = await store.get_ticket(calls["PJSIP/trunk-0000002a"])
                return ticket is not None and not ticket.needs_callback

            for _ in range(100):
                if await answered():
                    break
                await asyncio.sleep(0.05)
            assert await answered()
            history = await store.list_history(calls["PJSIP/trunk-0000002a"])
            done = [e for e in history if e.kind == EventKind.CALLBACK_DONE]
            assert done and "Tổng đài viên 1" in str(done[-1].data["note"])
            still = await store.get_ticket(calls["PJSIP/trunk-0000002b"])
            assert still is not None and still.needs_callback  # no AgentConnect for it
        finally:
            await link.stop()
            await store.close()
