"""The frame path of one call: bytes from Asterisk to frames, frames to the recording, the
endpointer and the recogniser; keys to the keypad collector; the 20 ms tick that sends the
bot's next frame. Everything here runs on the event loop for every frame, so it does the
least it can and hands longer work (decoding, store writes) to tasks.
"""

from __future__ import annotations

import asyncio
import logging
import time

from callbot.call.call_state import FINAL_DECODE_TIMEOUT_S, READ_BYTES, CallState, HungUp
from callbot.call.dialog import (
    Heard,
    Pressed,
    Silence,
)
from callbot.call.endpointer import (
    NoSpeech,
    SpeechEnded,
    SpeechStarted,
)
from callbot.speech.asr.base import AsrStream, Hypothesis
from callbot.tickets.model import CallEndReason, Speaker, TurnKind
from telephony.audiosocket_protocol import (
    AudioReceived,
    AudioSocketError,
    DtmfReceived,
    ErrorReceived,
    HangupReceived,
)

log = logging.getLogger(__name__)


class FramePath(CallState):
    # ── the wire ─────────────────────────────────────────────────────────────────────────

    async def _read_loop(self) -> None:
        try:
            while True:
                if self.connection.error_pending:  # good frames came first; now the bad one
                    self.connection.receive_data(b"")
                data = await self.reader.read(READ_BYTES)
                if not data:
                    self.connection.receive_eof()
                    self._caller_gone(CallEndReason.CALLER_HANGUP, "connection closed")
                    return
                for event in self.connection.receive_data(data):
                    self._on_wire_event(event)
                    if self._hung_up:
                        return
        except AudioSocketError as error:
            await self._protocol_error(error)
        except ConnectionError as error:
            # A reset (the peer closed with the bot's audio unread) ends the stream as EOF
            # does: a frame cut in the middle is still a protocol error, not a hang-up.
            try:
                self.connection.receive_eof()
            except AudioSocketError as cut:
                await self._protocol_error(cut)
                return
            self._caller_gone(CallEndReason.CALLER_HANGUP, str(error))

    async def _protocol_error(self, error: AudioSocketError) -> None:
        log.warning("call %s: protocol error: %s", self.call_id, error)
        await self._turn(Speaker.SYSTEM, TurnKind.EVENT, f"protocol error: {error}")
        self._caller_gone(CallEndReason.PROTOCOL_ERROR, str(error))

    def _caller_gone(self, reason: CallEndReason, detail: str) -> None:
        if not self._hung_up:
            self._hung_up = True
            self._stop_output()
            self.inputs.put_nowait(HungUp(reason, detail))

    def _on_wire_event(self, event: object) -> None:
        match event:
            case AudioReceived(pcm):
                if self.recorder is not None:
                    self.recorder.caller_audio(pcm)
                now = time.monotonic()
                for frame in self.rebuffer.push(pcm):
                    self._on_caller_frame(frame, now)
            case DtmfReceived(digit):
                self._on_key(digit)
            case HangupReceived():
                self._caller_gone(CallEndReason.CALLER_HANGUP, "hangup frame")
            case ErrorReceived(code):
                log.warning("call %s: Asterisk reported error %s", self.call_id, code)
                self._caller_gone(CallEndReason.PROTOCOL_ERROR, f"error frame {code}")

    # ── listening ────────────────────────────────────────────────────────────────────────

    def _on_caller_frame(self, frame: bytes, now: float) -> None:
        ask = self._ask
        if ask is None or not self.endpointer.listening:
            return
        events = self.endpointer.push_frame(frame, now)
        if self._asr_stream is not None and self.endpointer.in_speech:
            self._asr_stream.accept(frame)
        self._on_endpoint_events(events)

    def _tick(self) -> None:
        assert self.out is not None
        self.out.tick()
        if self._ask is None:
            return
        now = time.monotonic()
        self._on_endpoint_events(self.endpointer.tick(now))
        if self._keys and now - self._last_key_at >= self.s.keypad_digit_timeout_s:
            self._deliver_keys()

    def _on_endpoint_events(self, events: list) -> None:
        ask = self._ask
        if ask is None:
            return
        for event in events:
            if isinstance(event, SpeechStarted):
                if not ask.speech:
                    continue  # keypad-only question: speech is ignored
                if self.out is not None and self.out.playing:
                    self.out.interrupt()  # barge-in
                    self.s.metrics.barge_ins += 1
                self._asr_stream = self.s.asr.open_stream(ask.phrases or None, ask.choices)
                self._asr_stream.accept(event.preroll)
                self._utterance_start_ms = max(
                    0, (self.recorder.duration_ms if self.recorder else 0) - 300
                )
            elif isinstance(event, SpeechEnded):
                if not ask.speech or self._asr_stream is None:
                    self.endpointer.listen(event.at)
                    continue
                self._speech_ended_at = event.at
                stream, self._asr_stream = self._asr_stream, None
                task = asyncio.create_task(self._decode(stream))
                self._decodes.add(task)
                task.add_done_callback(self._decodes.discard)
            elif isinstance(event, NoSpeech):
                self.inputs.put_nowait(Silence())
                self._spawn(self._turn(Speaker.CALLER, TurnKind.SILENCE, ""))

    async def _decode(self, stream: AsrStream) -> None:
        start_ms = self._utterance_start_ms
        hypothesis = await stream.finish()
        self.s.metrics.asr_decoded(hypothesis)
        await self._caller_said(hypothesis, start_ms)
        self.inputs.put_nowait(Heard(hypothesis.text, hypothesis.confidence, hypothesis.choice))

    async def _decode_final(self) -> None:
        stream, self._asr_stream = self._asr_stream, None
        assert stream is not None
        try:
            async with asyncio.timeout(FINAL_DECODE_TIMEOUT_S):
                hypothesis = await stream.finish()
        except (TimeoutError, Exception):
            log.exception("call %s: final decode failed", self.call_id)
            return
        if hypothesis.text:
            await self._caller_said(hypothesis, self._utterance_start_ms, note=" (hung up)")

    async def _caller_said(self, hypothesis: Hypothesis, start_ms: int, note: str = "") -> None:
        end_ms = self.recorder.duration_ms if self.recorder else None
        await self._turn(
            Speaker.CALLER,
            TurnKind.SPEECH,
            hypothesis.text + note,
            confidence=hypothesis.confidence,
            start_ms=start_ms,
            end_ms=end_ms,
        )

    def _on_key(self, digit: str) -> None:
        ask = self._ask
        now = time.monotonic()
        if ask is None or (ask.keypad is None and digit != self.s.script.human_key):
            self._spawn(self._turn(Speaker.CALLER, TurnKind.KEYPAD, f"{digit} (ignored)"))
            return
        if self.out is not None and self.out.playing:
            self.out.interrupt()  # a key is a barge-in too
        if self._asr_stream is not None:
            self._asr_stream.cancel()
            self._asr_stream = None
            self.endpointer.listen(now)
        self._last_key_at = now
        self._speech_ended_at = now
        max_digits = ask.keypad.max_digits if ask.keypad else 1
        if digit == "#":
            self._deliver_keys()
            return
        self._keys += digit
        if len(self._keys) >= max_digits or (digit == self.s.script.human_key and max_digits == 1):
            self._deliver_keys()

    def _deliver_keys(self) -> None:
        keys, self._keys = self._keys, ""
        if not keys or self._ask is None:
            return
        self.inputs.put_nowait(Pressed(keys))
        self._spawn(self._turn(Speaker.CALLER, TurnKind.KEYPAD, keys, confidence=1.0))
