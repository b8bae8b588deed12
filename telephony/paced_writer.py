"""Outgoing audio for one call, one 20 ms frame per clock tick.

The dialog queues whole prompts with ``play``; each tick sends the next 320 bytes of
queued audio, or a silence frame when nothing is queued. ``interrupt`` (barge-in) drops
what is queued. ``on_frame`` sees every frame exactly as it was sent, which is what the
recording's bot channel stores.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from telephony.audio_format import FRAME_BYTES, SILENCE_FRAME
from telephony.audiosocket_protocol import HEADER_BYTES, Kind

_AUDIO_HEADER = bytes((Kind.AUDIO,)) + FRAME_BYTES.to_bytes(2, "big")
_SILENCE_MESSAGE = _AUDIO_HEADER + SILENCE_FRAME


@dataclass
class Playback:
    """A prompt in the output queue. ``done`` resolves True when fully sent, False if cut."""

    pcm: bytes
    done: asyncio.Future[bool]
    first_frame_sent: asyncio.Future[None]
    offset: int = 0


class PacedWriter:
    def __init__(
        self,
        send: Callable[[bytes], None],
        on_frame: Callable[[bytes], None] | None = None,
    ) -> None:
        self._send = send
        self._on_frame = on_frame
        self._queue: deque[Playback] = deque()
        self.frames_sent = 0
        self.closed = False

    def play(self, pcm: bytes) -> Playback:
        """Queue audio; pads the last frame with silence so frames stay 20 ms."""
        remainder = len(pcm) % FRAME_BYTES
        if remainder:
            pcm = pcm + bytes(FRAME_BYTES - remainder)
        loop = asyncio.get_running_loop()
        playback = Playback(pcm, loop.create_future(), loop.create_future())
        if not pcm or self.closed:
            playback.done.set_result(not self.closed)
            if not playback.first_frame_sent.done():
                playback.first_frame_sent.set_result(None)
        else:
            self._queue.append(playback)
        return playback

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def interrupt(self) -> None:
        """Barge-in: stop talking now."""
        while self._queue:
            self._finish(self._queue.popleft(), completed=False)

    def tick(self) -> None:
        if self.closed:
            return
        if self._queue:
            playback = self._queue[0]
            frame = playback.pcm[playback.offset : playback.offset + FRAME_BYTES]
            playback.offset += FRAME_BYTES
            self._send(_AUDIO_HEADER + frame)
            if not playback.first_frame_sent.done():
                playback.first_frame_sent.set_result(None)
            if playback.offset >= len(playback.pcm):
                self._queue.popleft()
                self._finish(playback, completed=True)
        else:
            frame = SILENCE_FRAME
            self._send(_SILENCE_MESSAGE)
        self.frames_sent += 1
        if self._on_frame is not None:
            self._on_frame(frame)

    def close(self) -> None:
        self.interrupt()
        self.closed = True

    @staticmethod
    def _finish(playback: Playback, *, completed: bool) -> None:
        if not playback.done.done():
            playback.done.set_result(completed)
        if not playback.first_frame_sent.done():
            playback.first_frame_sent.set_result(None)


assert len(_SILENCE_MESSAGE) == HEADER_BYTES + FRAME_BYTES
