"""CallerDirectory: AudioSocket UUID → channel and caller number, whichever comes first."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

try:  # tests/ on sys.path (rootdir layout) or the repo root (tests as a package)
    from ami_server import AmiTestServer, callbot_call_event
except ModuleNotFoundError:
    from tests.ami_server import AmiTestServer, callbot_call_event

from telephony.ami_client import AmiClient, AmiSettings
from telephony.ami_protocol import AmiConnection, Packet, encode_packet
from telephony.correlation import CallerDirectory, CallerInfo, normalise_uuid

CALL_UUID = "4c0f3f57-8d1e-4a8f-9a59-8c2f0a6b1d11"


def user_event(
    call_uuid: str = CALL_UUID,
    name: str = "Nguyễn Thị Ánh",
    number: str = "0903123456",
    *body: tuple[str, str],
) -> Packet:
    return callbot_call_event(call_uuid, name, number, *body)


def test_caller_info_from_user_event() -> None:
    info = CallerInfo.from_user_event(user_event())
    assert info is not None
    assert info.uuid == CALL_UUID
    assert info.channel == "PJSIP/trunk-0000002a"
    assert info.uniqueid == "1795878711.10"
    assert info.caller_number == "0903123456"
    assert info.caller_name == "Nguyễn Thị Ánh"
    assert info.queue == "support"
    # Personal data stays out of the repr (and so out of careless log lines).
    assert "0903123456" not in repr(info) and "Ánh" not in repr(info)


def test_body_values_override_the_snapshot() -> None:
    ev = user_event(
        CALL_UUID,
        "Caller 3",
        "<unknown>",
        ("CallerIDNum", "0900000003"),
        ("BridgedChannel", "Local/1022@hotline-00000005;1"),
    )
    info = CallerInfo.from_user_event(ev)
    assert info is not None
    assert info.caller_number == "0900000003"
    assert info.bridged_channel == "Local/1022@hotline-00000005;1"


def test_other_events_are_ignored() -> None:
    other = Packet.of(("Event", "UserEvent"), ("UserEvent", "SomethingElse"))
    assert CallerInfo.from_user_event(other) is None
    assert CallerInfo.from_user_event(Packet.of(("Event", "Hangup"))) is None
    no_uuid = Packet.of(("Event", "UserEvent"), ("UserEvent", "CallbotCall"))
    assert CallerInfo.from_user_event(no_uuid) is None


def test_uuid_forms_normalise() -> None:
    u = uuid.UUID(CALL_UUID)
    assert normalise_uuid(u.bytes) == normalise_uuid(u) == normalise_uuid(CALL_UUID.upper())


async def test_event_before_connect() -> None:
    d = CallerDirectory()
    d.feed_event(user_event())
    info = await d.wait_for(uuid.UUID(CALL_UUID).bytes, timeout=0.1)
    assert info is not None and info.caller_number == "0903123456"


async def test_event_after_connect() -> None:
    d = CallerDirectory()
    waiter = asyncio.create_task(d.wait_for(CALL_UUID, timeout=1))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    d.feed_event(user_event())
    info = await waiter
    assert info is not None and info.channel == "PJSIP/trunk-0000002a"


async def test_no_event_gives_none_after_timeout() -> None:
    d = CallerDirectory()
    assert await d.wait_for(CALL_UUID, timeout=0.02) is None


def test_entries_expire() -> None:
    t = [0.0]
    d = CallerDirectory(ttl_s=60, clock=lambda: t[0])
    d.register(CallerInfo(CALL_UUID, "PJSIP/a"))
    t[0] = 59
    assert d.get(CALL_UUID) is not None
    t[0] = 61
    assert d.get(CALL_UUID) is None and len(d) == 0


async def test_over_ami_with_name_split_mid_character(caplog: pytest.LogCaptureFixture) -> None:
    wire = encode_packet(user_event())
    cut = wire.index("ễ".encode()) + 2  # inside the character
    async with AmiTestServer(
        secret="s", split_points=lambda data: [cut] if data == wire else []
    ) as srv:
        client = AmiClient(AmiSettings(port=srv.port, secret="s", ping_interval_s=0))
        directory = CallerDirectory()
        directory.attach(client)
        await client.connect()
        caplog.set_level(logging.INFO, logger="telephony")
        waiter = asyncio.create_task(directory.wait_for(CALL_UUID, timeout=1))
        await asyncio.sleep(0)
        await srv.send_event(wire)
        info = await waiter
        assert info is not None
        assert info.caller_name == "Nguyễn Thị Ánh" and info.caller_number == "0903123456"
        # Caller numbers are personal data: never above DEBUG.
        assert "0903123456" not in caplog.text
        await client.close()


def test_parsed_from_wire_bytes() -> None:
    conn = AmiConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n" + encode_packet(user_event()))
    packets = [p for p in conn.events() if isinstance(p, Packet)]
    d = CallerDirectory()
    assert d.feed_event(packets[0]) is not None
    assert d.get(CALL_UUID) is not None
