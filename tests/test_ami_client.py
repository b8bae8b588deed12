"""AmiClient against the AMI test peer over real loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

try:  # tests/ on sys.path (rootdir layout) or the repo root (tests as a package)
    from ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, load_capture
except ModuleNotFoundError:
    from tests.ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, load_capture

from telephony.ami_client import (
    AmiClient,
    AmiConnectionLost,
    AmiError,
    AmiLoginError,
    AmiSettings,
    AmiTimeout,
)
from telephony.ami_protocol import Packet

SECRET = "s3cret-do-not-log"


def settings_for(server: AmiTestServer, **kw: object) -> AmiSettings:
    base: dict[str, object] = dict(
        host="127.0.0.1",
        port=server.port,
        username="callbot",
        secret=SECRET,
        ping_interval_s=0,
        action_timeout_s=1.0,
        connect_timeout_s=1.0,
        reconnect_initial_s=0.01,
        reconnect_max_s=0.05,
        reconnect_jitter=0.0,
    )
    base.update(kw)
    return AmiSettings(**base)  # type: ignore[arg-type]


def support_queue() -> FakeQueue:
    return FakeQueue(
        "support",
        members=[
            FakeMember("Agent1", "Local/agent1@agents/n", status=2, in_call=True),
            FakeMember("Agent2", "Local/agent2@agents/n", status=1, paused=True),
        ],
        callers=[FakeCaller("Local/1022@hotline-00000005;2", "1795878711.11", "0900000003")],
    )


@pytest.fixture
async def server():
    async with AmiTestServer(secret=SECRET, queues=[support_queue()]) as srv:
        yield srv


@pytest.fixture
async def client(server: AmiTestServer):
    c = AmiClient(settings_for(server))
    await c.connect()
    yield c
    await c.close()


async def test_login_sends_credentials_and_events_mask(
    server: AmiTestServer, client: AmiClient
) -> None:
    assert client.connected and client.banner is not None
    assert client.banner.version == "11.0.0"
    [login] = server.actions_named("Login")
    assert login.get("Username") == "callbot"
    assert login.get("Events") == "agent,user"
    assert login.action_id


async def test_secret_never_logged(server: AmiTestServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(server)
    assert SECRET not in repr(settings)
    c = AmiClient(settings)
    await c.connect()
    await c.ping()
    await c.close()
    bad = AmiClient(settings_for(server, secret="wrong-" + SECRET))
    with pytest.raises(AmiLoginError, match="Authentication failed") as info:
        await bad.connect()
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text


async def test_action_ids_are_echoed_and_unique(client: AmiClient) -> None:
    results = await asyncio.gather(*(client.ping() for _ in range(20)))
    ids = {r.action_id for r in results}
    assert len(ids) == 20
    assert all(r.get("Ping") == "Pong" for r in results)


async def test_unanswered_action_times_out_with_clear_error() -> None:
    async with AmiTestServer(secret=SECRET, ignore_actions=["Setvar"]) as srv:
        c = AmiClient(settings_for(srv))
        await c.connect()
        with pytest.raises(
            AmiTimeout, match=r"Setvar \(ActionID .+\) got no response within 0.2 s"
        ):
            await c.action("Setvar", {"Channel": "X", "Variable": "A", "Value": "1"}, timeout=0.2)
        # The link stays usable after a timeout.
        assert (await c.ping()).response == "Success"
        await c.close()


async def test_response_error_raises_amierror_with_asterisk_message(client: AmiClient) -> None:
    with pytest.raises(AmiError, match="Invalid/unknown command: NoSuchThing") as info:
        await client.action("NoSuchThing")
    assert info.value.action == "NoSuchThing"
    assert info.value.message.startswith("Invalid/unknown command")
    with pytest.raises(AmiError, match="No variable specified"):
        await client.action("Setvar", {"Channel": "X"})


async def test_list_action_collects_events_until_complete(client: AmiClient) -> None:
    events = await client.queue_status("support")
    assert [e.event for e in events] == ["QueueParams", "QueueMember", "QueueMember", "QueueEntry"]
    assert all(e.get("Queue") == "support" for e in events)


@pytest.mark.parametrize("mode", ["coalesce", "split3", "split_utf8"])
async def test_list_action_survives_coalesced_and_split_writes(mode: str) -> None:
    queue = support_queue()
    queue.callers[0].caller_name = "Nguyễn Thị Ánh"
    kw: dict[str, object] = {}
    if mode == "coalesce":
        kw["coalesce"] = True
    elif mode == "split3":
        kw["split_every"] = 97
    else:
        # Cut inside every multi-byte character the server writes.
        def inside_utf8(data: bytes) -> list[int]:
            return [i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0]

        kw["split_points"] = inside_utf8
    async with AmiTestServer(secret=SECRET, queues=[queue], **kw) as srv:
        c = AmiClient(settings_for(srv))
        await c.connect()
        events = await c.queue_status("support")
        entry = events[-1]
        assert entry.event == "QueueEntry"
        assert entry.get("CallerIDName") == "Nguyễn Thị Ánh"
        await c.close()


async def test_events_fan_out_by_name_and_catch_all(
    server: AmiTestServer, client: AmiClient
) -> None:
    named: list[Packet] = []
    everything: list[Packet] = []
    got_two = asyncio.Event()

    async def async_cb(p: Packet) -> None:
        everything.append(p)
        if len(everything) >= 2:
            got_two.set()

    unsubscribe = client.subscribe("QueueCallerJoin", named.append)
    client.subscribe(None, async_cb)
    await server.send_event(Packet.of(("Event", "QueueCallerJoin"), ("Queue", "support")))
    await server.send_event(Packet.of(("Event", "Other"), ("Privilege", "agent,all")))
    await asyncio.wait_for(got_two.wait(), 1)
    assert [p.event for p in named] == ["QueueCallerJoin"]
    unsubscribe()
    await server.send_event(Packet.of(("Event", "QueueCallerJoin"), ("Queue", "support")))
    await client.ping()  # a round trip: the event above has been dispatched by now
    assert len(named) == 1


async def test_replayed_capture_events_reach_subscribers() -> None:
    capture = load_capture("ami_overflow_call_events.txt")
    async with AmiTestServer(
        secret=SECRET, replay_after_login=capture.server_packets, fully_booted=False
    ) as srv:
        c = AmiClient(settings_for(srv))
        seen: list[str] = []
        c.subscribe(None, lambda p: seen.append(p.event or ""))
        await c.connect()
        await c.ping()
        assert len(seen) == len(capture.server_packets)
        assert "QueueCallerAbandon" in seen
        await c.close()


async def test_link_drop_mid_list_fails_pending_then_reconnects_and_resyncs() -> None:
    async with AmiTestServer(secret=SECRET, queues=[support_queue()], drop_mid_list_times=1) as srv:
        c = AmiClient(settings_for(srv))
        resynced = asyncio.Event()
        runs: list[int] = []

        async def hook() -> None:
            runs.append(c.connect_count)
            if c.connect_count >= 2:
                resynced.set()

        c.add_resync_hook(hook)
        await c.connect()
        with pytest.raises(AmiConnectionLost, match=r"lost .* while waiting for QueueStatus"):
            await c.queue_status("support")
        await asyncio.wait_for(resynced.wait(), 2)
        assert srv.logins == 2 and srv.connections == 2
        assert runs == [1, 2]
        # After reconnect a list works again (the server drops only once).
        events = await c.queue_status("support")
        assert events[-1].event == "QueueEntry"
        await c.close()


async def test_server_restart_reconnects_with_backoff() -> None:
    srv = AmiTestServer(secret=SECRET)
    await srv.start()
    c = AmiClient(settings_for(srv))
    await c.connect()
    await srv.drop_clients()
    await asyncio.sleep(0.05)
    await c.wait_connected(2)
    assert srv.logins == 2
    assert (await c.ping()).response == "Success"
    await c.close()
    await srv.stop()


async def test_action_while_disconnected_fails_fast() -> None:
    srv = AmiTestServer(secret=SECRET)
    await srv.start()
    c = AmiClient(settings_for(srv, reconnect_initial_s=5.0, reconnect_max_s=5.0))
    await c.connect()
    await srv.stop()
    await asyncio.sleep(0.05)
    with pytest.raises(AmiConnectionLost, match="not connected"):
        await c.set_var("PJSIP/x-1", "CALLBOT_HANDBACK", "1")
    await c.close()


async def test_keepalive_ping_detects_dead_link() -> None:
    async with AmiTestServer(secret=SECRET) as srv:
        c = AmiClient(settings_for(srv, ping_interval_s=0.05, action_timeout_s=0.05))
        await c.connect()
        await asyncio.sleep(0.12)
        assert len(srv.actions_named("Ping")) >= 1
        srv.ignore_actions.add("ping")  # Asterisk hangs: the link looks open but is dead
        await asyncio.sleep(0.3)
        assert srv.connections >= 2  # ping timeout dropped and re-opened the link
        await c.close()


async def test_connect_refused_is_clear() -> None:
    srv = AmiTestServer()
    port = await srv.start()
    await srv.stop()
    c = AmiClient(AmiSettings(port=port, secret=SECRET, connect_timeout_s=0.5))
    with pytest.raises(AmiConnectionLost, match=f"cannot connect to AMI at 127.0.0.1:{port}"):
        await c.connect()


async def test_handback_helpers(server: AmiTestServer, client: AmiClient) -> None:
    await client.set_var("PJSIP/trunk-0000002a", "CALLBOT_HANDBACK", "1")
    assert server.variables[("PJSIP/trunk-0000002a", "CALLBOT_HANDBACK")] == "1"
    await client.mix_monitor_start("PJSIP/trunk-0000002a", "/var/spool/rec/x.wav", "b")
    assert server.monitors["PJSIP/trunk-0000002a"] == "/var/spool/rec/x.wav"
    await client.mix_monitor_stop("PJSIP/trunk-0000002a")
    await client.hangup("PJSIP/trunk-0000002a")
    assert server.hung_up == ["PJSIP/trunk-0000002a"]
    server.known_channels = set()
    with pytest.raises(AmiError, match="No such channel"):
        await client.hangup("PJSIP/gone-1")
    with pytest.raises(ValueError, match="CR or LF"):
        await client.set_var("PJSIP/x\r\nAction: Originate", "A", "1")


async def test_close_logs_off(server: AmiTestServer) -> None:
    c = AmiClient(settings_for(server))
    await c.connect()
    await c.close()
    assert server.actions_named("Logoff")
    assert not c.connected


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOT_AMI_HOST", "pbx.local")
    monkeypatch.setenv("CALLBOT_AMI_PORT", "5039")
    monkeypatch.setenv("CALLBOT_AMI_SECRET", "from-env")
    s = AmiSettings.from_env(username="bot")
    assert (s.host, s.port, s.secret, s.username) == ("pbx.local", 5039, "from-env", "bot")
    assert "from-env" not in repr(s)
    delays = s.backoff_delays()
    s.reconnect_jitter = 0
    first = [next(delays) for _ in range(12)]
    assert first[0] <= first[1] <= first[2] and max(first) <= s.reconnect_max_s * 1.1


async def test_connect_with_retry_waits_for_asterisk_to_come_up() -> None:
    srv = AmiTestServer(secret=SECRET)
    port = await srv.start()
    await srv.stop()
    c = AmiClient(settings_for(srv, port=port))
    task = asyncio.create_task(c.connect(retry=True))
    await asyncio.sleep(0.1)
    assert not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # And a wrong secret with retry=False raises at once.
    async with AmiTestServer(secret=SECRET) as live:
        bad = AmiClient(settings_for(live, secret="nope"))
        with pytest.raises(AmiLoginError):
            await bad.connect()
        assert live.failed_logins == 1
