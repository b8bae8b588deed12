"""Sans-IO Asterisk Manager Interface (AMI) framing: bytes in, packets out, no sockets.

Wire format (manager.c, checked against Asterisk 22.10.1 captures in tests/captures):

* On connect Asterisk sends one banner line, ``Asterisk Call Manager/X.Y.Z\\r\\n``, with
  *no* blank line after it. It is the first line of the stream and only the first.
* Every later packet is ``Key: Value`` lines, each ended by CRLF, and the packet is ended
  by an empty line (CRLF CRLF). Keys repeat (``Variable:``, snapshot prefixes), so a packet
  is an ordered multi-map, not a dict.
* Text is UTF-8, but a multi-byte character (a Vietnamese caller name) can be split across
  two TCP reads, so we only decode once a whole packet has been framed.

The receive buffer follows h11's: it remembers how far it has already searched for the
terminator, so a peer that trickles a huge packet one byte at a time costs O(n), not O(n²),
and a packet larger than ``max_packet_size`` is refused with :class:`PacketTooLarge` rather
than buffered forever.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

log = logging.getLogger(__name__)

BANNER_PREFIX: Final = "Asterisk Call Manager/"
DEFAULT_MAX_PACKET_SIZE: Final = 256 * 1024

# A blank line is "\n" followed by an optional "\r" and another "\n". Tolerating bare LF
# costs nothing and lets hand-written test input and odd proxies through.
_BLANK_LINE = re.compile(rb"\n\r?\n")


class AmiProtocolError(Exception):
    """The peer sent something that is not AMI."""


class PacketTooLarge(AmiProtocolError):
    """A packet (or the banner) grew past the configured limit without ending."""


@dataclass(frozen=True)
class Banner:
    """The greeting line; ``version`` is the AMI protocol version, not Asterisk's."""

    text: str

    @property
    def version(self) -> str:
        return self.text.removeprefix(BANNER_PREFIX).strip()


@dataclass(frozen=True)
class ConnectionClosed:
    """The peer closed the stream on a packet boundary."""


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()
"""Returned by :meth:`AmiConnection.next_event` until a whole banner or packet is buffered."""


@dataclass
class Packet:
    """One AMI packet: an ordered list of (key, value) pairs; keys are case-insensitive.

    ``get`` returns the first value for a key, ``get_all`` every value in order.
    """

    fields: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, *pairs: tuple[str, str], **kwargs: str) -> Packet:
        """Build a packet by hand (tests, the test server)."""
        return cls([*pairs, *kwargs.items()])

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for k, v in self.fields:
            if k.lower() == wanted:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [v for k, v in self.fields if k.lower() == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def event(self) -> str | None:
        """The event name for an ``Event:`` packet, else None."""
        return self.get("Event")

    @property
    def response(self) -> str | None:
        """``Success``, ``Error``, ``Goodbye``, ``Follows``… for a response packet, else None."""
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """First value per key, for quick inspection; loses repeated keys."""
        out: dict[str, str] = {}
        for k, v in self.fields:
            out.setdefault(k, v)
        return out


class ReceiveBuffer:
    """Bytes received but not yet framed. Searches for terminators incrementally."""

    def __init__(self) -> None:
        self._data = bytearray()
        # Where the next blank-line / newline search may start: everything before it has
        # already been searched and found to contain no terminator.
        self._search_from = 0

    def __iadd__(self, data: bytes) -> ReceiveBuffer:
        self._data += data
        return self

    def __len__(self) -> int:
        return len(self._data)

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def _take(self, end: int) -> bytes:
        out = bytes(self._data[:end])
        del self._data[:end]
        self._search_from = 0
        return out

    def maybe_extract_line(self, limit: int) -> bytes | None:
        """One line including its line ending, or None until a newline has arrived."""
        idx = self._data.find(b"\n", self._search_from)
        if idx < 0:
            self._search_from = len(self._data)
            if len(self._data) > limit:
                raise PacketTooLarge(f"AMI banner line longer than {limit} bytes")
            return None
        if idx + 1 > limit:
            raise PacketTooLarge(f"AMI banner line longer than {limit} bytes")
        return self._take(idx + 1)

    def skip_leading_newlines(self) -> None:
        """Drop blank lines between packets: they would otherwise frame as empty packets."""
        n = 0
        while n < len(self._data) and self._data[n] in b"\r\n":
            n += 1
        if n:
            del self._data[:n]
            self._search_from = 0

    def maybe_extract_packet(self, limit: int) -> bytes | None:
        """The bytes of one packet including its terminator, or None until it is whole."""
        # Back up two bytes: the terminator may straddle the previous search end.
        start = max(0, self._search_from - 2)
        match = _BLANK_LINE.search(self._data, start)
        if match is None:
            self._search_from = len(self._data)
            if len(self._data) > limit:
                raise PacketTooLarge(
                    f"AMI packet exceeds {limit} bytes without a blank line ending it"
                )
            return None
        if match.end() > limit:
            raise PacketTooLarge(f"AMI packet of {match.end()} bytes exceeds limit of {limit}")
        return self._take(match.end())


def parse_packet(raw: bytes) -> Packet:
    """Turn the bytes of one framed packet into a :class:`Packet`.

    Decoding happens here, on the whole packet, never on a partial read.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Asterisk passes caller names through as the carrier sent them; a bad byte must
        # not cost us the whole event. Content is not logged: it may hold a caller's name.
        log.warning("AMI packet is not valid UTF-8 (%s); undecodable bytes replaced", exc.reason)
        text = raw.decode("utf-8", errors="replace")
    fields: list[tuple[str, str]] = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            # Not "Key: Value" (old Command output does this). Keep the text under an
            # empty key instead of dropping it.
            fields.append(("", line))
            continue
        # manager.c skips blanks after the colon; trailing spaces belong to the value.
        fields.append((key.strip(), value.lstrip(" \t")))
    return Packet(fields)


class AmiConnection:
    """The receiving half of an AMI client connection, sans-IO.

    Feed bytes with :meth:`receive_data` (``b""`` means the peer closed), then call
    :meth:`next_event` until it returns :data:`NEED_DATA`. The first event is always a
    :class:`Banner`; every later one is a :class:`Packet`, then :class:`ConnectionClosed`.
    """

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        self.max_packet_size = max_packet_size
        self._buf = ReceiveBuffer()
        self._banner_seen = False
        self._eof = False

    @property
    def banner_seen(self) -> bool:
        return self._banner_seen

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            if data:
                raise RuntimeError("received data after end of stream")
            return
        if data:
            self._buf += data
        else:
            self._eof = True

    def next_event(self) -> Banner | Packet | ConnectionClosed | _NeedData:
        if not self._banner_seen:
            line = self._buf.maybe_extract_line(self.max_packet_size)
            if line is None:
                return self._end_or_need_data()
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if not text.startswith(BANNER_PREFIX):
                raise AmiProtocolError(
                    f"expected an AMI banner '{BANNER_PREFIX}…', got {text[:60]!r}"
                    " (is this the manager port?)"
                )
            self._banner_seen = True
            return Banner(text)
        self._buf.skip_leading_newlines()
        raw = self._buf.maybe_extract_packet(self.max_packet_size)
        if raw is None:
            return self._end_or_need_data()
        return parse_packet(raw)

    def _end_or_need_data(self) -> ConnectionClosed | _NeedData:
        if not self._eof:
            return NEED_DATA
        if len(self._buf):
            raise AmiProtocolError(
                f"connection closed in the middle of a packet ({len(self._buf)} bytes pending)"
            )
        return ConnectionClosed()

    def events(self) -> Iterator[Banner | Packet | ConnectionClosed]:
        """Every event available now; stops at NEED_DATA or after ConnectionClosed."""
        while True:
            ev = self.next_event()
            if ev is NEED_DATA:
                return
            assert not isinstance(ev, _NeedData)
            yield ev
            if isinstance(ev, ConnectionClosed):
                return


FieldsArg = Mapping[str, object] | Iterable[tuple[str, object]] | None


def _check_token(what: str, text: str) -> None:
    if "\r" in text or "\n" in text:
        # A CR/LF inside a value would end the line (or the packet) early and let the
        # rest be read as new headers or a new action: header injection.
        raise ValueError(f"AMI {what} must not contain CR or LF: {text[:40]!r}")


def encode_action(name: str, action_id: str, fields: FieldsArg = None) -> bytes:
    """Serialise one action packet. ``fields`` may repeat keys (pass a list of pairs).

    Raises ValueError for CR/LF anywhere (injection) or a malformed key.
    """
    pairs: list[tuple[str, object]] = [("Action", name), ("ActionID", action_id)]
    if fields is not None:
        pairs.extend(fields.items() if isinstance(fields, Mapping) else fields)
    lines = []
    for key, value in pairs:
        text = "" if value is None else str(value)
        _check_token("header name", key)
        _check_token(f"value for {key!r}", text)
        if not key or ":" in key or key != key.strip():
            raise ValueError(f"invalid AMI header name {key!r}")
        lines.append(f"{key}: {text}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


def encode_packet(packet: Packet) -> bytes:
    """Serialise any packet (the test server uses this for responses and events)."""
    lines = []
    for key, value in packet.fields:
        _check_token("header name", key)
        _check_token(f"value for {key!r}", value)
        lines.append(f"{key}: {value}\r\n" if key else f"{value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")
