"""Overflow rules: the pure decision, and the runner against the AMI test peer."""

from __future__ import annotations

import asyncio
import time

import pytest

try:  # tests/ on sys.path (rootdir layout) or the repo root (tests as a package)
    from ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue
except ModuleNotFoundError:
    from tests.ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue

from telephony.ami_client import AmiClient, AmiSettings
from telephony.ami_protocol import Packet
from telephony.overflow import (
    OverflowController,
    OverflowMode,
    OverflowRules,
    Withdrawal,
    decide_withdrawals,
)
from telephony.queue_watcher import (
    QueueMemberState,
    QueueState,
    QueueWatcher,
    WaitingCaller,
)

NOW = 1000.0


def state(waits: list[float], available: int = 0, busy: int = 2) -> QueueState:
    q = QueueState("support")
    for i in range(busy):
        q.members[f"PJSIP/busy{i}"] = QueueMemberState(f"PJSIP/busy{i}", status=2)
    for i in range(available):
        q.members[f"PJSIP/free{i}"] = QueueMemberState(f"PJSIP/free{i}", status=1)
    for pos, wait in enumerate(waits, start=1):
        ch = f"PJSIP/c{pos}"
        q.callers[ch] = WaitingCaller(ch, position=pos, joined_at=NOW - wait)
    return q


def chans(ws: list[Withdrawal]) -> list[str]:
    return [w.channel for w in ws]


def test_max_wait_withdraws_only_callers_past_the_limit_when_nobody_is_free() -> None:
    rules = OverflowRules(max_wait_s=20, max_queue_len=None)
    got = decide_withdrawals(state([35, 20, 19.9, 3]), rules, NOW)
    assert chans(got) == ["PJSIP/c1", "PJSIP/c2"]
    assert {w.reason for w in got} == {"max_wait"}
    assert got[0].wait_s == 35


def test_max_wait_leaves_the_queue_alone_while_an_operator_is_free() -> None:
    rules = OverflowRules(max_wait_s=20)
    assert decide_withdrawals(state([60, 40], available=1), rules, NOW) == []
    # A paused member is not free.
    q = state([60])
    q.members["PJSIP/p"] = QueueMemberState("PJSIP/p", status=1, paused=True)
    assert chans(decide_withdrawals(q, rules, NOW)) == ["PJSIP/c1"]


def test_max_queue_len_withdraws_the_excess_longest_waiting_first() -> None:
    rules = OverflowRules(max_wait_s=None, max_queue_len=2)
    got = decide_withdrawals(state([50, 40, 30, 20, 10]), rules, NOW)
    assert chans(got) == ["PJSIP/c1", "PJSIP/c2", "PJSIP/c3"]
    assert {w.reason for w in got} == {"max_queue_len"}
    # The length rule holds even with a free operator; at the limit it does nothing.
    assert chans(decide_withdrawals(state([5, 4, 3], available=1), rules, NOW)) == ["PJSIP/c1"]
    assert decide_withdrawals(state([5, 4]), rules, NOW) == []


def test_both_rules_together_count_each_caller_once() -> None:
    rules = OverflowRules(max_wait_s=20, max_queue_len=2)
    got = decide_withdrawals(state([30, 25, 10, 8, 5]), rules, NOW)
    # c1, c2 by wait; that leaves 3 waiting, one over the limit: c3 (next longest).
    assert [(w.channel, w.reason) for w in got] == [
        ("PJSIP/c1", "max_wait"),
        ("PJSIP/c2", "max_wait"),
        ("PJSIP/c3", "max_queue_len"),
    ]


def test_already_withdrawn_callers_are_not_chosen_or_counted() -> None:
    rules = OverflowRules(max_wait_s=20, max_queue_len=1)
    q = state([30, 10, 5])
    first = decide_withdrawals(q, rules, NOW)
    assert chans(first) == ["PJSIP/c1", "PJSIP/c2"]
    again = decide_withdrawals(q, rules, NOW, already_withdrawn=set(chans(first)))
    assert again == []


def test_rules_validate() -> None:
    with pytest.raises(ValueError):
        OverflowRules(max_wait_s=-1)
    with pytest.raises(ValueError):
        OverflowRules(max_queue_len=-1)


# ------------------------------------------------------------------ the runner


def fake_queue(waits: list[float]) -> FakeQueue:
    now = time.monotonic()
    return FakeQueue(
        "support",
        members=[FakeMember("A1", "PJSIP/a1", status=2), FakeMember("A2", "PJSIP/a2", status=2)],
        callers=[
            FakeCaller(f"PJSIP/c{i}-0001", f"1.{i}", f"09000000{i:02d}", joined_at=now - w)
            for i, w in enumerate(waits, start=1)
        ],
    )


async def connected(srv: AmiTestServer) -> AmiClient:
    client = AmiClient(
        AmiSettings(port=srv.port, secret="s", ping_interval_s=0, action_timeout_s=1)
    )
    await client.connect()
    return client


async def test_controller_withdraws_exactly_the_named_callers_once() -> None:
    queue = fake_queue([45, 30, 5, 2])
    async with AmiTestServer(secret="s", queues=[queue]) as srv:
        client = await connected(srv)
        watcher = QueueWatcher(client, ["support"])
        watcher.attach()
        await watcher.resync()
        ctl = OverflowController(
            client,
            watcher,
            "support",
            OverflowMode.RULES,
            OverflowRules(max_wait_s=20, max_queue_len=1),
        )
        sent = await ctl.evaluate_once()
        # c1, c2 waited past 20 s; of c3, c4 one is over the length limit: c3.
        assert [(w.channel, w.reason) for w in sent] == [
            ("PJSIP/c1-0001", "max_wait"),
            ("PJSIP/c2-0001", "max_wait"),
            ("PJSIP/c3-0001", "max_queue_len"),
        ]
        assert srv.withdrawn == [
            ("support", "PJSIP/c1-0001"),
            ("support", "PJSIP/c2-0001"),
            ("support", "PJSIP/c3-0001"),
        ]
        # Queue() has not returned yet (no QueueCallerLeave): evaluating again, even
        # concurrently, must not send a second withdrawal for anyone.
        again = await asyncio.gather(ctl.evaluate_once(), ctl.evaluate_once())
        assert again == [[], []]
        assert len(srv.actions_named("QueueWithdrawCaller")) == 3
        # When they leave, the controller forgets them.
        for ch in ("PJSIP/c1-0001", "PJSIP/c2-0001", "PJSIP/c3-0001"):
            await srv.caller_leaves("support", ch)
        await client.ping()
        await ctl.evaluate_once()
        assert ctl.withdrawn == set()
        assert watcher.state("support").waiting == 1
        await client.close()


async def test_controller_runs_on_queue_events_in_rules_mode() -> None:
    queue = fake_queue([])
    async with AmiTestServer(secret="s", queues=[queue]) as srv:
        client = await connected(srv)
        watcher = QueueWatcher(client, ["support"])
        watcher.attach()
        await watcher.resync()
        ctl = OverflowController(
            client,
            watcher,
            "support",
            "rules",
            OverflowRules(max_wait_s=None, max_queue_len=0),
            interval_s=5,
        )
        ctl.start()
        queue.callers.append(FakeCaller("PJSIP/new-0001", "9.9", "0911111111"))
        await srv.send_event(
            _join("PJSIP/new-0001"),
        )
        for _ in range(100):
            if srv.withdrawn:
                break
            await asyncio.sleep(0.01)
        assert srv.withdrawn == [("support", "PJSIP/new-0001")]
        await ctl.stop()
        await client.close()


async def test_observe_mode_never_sends_anything() -> None:
    queue = fake_queue([300, 200, 100])
    async with AmiTestServer(secret="s", queues=[queue]) as srv:
        client = await connected(srv)
        watcher = QueueWatcher(client, ["support"])
        await watcher.resync()
        ctl = OverflowController(
            client, watcher, "support", "observe", OverflowRules(max_wait_s=1, max_queue_len=0)
        )
        assert await ctl.evaluate_once() == []
        assert srv.actions_named("QueueWithdrawCaller") == []
        await client.close()


def _join(channel: str) -> Packet:
    return Packet.of(
        ("Event", "QueueCallerJoin"),
        ("Privilege", "agent,all"),
        ("Channel", channel),
        ("CallerIDNum", "0911111111"),
        ("Queue", "support"),
        ("Position", "1"),
        ("Count", "1"),
    )
