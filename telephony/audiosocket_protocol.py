"""AudioSocket framing, sans-IO: bytes in, events out, no sockets.

Every message is a 3-byte header — 1 byte kind, 2 bytes payload length big-endian — then
the payload (Asterisk ``res_audiosocket.c``). The UUID frame always comes first. The parser
keeps partial frames across ``receive_data`` calls, so TCP may split or coalesce anything.

Errors are specific exception types so the server can log exactly what the peer did wrong
and still close the call cleanly (the call session turns it into an incomplete ticket).
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from enum import IntEnum

HEADER_BYTES = 3

# Asterisk sends 20 ms frames (320 bytes) but the length field allows 65535. A peer that
# announces more than this is broken or hostile; we refuse rather than buffer it.
DEFAULT_MAX_PAYLOAD = 4096


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  # signed linear 16-bit LE mono 8 kHz
    ERROR = 0xFF


_KINDS = frozenset(Kind)


class AudioSocketError(Exception):
    """The peer broke the protocol; the connection should be closed."""


class UnknownKind(AudioSocketError):
    def __init__(self, kind: int) -> None:
        super().__init__(f"unknown AudioSocket frame kind 0x{kind:02x}")
        self.kind = kind


class FrameTooLarge(AudioSocketError):
    def __init__(self, kind: int, length: int, limit: int) -> None:
        super().__init__(
            f"AudioSocket frame kind 0x{kind:02x} announces {length} bytes,"
            f" over the {limit}-byte limit"
        )
        self.length = length


class TruncatedFrame(AudioSocketError):
    def __init__(self, missing: int) -> None:
        super().__init__(f"connection closed in the middle of a frame ({missing} bytes missing)")
        self.missing = missing


class AudioBeforeUuid(AudioSocketError):
    def __init__(self, kind: int) -> None:
        super().__init__(f"frame kind 0x{kind:02x} arrived before the UUID frame")


class BadPayload(AudioSocketError):
    """A known kind with a payload that cannot be right (UUID not 16 bytes, odd audio…)."""


@dataclass(frozen=True)
class Frame:
    kind: Kind
    payload: bytes


# Events the connection state machine produces.
@dataclass(frozen=True)
class CallStarted:
    uuid: str  # canonical lower-case form with dashes


@dataclass(frozen=True)
class AudioReceived:
    pcm: bytes


@dataclass(frozen=True)
class DtmfReceived:
    digit: str


@dataclass(frozen=True)
class HangupReceived:
    pass


@dataclass(frozen=True)
class ErrorReceived:
    code: int | None  # Asterisk sends a one-byte error code, sometimes none


Event = CallStarted | AudioReceived | DtmfReceived | HangupReceived | ErrorReceived


def encode_frame(kind: Kind, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a 16-bit length")
    return bytes((kind,)) + len(payload).to_bytes(2, "big") + payload


def encode_audio(pcm: bytes) -> bytes:
    return encode_frame(Kind.AUDIO, pcm)


def encode_hangup() -> bytes:
    return encode_frame(Kind.HANGUP)


def encode_uuid(call_uuid: str) -> bytes:
    return encode_frame(Kind.UUID, uuid_module.UUID(call_uuid).bytes)


def encode_dtmf(digit: str) -> bytes:
    if len(digit) != 1 or digit not in "0123456789*#ABCD":
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return encode_frame(Kind.DTMF, digit.encode("ascii"))


class FrameParser:
    """Splits a byte stream into frames; knows nothing about call state."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._buffer = bytearray()
        self._max_payload = max_payload
        self._error: AudioSocketError | None = None

    @property
    def error_pending(self) -> bool:
        """A bad frame follows the frames last returned; the next call raises its error."""
        return self._error is not None

    def receive_data(self, data: bytes) -> list[Frame]:
        """Add bytes from the wire; return every frame now complete (maybe none).

        Frames before a bad one are returned first (the UUID and audio that came with
        garbage still count); the error is raised by the next call — pass ``b""`` to get
        it when ``error_pending``. Once raised, every later call raises it again.
        """
        if self._error is not None:
            raise self._error
        self._buffer += data
        frames: list[Frame] = []
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= HEADER_BYTES:
            kind_byte = buffer[start]
            length = int.from_bytes(buffer[start + 1 : start + 3], "big")
            error: AudioSocketError | None = None
            if kind_byte not in _KINDS:
                error = UnknownKind(kind_byte)
            elif length > self._max_payload:
                error = FrameTooLarge(kind_byte, length, self._max_payload)
            if error is not None:
                self._error = error
                if frames:
                    break
                raise error
            kind = Kind(kind_byte)
            end = start + HEADER_BYTES + length
            if end > len(buffer):
                break
            frames.append(Frame(kind, bytes(buffer[start + HEADER_BYTES : end])))
            start = end
        # One deletion per call, not per frame: keeps coalesced input O(n).
        del buffer[:start]
        return frames

    def receive_eof(self) -> None:
        """The peer closed; raise if it left half a frame (or a bad one) behind."""
        if self._error is not None:
            raise self._error
        if self._buffer:
            if len(self._buffer) < HEADER_BYTES:
                missing = HEADER_BYTES - len(self._buffer)
            else:
                length = int.from_bytes(self._buffer[1:3], "big")
                missing = HEADER_BYTES + length - len(self._buffer)
            raise TruncatedFrame(missing)

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)


class AudioSocketConnection:
    """Server-side state machine: frames → call events, enforcing UUID-first."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._parser = FrameParser(max_payload)
        self._error: AudioSocketError | None = None
        self.uuid: str | None = None

    def receive_data(self, data: bytes) -> list[Event]:
        """Frames → events, with FrameParser's contract: events before a bad frame first."""
        if self._error is not None:
            raise self._error
        events: list[Event] = []
        for frame in self._parser.receive_data(data):
            try:
                events.append(self._event(frame))
            except AudioSocketError as error:
                self._error = error
                if events:
                    return events
                raise
        return events

    @property
    def error_pending(self) -> bool:
        return self._error is not None or self._parser.error_pending

    def receive_eof(self) -> None:
        if self._error is not None:
            raise self._error
        self._parser.receive_eof()

    def _event(self, frame: Frame) -> Event:
        if self.uuid is None and frame.kind not in (Kind.UUID, Kind.HANGUP, Kind.ERROR):
            raise AudioBeforeUuid(frame.kind)
        match frame.kind:
            case Kind.UUID:
                if len(frame.payload) != 16:
                    raise BadPayload(f"UUID frame of {len(frame.payload)} bytes, expected 16")
                if self.uuid is not None:
                    raise BadPayload("a second UUID frame on the same connection")
                self.uuid = str(uuid_module.UUID(bytes=frame.payload))
                return CallStarted(self.uuid)
            case Kind.AUDIO:
                if len(frame.payload) % 2:
                    raise BadPayload(f"audio frame of odd length {len(frame.payload)}")
                return AudioReceived(frame.payload)
            case Kind.DTMF:
                digit = frame.payload[:1].decode("ascii", "replace")
                if len(frame.payload) != 1 or digit not in "0123456789*#ABCD":
                    raise BadPayload(f"DTMF frame with payload {frame.payload!r}")
                return DtmfReceived(digit)
            case Kind.HANGUP:
                return HangupReceived()
            case Kind.ERROR:
                return ErrorReceived(frame.payload[0] if frame.payload else None)
