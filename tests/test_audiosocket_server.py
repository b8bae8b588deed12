"""Bad input over a real socket: each gets its specific error, a clean close, and the call
still ends as an incomplete ticket (nothing lost)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import uuid

import pytest

from callbot.tickets.model import CallEndReason, TurnKind
from telephony.audiosocket_protocol import (
    Kind,
    encode_audio,
    encode_dtmf,
    encode_frame,
    encode_uuid,
)

try:
    from callbot_harness import callbot_settings, running_callbot
except ImportError:
    from tests.callbot_harness import callbot_settings, running_callbot


async def talk(port: int, data: bytes, *, close: bool = False, then: bytes = b"") -> bytes:
    """Send raw bytes (and ``then`` half a second later), then read until the server
    closes (or we close first)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if then:
        await asyncio.sleep(0.5)
        writer.write(then)
    if close:
        await asyncio.sleep(0.3)
        writer.close()
        return b""
    received = await asyncio.wait_for(reader.read(), 10)  # until EOF: the server closed
    writer.close()
    return received


async def wait_ticket(store, call_id: str):
    for _ in range(100):
        ticket = await store.get_ticket_for_call(call_id)
        if ticket is not None and ticket.end_reason is not None:
            return ticket
        await asyncio.sleep(0.05)
    raise AssertionError(f"no closed ticket for {call_id}")


async def protocol_error_turns(store, call_id: str) -> list[str]:
    return [t.text for t in await store.list_turns(call_id) if t.kind == TurnKind.EVENT]


@pytest.mark.parametrize(
    ("garbage", "message"),
    [
        (b"\x42\x00\x01x", "unknown AudioSocket frame kind 0x42"),
        (b"\x10\xff\xff" + bytes(64), "announces 65535 bytes"),
        (encode_frame(Kind.AUDIO, b"\x00" * 3), "odd length"),
        (encode_frame(Kind.DTMF, b"?"), "DTMF frame"),
    ],
)
async def test_malformed_frame_mid_call(whisper_engine, tmp_path, garbage, message):
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        call_id = str(uuid.uuid4())
        greeting = await talk(
            bot.port, encode_uuid(call_id) + encode_audio(bytes(320)), then=garbage
        )
        assert greeting  # the bot had started talking before the garbage arrived
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.PROTOCOL_ERROR
        assert not ticket.complete and ticket.needs_callback
        errors = await protocol_error_turns(bot.services.store, call_id)
        assert any(message in text for text in errors), errors
        assert (tmp_path / "recordings" / ticket.recording_path).exists()


async def test_truncated_frame_then_close(whisper_engine, tmp_path):
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        call_id = str(uuid.uuid4())
        await talk(bot.port, encode_uuid(call_id) + b"\x10\x01\x40" + bytes(100), close=True)
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.PROTOCOL_ERROR
        errors = await protocol_error_turns(bot.services.store, call_id)
        assert any("220 bytes missing" in text for text in errors), errors


async def test_a_reset_after_half_a_frame_is_a_protocol_error_not_a_hangup(
    whisper_engine, tmp_path
):
    # A peer that closes with the bot's audio unread resets the connection (RST) instead of
    # closing it (FIN); seen on a fresh machine, where the half frame was then filed as a
    # hang-up. SO_LINGER 0 makes the reset certain here.
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        call_id = str(uuid.uuid4())
        _, writer = await asyncio.open_connection("127.0.0.1", bot.port)
        writer.write(encode_uuid(call_id) + b"\x10\x01\x40" + bytes(100))
        await writer.drain()
        await asyncio.sleep(0.3)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.PROTOCOL_ERROR
        errors = await protocol_error_turns(bot.services.store, call_id)
        assert any("220 bytes missing" in text for text in errors), errors


async def test_uuid_and_garbage_in_one_read_still_names_the_call(whisper_engine, tmp_path):
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        call_id = str(uuid.uuid4())
        await talk(bot.port, encode_uuid(call_id) + b"\x42\x00\x00")
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.PROTOCOL_ERROR


async def test_junk_before_any_uuid_is_counted_not_filed(whisper_engine, tmp_path):
    """No valid UUID: nobody to call back. A fuzz run once filled the callback queue with
    such "tickets"; they are logged and counted instead."""
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        junk = [
            encode_audio(bytes(320)) + encode_dtmf("1"),  # audio before the UUID
            bytes(range(256)) * 4,  # random bytes
            b"\x01\x00\x03abc",  # a UUID frame of the wrong length
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # a port scanner
        ]
        for blob in junk:
            with contextlib.suppress(ConnectionError):
                await talk(bot.port, blob)
        for _ in range(100):
            if bot.services.metrics.unidentified_connections == len(junk):
                break
            await asyncio.sleep(0.05)
        assert bot.services.metrics.unidentified_connections == len(junk)
        assert await bot.services.store.list_tickets() == []
        # A real call after the junk is still a ticket.
        call_id = str(uuid.uuid4())
        await talk(bot.port, encode_uuid(call_id), close=True)
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.CALLER_HANGUP


async def test_peer_not_on_the_allowlist_is_refused(whisper_engine, tmp_path):
    settings = callbot_settings(tmp_path)
    settings.audiosocket.allow = ["10.9.8.7"]
    async with running_callbot(settings, whisper_engine) as bot:
        try:
            received = await talk(bot.port, encode_uuid(str(uuid.uuid4())))
        except ConnectionResetError:  # closed with our UUID unread: the kernel says RST
            received = b""
        assert received == b""
        assert bot.audiosocket.rejected == 1
        assert await bot.services.store.list_tickets() == []


async def test_caller_hangup_before_anything_keeps_the_ticket(whisper_engine, tmp_path):
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        call_id = str(uuid.uuid4())
        await talk(bot.port, encode_uuid(call_id), close=True)
        ticket = await wait_ticket(bot.services.store, call_id)
        assert ticket.end_reason == CallEndReason.CALLER_HANGUP and not ticket.complete


async def test_bot_streams_silence_when_it_has_nothing_to_say(whisper_engine, tmp_path):
    """Asterisk hangs up after 2 s without traffic: frames must keep coming, 20 ms each."""
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
        writer.write(encode_uuid(str(uuid.uuid4())))
        loop = asyncio.get_running_loop()
        start = loop.time()
        received = b""
        while loop.time() - start < 1.0:
            received += await reader.read(65536)
        writer.close()
        frames = len(received) // 323
        assert 40 <= frames <= 60  # one 320-byte frame (+3 header) every 20 ms


async def test_store_down_returns_the_call_to_the_dialplan_at_once(whisper_engine, tmp_path):
    """No ticket could be kept: the bot must not take the call; a hangup frame hands it
    straight back to the dialplan (which sends the caller on to the operators)."""
    from telephony.audiosocket_protocol import FrameParser

    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        await bot.services.store.close()  # the database is gone
        received = await talk(bot.port, encode_uuid(str(uuid.uuid4())))
        frames = FrameParser().receive_data(received)
        assert frames and frames[-1].kind is Kind.HANGUP
        assert not any(f.kind is Kind.AUDIO and any(f.payload) for f in frames)
        assert not list((tmp_path / "recordings").rglob("*.wav"))  # nothing half-made
        await bot.services.store.open()  # so the harness can close it cleanly
