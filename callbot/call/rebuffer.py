"""Re-cut incoming audio into fixed frames.

Asterisk's incoming frames follow the call's framing (10, 20, 30 ms, or a short last
frame of a prompt), while webrtcvad wants exactly 10/20/30 ms. Keeps the remainder.
"""

from __future__ import annotations

from telephony.audio_format import FRAME_BYTES


class Rebuffer:
    def __init__(self, frame_bytes: int = FRAME_BYTES) -> None:
        self._frame_bytes = frame_bytes
        self._pending = bytearray()

    def push(self, pcm: bytes) -> list[bytes]:
        self._pending += pcm
        size = self._frame_bytes
        count = len(self._pending) // size
        if not count:
            return []
        frames = [bytes(self._pending[i * size : (i + 1) * size]) for i in range(count)]
        del self._pending[: count * size]
        return frames

    def flush(self) -> bytes:
        """What is left (less than one frame), e.g. at hang-up."""
        rest = bytes(self._pending)
        self._pending.clear()
        return rest
