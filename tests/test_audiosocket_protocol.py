"""The sans-IO AudioSocket parser, byte by byte, on real Asterisk 22.10 traffic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.audiosocket_protocol import (
    AudioBeforeUuid,
    AudioReceived,
    AudioSocketConnection,
    BadPayload,
    CallStarted,
    DtmfReceived,
    ErrorReceived,
    Frame,
    FrameParser,
    FrameTooLarge,
    HangupReceived,
    Kind,
    TruncatedFrame,
    UnknownKind,
    encode_audio,
    encode_dtmf,
    encode_frame,
    encode_hangup,
    encode_uuid,
)

CAPTURE = Path(__file__).parent / "captures" / "asterisk-22.10" / "audiosocket_frames.hex"


@dataclass(frozen=True)
class CapturedFrame:
    kind: int
    length: int
    raw: bytes


def load_connections() -> list[list[CapturedFrame]]:
    """One list of frames per connection in the capture (lines starting '#' begin one)."""
    connections: list[list[CapturedFrame]] = []
    for line in CAPTURE.read_text().splitlines():
        if line.startswith("#"):
            connections.append([])
        elif line.strip():
            fields, raw = line.split("|")
            _, kind, length = fields.split()
            connections[-1].append(
                CapturedFrame(int(kind, 16), int(length, 16), bytes.fromhex(raw.strip()))
            )
    return connections


CONNECTIONS = load_connections()
WIRE = [b"".join(f.raw for f in frames) for frames in CONNECTIONS]


def test_capture_has_what_the_readme_says():
    assert len(CONNECTIONS) == 2
    for frames in CONNECTIONS:
        assert frames[0].kind == Kind.UUID
        assert all(f.kind == Kind.AUDIO and f.length == 320 for f in frames[1:])


@pytest.mark.parametrize("index", range(len(CONNECTIONS)))
def test_parser_reads_the_capture_exactly(index):
    frames = CONNECTIONS[index]
    parsed = FrameParser().receive_data(WIRE[index])
    assert [(f.kind, len(f.payload)) for f in parsed] == [(f.kind, f.length) for f in frames]
    assert [encode_frame(f.kind, f.payload) for f in parsed] == [f.raw for f in frames]


@pytest.mark.parametrize("index", range(len(CONNECTIONS)))
def test_connection_events_from_the_capture(index):
    connection = AudioSocketConnection()
    events = connection.receive_data(WIRE[index])
    expected_uuid = str(uuid.UUID(bytes=CONNECTIONS[index][0].raw[3:]))
    assert events[0] == CallStarted(expected_uuid)
    assert connection.uuid == expected_uuid
    audio = [e for e in events[1:] if isinstance(e, AudioReceived)]
    assert len(audio) == len(events) - 1
    assert b"".join(a.pcm for a in audio) == b"".join(f.raw[3:] for f in CONNECTIONS[index][1:])
    connection.receive_eof()  # ends on a frame boundary: no error


def test_every_single_split_point_gives_the_same_frames():
    wire = WIRE[0]
    whole = FrameParser().receive_data(wire)
    for cut in range(len(wire) + 1):
        parser = FrameParser()
        frames = parser.receive_data(wire[:cut]) + parser.receive_data(wire[cut:])
        assert frames == whole, cut


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_split_of_the_stream_gives_the_same_frames(data):
    wire = data.draw(st.sampled_from(WIRE))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=40)))
    parser = FrameParser()
    frames: list[Frame] = []
    start = 0
    for cut in [*cuts, len(wire)]:
        frames += parser.receive_data(wire[start:cut])
        start = cut
    assert frames == FrameParser().receive_data(wire)
    parser.receive_eof()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=10))
def test_arbitrary_bytes_give_frames_or_a_protocol_error_never_a_crash(blob, cuts):
    parser = FrameParser()
    start = 0
    try:
        for cut in [*sorted(c for c in cuts if c <= len(blob)), len(blob)]:
            for frame in parser.receive_data(blob[start:cut]):
                assert len(frame.payload) <= 4096
            start = cut
        parser.receive_eof()
    except (UnknownKind, FrameTooLarge, TruncatedFrame):
        pass


def test_encoders_round_trip():
    call = str(uuid.uuid4())
    wire = encode_uuid(call) + encode_audio(b"\x01\x00" * 160) + encode_dtmf("5") + encode_hangup()
    events = AudioSocketConnection().receive_data(wire)
    assert events == [
        CallStarted(call),
        AudioReceived(b"\x01\x00" * 160),
        DtmfReceived("5"),
        HangupReceived(),
    ]


def test_error_frame_is_an_event():
    wire = encode_uuid(str(uuid.uuid4())) + encode_frame(Kind.ERROR, b"\x04")
    assert AudioSocketConnection().receive_data(wire)[-1] == ErrorReceived(4)


def test_unknown_kind_is_refused_with_its_value():
    with pytest.raises(UnknownKind, match="0x42"):
        FrameParser().receive_data(b"\x42\x00\x00")


def test_oversized_frame_is_refused_before_buffering_it():
    parser = FrameParser(max_payload=1024)
    with pytest.raises(FrameTooLarge, match="65535"):
        parser.receive_data(b"\x10\xff\xff" + b"\x00" * 10)


def test_truncated_frame_at_eof():
    parser = FrameParser()
    assert parser.receive_data(b"\x10\x01\x40" + b"\x00" * 100) == []
    with pytest.raises(TruncatedFrame, match="220 bytes missing"):
        parser.receive_eof()


def test_audio_before_uuid_is_refused():
    with pytest.raises(AudioBeforeUuid):
        AudioSocketConnection().receive_data(encode_audio(bytes(320)))


def started() -> AudioSocketConnection:
    connection = AudioSocketConnection()
    connection.receive_data(encode_uuid(str(uuid.uuid4())))
    return connection


def test_malformed_payloads():
    with pytest.raises(BadPayload, match="UUID frame of 4 bytes"):
        AudioSocketConnection().receive_data(encode_frame(Kind.UUID, b"abcd"))
    with pytest.raises(BadPayload, match="odd length"):
        started().receive_data(encode_frame(Kind.AUDIO, b"\x00" * 3))
    with pytest.raises(BadPayload, match="DTMF"):
        started().receive_data(encode_frame(Kind.DTMF, b"x"))
    with pytest.raises(BadPayload, match="second UUID"):
        started().receive_data(encode_uuid(str(uuid.uuid4())))


def test_frames_before_a_bad_one_are_delivered_then_the_error():
    call = str(uuid.uuid4())
    connection = AudioSocketConnection()
    events = connection.receive_data(encode_uuid(call) + encode_audio(bytes(4)) + b"\x42\x00\x00")
    assert events == [CallStarted(call), AudioReceived(bytes(4))]
    assert connection.error_pending
    with pytest.raises(UnknownKind):
        connection.receive_data(b"")
    with pytest.raises(UnknownKind):  # stays broken: nothing after garbage is trusted
        connection.receive_data(encode_audio(bytes(4)))


def test_encoder_refuses_what_asterisk_would_not_take():
    with pytest.raises(ValueError):
        encode_dtmf("x")
    with pytest.raises(ValueError):
        encode_frame(Kind.AUDIO, bytes(70_000))
