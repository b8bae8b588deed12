"""An AudioSocket client that behaves like Asterisk's ``AudioSocket()`` application.

Used by the simulator, the load tester and the tests: it sends the UUID frame, then caller
audio at real time (20 ms frames on the shared frame clock — silence between sentences on
an ordinary channel, nothing at all when ``send_silence`` is off, like a Local channel),
DTMF frames, and hangs up by closing the TCP connection, as Asterisk does.
It collects what the bot sends, split into bot *utterances* (audio between silences).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from telephony.audio_format import FRAME_MS
from telephony.audiosocket_protocol import FrameParser, Kind, encode_dtmf, encode_uuid
from telephony.frame_clock import FrameClock
from telephony.paced_writer import PacedWriter


@dataclass
class BotUtterance:
    started_at: float  # monotonic time of its first non-silent frame
    ended_at: float | None = None
    audio: bytearray = field(default_factory=bytearray)


class BotHungUp(Exception):
    pass


class AudioSocketClient:
    def __init__(
        self,
        clock: FrameClock,
        *,
        send_silence: bool = True,
        end_of_utterance_ms: int = 700,
    ) -> None:
        self.clock = clock
        self.send_silence = send_silence
        self.end_of_utterance_ms = end_of_utterance_ms
        self.call_id: str | None = None
        self.utterances: list[BotUtterance] = []
        self.bot_hung_up = asyncio.Event()
        self.closed = asyncio.Event()
        self.frames_received = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._out: PacedWriter | None = None
        self._clock_handle: int | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._silent_frames = 0
        self._taken = 0
        self._utterance_done = asyncio.Event()

    async def connect(self, host: str, port: int, call_uuid: str) -> None:
        self.call_id = call_uuid
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self._writer.write(encode_uuid(call_uuid))
        self._out = PacedWriter(self._send_audio_frame)
        self._clock_handle = self.clock.add(self._out.tick)
        self._read_task = asyncio.create_task(self._read_loop())

    def _send_audio_frame(self, message: bytes) -> None:
        assert self._writer is not None
        if self._writer.is_closing():
            return
        is_silence = not any(message[3:])
        if is_silence and not self.send_silence:
            return
        self._writer.write(message)

    async def say(self, pcm: bytes) -> None:
        """Speak at real time; returns when the last frame has been sent."""
        assert self._out is not None
        await self._out.play(pcm).done

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def press(self, digits: str) -> None:
        assert self._writer is not None
        for digit in digits:
            self._writer.write(encode_dtmf(digit))

    def send_raw(self, data: bytes) -> None:
        """For tests of bad input: put arbitrary bytes on the wire."""
        assert self._writer is not None
        self._writer.write(data)

    async def hang_up(self) -> None:
        """The caller hangs up: Asterisk just closes the TCP connection."""
        self._stop_sending()
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        if self._read_task is not None:
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._read_task

    async def wait_bot_turn(self, timeout: float = 30.0) -> BotUtterance:
        """Wait until the bot has spoken and then fallen silent (end of its prompt)."""
        async with asyncio.timeout(timeout):
            while True:
                # Utterances are handed out once each, in order.
                if len(self.utterances) > self._taken:
                    utterance = self.utterances[self._taken]
                    if utterance.ended_at is not None:
                        self._taken += 1
                        return utterance
                if self.bot_hung_up.is_set() or self.closed.is_set():
                    raise BotHungUp("the bot ended the call")
                self._utterance_done.clear()
                waiter = asyncio.ensure_future(self._utterance_done.wait())
                closed = asyncio.ensure_future(self.closed.wait())
                await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                closed.cancel()

    async def wait_hangup(self, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            await self.closed.wait()

    async def _read_loop(self) -> None:
        assert self._reader is not None
        parser = FrameParser(max_payload=65535)
        try:
            while True:
                data = await self._reader.read(4096)
                if not data:
                    break
                for frame in parser.receive_data(data):
                    if frame.kind is Kind.AUDIO:
                        self._on_bot_audio(frame.payload)
                    elif frame.kind is Kind.HANGUP:
                        self.bot_hung_up.set()
                    elif frame.kind is Kind.ERROR:
                        break
        except ConnectionError:
            pass
        finally:
            self._close_utterance()
            self._stop_sending()
            self.closed.set()
            self._utterance_done.set()

    def _on_bot_audio(self, pcm: bytes) -> None:
        self.frames_received += 1
        silent = not any(pcm)
        now = time.monotonic()
        current = self.utterances[-1] if self.utterances else None
        open_utterance = current is not None and current.ended_at is None
        if not silent:
            self._silent_frames = 0
            if not open_utterance:
                current = BotUtterance(started_at=now)
                self.utterances.append(current)
            assert current is not None
            current.audio += pcm
        elif open_utterance:
            assert current is not None
            current.audio += pcm
            self._silent_frames += 1
            if self._silent_frames * FRAME_MS >= self.end_of_utterance_ms:
                self._close_utterance()

    def _close_utterance(self) -> None:
        if self.utterances and self.utterances[-1].ended_at is None:
            self.utterances[-1].ended_at = time.monotonic()
            self._utterance_done.set()

    def _stop_sending(self) -> None:
        if self._clock_handle is not None:
            self.clock.remove(self._clock_handle)
            self._clock_handle = None
        if self._out is not None:
            self._out.close()
