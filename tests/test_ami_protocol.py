"""Sans-IO AMI parser: real Asterisk 22.10.1 bytes, split anywhere, hostile input."""

from __future__ import annotations

import logging
import time

import pytest

try:  # tests/ on sys.path (rootdir layout) or the repo root (tests as a package)
    from ami_server import load_capture
except ModuleNotFoundError:
    from tests.ami_server import load_capture
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.ami_protocol import (
    NEED_DATA,
    AmiConnection,
    AmiProtocolError,
    Banner,
    ConnectionClosed,
    Packet,
    PacketTooLarge,
    encode_action,
    encode_packet,
    parse_packet,
)

SESSION = load_capture("ami_session_overflow.txt")
WIRE = SESSION.server_bytes


def read_all(chunks: list[bytes], eof: bool = True, **kw: int) -> list[object]:
    conn = AmiConnection(**kw)
    out: list[object] = []
    for chunk in chunks:
        if not chunk:
            continue  # b"" means end of stream to the parser; a real read never returns it
        conn.receive_data(chunk)
        out.extend(conn.events())
    if eof:
        conn.receive_data(b"")
        out.extend(conn.events())
    return out


def expected_from_capture() -> list[Packet]:
    """Packets straight from the capture text, without going through the byte parser."""
    out = []
    for raw in SESSION.server_packets:
        lines = raw.decode().split("\r\n")
        pairs = [x.split(": ", 1) if ": " in x else [x.rstrip(":"), ""] for x in lines if x]
        out.append(Packet([(k, v) for k, v in pairs]))
    return out


EXPECTED = expected_from_capture()


def test_whole_session_parses_into_every_packet() -> None:
    events = read_all([WIRE])
    assert events[0] == Banner("Asterisk Call Manager/11.0.0")
    assert events[0].version == "11.0.0"
    assert isinstance(events[-1], ConnectionClosed)
    packets = events[1:-1]
    assert len(packets) == len(SESSION.server_packets) == 184
    assert packets == EXPECTED
    # Spot checks on what the rest of the code relies on.
    assert packets[0].response == "Success" and packets[0].action_id == "demo-1"
    qm = next(p for p in packets if p.event == "QueueMember")
    assert qm.get("pausedreason") == ""  # "PausedReason: " with nothing after
    assert qm.get("LOCATION") == "Local/agent1@agents/n"
    abandon = next(p for p in packets if p.event == "QueueCallerAbandon")
    assert abandon.get("HoldTime") == "20" and abandon.get("Reason") is None


def test_fed_one_byte_at_a_time_gives_the_same_packets() -> None:
    # Every byte boundary of the session is a read boundary here, in one O(n) pass.
    assert read_all([WIRE[i : i + 1] for i in range(len(WIRE))]) == read_all([WIRE])


def test_every_packet_split_at_every_byte() -> None:
    # Two reads, cut at each position of each packet (the cost of a split at every byte
    # of the whole stream, without re-parsing 64 KB once per cut).
    for raw, expected in zip(SESSION.server_packets, EXPECTED, strict=True):
        for cut in range(len(raw) + 1):
            got = read_all([SESSION.banner + raw[:cut], raw[cut:]])
            assert got[1:-1] == [expected], (cut, raw[:60])


def test_every_two_chunk_split_of_the_first_packets() -> None:
    head = SESSION.banner + b"".join(SESSION.server_packets[:6])
    whole = read_all([head])
    for cut in range(len(head) + 1):
        assert read_all([head[:cut], head[cut:]]) == whole


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(WIRE)), max_size=40))
def test_split_anywhere_property(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks, start = [], 0
    for p in [*points, len(WIRE)]:
        chunks.append(WIRE[start:p])
        start = p
    assert read_all(chunks)[1:-1] == EXPECTED


_KEY = (
    st.text(st.characters(codec="utf-8", exclude_characters=":\r\n"), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
_VALUE = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30).map(
    lambda s: s.lstrip(" \t")
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.tuples(_KEY, _VALUE), min_size=1, max_size=6), min_size=1, max_size=5),
    st.data(),
)
def test_roundtrip_random_packets_split_anywhere(fields, data) -> None:
    packets = [Packet(list(f)) for f in fields]
    wire = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(encode_packet(p) for p in packets)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    chunks, start = [], 0
    for c in [*cuts, len(wire)]:
        chunks.append(wire[start:c])
        start = c
    assert read_all(chunks)[1:-1] == packets


def test_vietnamese_name_split_mid_character_arrives_intact() -> None:
    name = "Nguyễn Thị Ánh"
    packet = (
        "Event: UserEvent\r\nPrivilege: user,all\r\nChannel: PJSIP/trunk-0000002a\r\n"
        f"CallerIDNum: 0903123456\r\nCallerIDName: {name}\r\nUserEvent: CallbotCall\r\n"
        "AudioSocketUUID: 4c0f3f57-8d1e-4a8f-9a59-8c2f0a6b1d11\r\n\r\n"
    ).encode()
    start = packet.index("ễ".encode())
    cut = start + 1  # inside the 3-byte UTF-8 sequence of "ễ"
    conn = AmiConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n" + packet[:cut])
    assert isinstance(conn.next_event(), Banner)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(packet[cut:])
    got = conn.next_event()
    assert isinstance(got, Packet)
    assert got.get("CallerIDName") == name
    # And at every cut point inside every multi-byte character.
    for i in range(len(packet) + 1):
        [pkt] = read_all([b"Asterisk Call Manager/11.0.0\r\n" + packet[:i], packet[i:]])[1:-1]
        assert pkt.get("CallerIDName") == name


def test_invalid_utf8_is_replaced_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        p = parse_packet(b"Event: X\r\nCallerIDName: a\xffb\r\n\r\n")
    assert p.get("CallerIDName") == "a\ufffdb"
    assert "not valid UTF-8" in caplog.text
    assert "a\ufffdb" not in caplog.text


def test_bare_lf_and_mixed_line_endings() -> None:
    wire = b"Asterisk Call Manager/11.0.0\nResponse: Success\nActionID: 1\n\nEvent: A\r\nX: 1\n\r\n"
    events = read_all([wire])
    assert [p.fields for p in events[1:-1]] == [
        [("Response", "Success"), ("ActionID", "1")],
        [("Event", "A"), ("X", "1")],
    ]


def test_repeated_keys_and_case_insensitive_lookup() -> None:
    p = parse_packet(b"Event: VarSet\r\nVariable: A=1\r\nvariable: B=2\r\nValue:x\r\n\r\n")
    assert p.get_all("VARIABLE") == ["A=1", "B=2"]
    assert p.get("variable") == "A=1"
    assert p.get("value") == "x"
    assert "EVENT" in p and "Missing" not in p
    assert p.get("missing", "d") == "d"


def test_banner_only_on_first_line_and_no_blank_after_it() -> None:
    wire = b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n\r\n"
    events = read_all([wire])
    assert isinstance(events[0], Banner)
    assert events[1].fields == [("Response", "Success")]
    # A later line that looks like a banner is just a line without a colon-space header.
    p = read_all([wire + b"Asterisk Call Manager/1.0\r\n\r\n"])[2]
    assert p.fields == [("", "Asterisk Call Manager/1.0")]


def test_wrong_service_is_a_clear_error() -> None:
    conn = AmiConnection()
    conn.receive_data(b"SSH-2.0-OpenSSH_9.6\r\n")
    with pytest.raises(AmiProtocolError, match="manager port"):
        conn.next_event()


def test_max_packet_size_is_enforced_with_clear_error() -> None:
    conn = AmiConnection(max_packet_size=1024)
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n")
    conn.next_event()
    conn.receive_data(b"Event: Big\r\nData: " + b"x" * 2000)
    with pytest.raises(PacketTooLarge, match="1024"):
        conn.next_event()
    conn = AmiConnection(max_packet_size=64)
    conn.receive_data(b"A" * 100)
    with pytest.raises(PacketTooLarge):
        conn.next_event()


def test_hostile_trickle_is_linear() -> None:
    # 200 KB of one packet, 1 KB at a time: a rescanning parser is quadratic here.
    conn = AmiConnection(max_packet_size=1 << 20)
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\n")
    conn.next_event()
    chunk = b"K: " + b"v" * 1000 + b"\r\n"
    t0 = time.perf_counter()
    for _ in range(200):
        conn.receive_data(chunk)
        assert conn.next_event() is NEED_DATA
    conn.receive_data(b"\r\n")
    p = conn.next_event()
    assert isinstance(p, Packet) and len(p) == 200
    assert time.perf_counter() - t0 < 0.5


def test_eof_mid_packet_is_an_error() -> None:
    conn = AmiConnection()
    conn.receive_data(b"Asterisk Call Manager/11.0.0\r\nEvent: Half")
    conn.receive_data(b"")
    conn.next_event()
    with pytest.raises(AmiProtocolError, match="middle of a packet"):
        conn.next_event()


def test_encode_action_matches_the_capture_login() -> None:
    login = encode_action(
        "Login",
        "demo-1",
        {"Username": "callbot", "Secret": "callbot-secret", "Events": "system,call,agent,user"},
    )
    assert login == SESSION.client_packets[0]


def test_encode_action_repeated_keys() -> None:
    data = encode_action("Originate", "7", [("Variable", "A=1"), ("Variable", "B=2")])
    assert data.count(b"Variable: ") == 2 and data.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "fields",
    [
        {"Channel": "PJSIP/x\r\nAction: Originate"},
        {"Value": "a\nb"},
        {"Bad\rKey": "v"},
        {"Bad: Key": "v"},
        {"": "v"},
    ],
)
def test_encode_action_refuses_injection(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        encode_action("Setvar", "1", fields)
    with pytest.raises(ValueError):
        encode_action("Set\r\nvar", "1")
