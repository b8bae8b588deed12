"""QueueWatcher: state from the real capture, live updates, resync after a reconnect."""

from __future__ import annotations

import asyncio

try:  # tests/ on sys.path (rootdir layout) or the repo root (tests as a package)
    from ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, load_capture
except ModuleNotFoundError:
    from tests.ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, load_capture

from telephony.ami_client import AmiClient, AmiSettings
from telephony.ami_protocol import AmiConnection, Packet
from telephony.queue_watcher import QueueWatcher

OVERFLOW_CHANNEL = "Local/1022@hotline-00000005;2"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def session_packets() -> list[Packet]:
    conn = AmiConnection()
    conn.receive_data(load_capture("ami_session_overflow.txt").server_bytes)
    return [p for p in conn.events() if isinstance(p, Packet)]


def replay(watcher: QueueWatcher, clock: FakeClock, until=None) -> None:
    """Feed the capture the way AmiClient would: list items to the snapshot, the rest as
    events, one second of clock per packet."""
    lists: dict[str, list[Packet]] = {}
    for p in session_packets():
        clock.t += 1
        if p.event in ("QueueParams", "QueueMember", "QueueEntry"):
            lists.setdefault(p.action_id or "", []).append(p)
        elif p.event == "QueueStatusComplete":
            watcher.apply_snapshot(lists.pop(p.action_id or ""), queue="support")
        else:
            watcher.apply_event(p)
        if until is not None and until(p):
            return


def test_initial_snapshot_from_capture() -> None:
    clock = FakeClock()
    w = QueueWatcher(queues=["support"], clock=clock)
    replay(w, clock, until=lambda p: p.event == "QueueStatusComplete")
    q = w.state("support")
    assert (q.logged_in, q.available, q.paused, q.waiting) == (2, 2, 0, 0)
    assert q.strategy == "ringall"
    assert {m.name for m in q.members.values()} == {"Agent1", "Agent2"}
    assert w.operator_available("support")


def test_overflow_moment_from_capture() -> None:
    """When caller 3 joins, both operators are busy: the bot's moment."""
    clock = FakeClock()
    w = QueueWatcher(queues=["support"], clock=clock)
    replay(
        w,
        clock,
        until=lambda p: p.event == "QueueCallerJoin" and p.get("Channel") == OVERFLOW_CHANNEL,
    )
    q = w.state("support")
    assert q.available == 0 and q.logged_in == 2
    assert not w.operator_available("support")
    [caller] = q.callers_by_wait()
    assert caller.channel == OVERFLOW_CHANNEL
    assert caller.caller_number == "0900000003" and caller.caller_name == "Caller 3"
    assert caller.uniqueid == "1795878711.11"
    clock.t += 20
    assert q.longest_wait_s(clock()) == 20


def test_whole_capture_ends_idle_and_reports_each_operator_freeing() -> None:
    clock = FakeClock()
    w = QueueWatcher(queues=["support"], clock=clock)
    freed: list[tuple[str, str]] = []
    w.on_operator_free(lambda queue, m: freed.append((queue, m.name)))
    replay(w, clock)
    q = w.state("support")
    assert (q.available, q.waiting) == (2, 0)  # the timed-out caller was removed (Abandon)
    # The first snapshot reports both as newly free (we knew nothing before); then Agent2
    # frees after call 1, Agent1 and Agent2 after calls 2 and 3 end. The final snapshot
    # changes nothing, so reports nothing.
    assert [name for _, name in freed] == ["Agent1", "Agent2", "Agent2", "Agent1", "Agent2"]


def test_unwatched_queue_and_unrelated_events_ignored() -> None:
    w = QueueWatcher(queues=["support"])
    w.apply_event(Packet.of(("Event", "QueueCallerJoin"), ("Queue", "sales"), ("Channel", "X")))
    w.apply_event(Packet.of(("Event", "Newchannel"), ("Channel", "Y")))
    assert w.queues() == []
    assert not w.operator_available("support")


def test_pause_and_positions() -> None:
    clock = FakeClock()
    w = QueueWatcher(clock=clock)
    member = [("Queue", "support"), ("MemberName", "A1"), ("Interface", "PJSIP/a1")]
    w.apply_event(
        Packet([("Event", "QueueMemberAdded"), *member, ("Status", "1"), ("Paused", "0")])
    )
    assert w.operator_available("support")
    w.apply_event(Packet([("Event", "QueueMemberPause"), *member, ("Paused", "1")]))
    assert not w.operator_available("support") and w.state("support").paused == 1
    freed: list[str] = []
    w.on_operator_free(lambda q, m: freed.append(m.interface))
    w.apply_event(Packet([("Event", "QueueMemberPause"), *member, ("Paused", "0")]))
    assert freed == ["PJSIP/a1"]
    for i in range(1, 4):
        clock.t += 1
        w.apply_event(
            Packet.of(
                ("Event", "QueueCallerJoin"),
                ("Queue", "support"),
                ("Channel", f"C{i}"),
                ("Position", str(i)),
            )
        )
    w.apply_event(Packet.of(("Event", "QueueCallerLeave"), ("Queue", "support"), ("Channel", "C1")))
    assert [(c.channel, c.position) for c in w.state("support").callers_by_wait()] == [
        ("C2", 1),
        ("C3", 2),
    ]
    w.apply_event(Packet([("Event", "QueueMemberRemoved"), *member]))
    assert w.state("support").logged_in == 0


async def test_live_watcher_resyncs_after_link_drop_and_signals_free_operator() -> None:
    queue = FakeQueue(
        "support",
        members=[FakeMember("Agent1", "Local/agent1@agents/n", status=2)],
        callers=[FakeCaller("PJSIP/trunk-0001", "1.1", "0900000001")],
    )
    async with AmiTestServer(secret="s", queues=[queue]) as srv:
        client = AmiClient(
            AmiSettings(
                port=srv.port,
                secret="s",
                ping_interval_s=0,
                action_timeout_s=1,
                reconnect_initial_s=0.01,
                reconnect_jitter=0,
            )
        )
        watcher = QueueWatcher(client, ["support"])
        watcher.attach()
        await client.connect()
        for _ in range(100):
            if watcher.resync_count:
                break
            await asyncio.sleep(0.01)
        assert watcher.state("support").waiting == 1
        assert not watcher.operator_available("support")
        assert not await watcher.wait_operator_free("support", timeout=0.05)

        # While the link is down the operator frees up and the caller leaves; no events
        # reach us, so only the resync after reconnect can tell.
        await srv.drop_clients()
        queue.members[0].status = 1
        queue.callers.clear()
        assert await watcher.wait_operator_free("support", timeout=2)
        assert watcher.resync_count == 2
        assert watcher.state("support").waiting == 0

        # And live events: busy again, then a QueueMemberStatus frees them.
        await srv.send_event(
            Packet.of(
                ("Event", "QueueMemberStatus"),
                ("Privilege", "agent,all"),
                ("Queue", "support"),
                ("MemberName", "Agent1"),
                ("Interface", "Local/agent1@agents/n"),
                ("Status", "2"),
                ("Paused", "0"),
            )
        )
        await client.ping()
        assert not watcher.operator_available("support")
        waiter = asyncio.create_task(watcher.wait_operator_free("support", timeout=2))
        await asyncio.sleep(0)
        await srv.send_event(
            Packet.of(
                ("Event", "QueueMemberStatus"),
                ("Privilege", "agent,all"),
                ("Queue", "support"),
                ("MemberName", "Agent1"),
                ("Interface", "Local/agent1@agents/n"),
                ("Status", "1"),
                ("Paused", "0"),
            )
        )
        assert await waiter
        await client.close()


def test_operator_answers_are_counted_from_the_capture() -> None:
    """Two callers reached an operator in the capture (AgentConnect), the third overflowed."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    now = [start]
    w = QueueWatcher(queues=["support"], wall_clock=lambda: now[0])
    assert w.operator_answered_since(start) == 0
    for p in session_packets():
        now[0] += timedelta(seconds=1)
        w.apply_answered(p)
    assert w.operator_answered_since(start + timedelta(seconds=1)) == 2
    assert w.operator_answered_since(now[0] + timedelta(seconds=1)) == 0
    assert w.operator_answered_since(start - timedelta(hours=1)) is None  # before we knew
