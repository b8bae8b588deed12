"""One phone call, from the AudioSocket UUID frame to the ticket's last write.

Three things run per call:
- the *reader* turns bytes from Asterisk into audio frames, keys and hang-up; audio goes to
  the recording and, re-cut to 20 ms, to the endpointer and the recogniser;
- the *tick* (on the process-wide 20 ms clock) sends the next bot frame (or silence),
  records both channels, and lets the endpointer see time pass when no frames come;
- the *dialog loop* executes the dialog's actions (say, ask, store a slot, end, hand back)
  and feeds it what the caller did.
Every turn is written to the store as it happens. Whatever ends the call — goodbye, the
caller hanging up, garbage on the wire, our own bug, server shutdown — the ``finally``
closes the recording and marks the ticket, complete or incomplete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from callbot.call.dialog import (
    Action,
    Ask,
    Dialog,
    End,
    HandBack,
    HandBackFailed,
    Heard,
    MissingSlot,
    OperatorFree,
    Pressed,
    Say,
    Script,
    SetSlot,
    Silence,
)
from callbot.call.endpointer import (
    Endpointer,
    EndpointerSettings,
    NoSpeech,
    SpeechEnded,
    SpeechStarted,
)
from callbot.call.handback_queue import HandbackQueue, OperatorView
from callbot.call.metrics import CallMetrics
from callbot.call.rebuffer import Rebuffer
from callbot.call.recording import CallRecorder
from callbot.nlu.phone import check_phone
from callbot.speech.asr.base import AsrEngine, AsrStream, Hypothesis
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import CallEndReason, CallRecord, Speaker, Ticket, Turn, TurnKind, utcnow
from callbot.tickets.store.base import StoreError, TicketStore
from telephony.audio_format import duration_ms
from telephony.audiosocket_protocol import (
    AudioReceived,
    AudioSocketConnection,
    AudioSocketError,
    CallStarted,
    DtmfReceived,
    ErrorReceived,
    HangupReceived,
    encode_hangup,
)
from telephony.frame_clock import FrameClock
from telephony.paced_writer import PacedWriter, Playback

log = logging.getLogger(__name__)

READ_BYTES = 4096
# After the caller hangs up mid-sentence we still decode what they said, but not forever.
FINAL_DECODE_TIMEOUT_S = 10.0


class CallerLookup(Protocol):
    """What the network knows about a call (telephony.correlation.CallerDirectory)."""

    async def wait_for(self, uuid: str, timeout: float) -> object | None: ...


@dataclass
class CallServices:
    """What every call in the process shares: models, store, prompts, the clock."""

    store: TicketStore
    asr: AsrEngine
    prompts: PromptLibrary
    clock: FrameClock
    script: Script
    endpointer: EndpointerSettings = field(default_factory=EndpointerSettings)
    recordings_dir: Path | None = None
    keypad_digit_timeout_s: float = 3.0
    max_call_s: float = 600.0
    uuid_timeout_s: float = 5.0
    max_payload: int = 4096
    callers: CallerLookup | None = None
    correlation_wait_s: float = 1.0
    operators: OperatorView | None = None
    # Callers who asked for a person while none was free, offered operators one by one.
    handbacks: HandbackQueue | None = None
    queue: str = "support"
    metrics: CallMetrics = field(default_factory=CallMetrics)
    # Called with the call id and what the network told us about the call when the bot
    # hands the caller back (AMI sets a channel variable so the dialplan requeues them).
    on_handback: Callable[[str, object | None], Awaitable[object]] | None = None
    # Called with the closed ticket: routing to the agency and the outbox. Never raises.
    after_call: Callable[[Ticket], Awaitable[object]] | None = None
    # Called once the network has told us who the caller is (e.g. start MixMonitor).
    on_caller_known: Callable[[str, object], Awaitable[object]] | None = None


# What the listener hands the dialog loop.
@dataclass(frozen=True)
class _HungUp:
    reason: CallEndReason
    detail: str = ""


_Input = Heard | Pressed | Silence | OperatorFree | HandBackFailed | _HungUp


class _PeerGone(Exception):
    pass


class CallSession:
    def __init__(
        self,
        services: CallServices,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.s = services
        self.reader = reader
        self.writer = writer
        self.connection = AudioSocketConnection(max_payload=services.max_payload)
        self.call_id: str | None = None
        self.ticket: Ticket | None = None
        self.recorder: CallRecorder | None = None
        self.out: PacedWriter | None = None
        self.endpointer = Endpointer(services.endpointer)
        self.rebuffer = Rebuffer()
        self.inputs: asyncio.Queue[_Input] = asyncio.Queue()
        self._clock_handle: int | None = None
        self._seq = 0
        self._ask: Ask | None = None
        self._asr_stream: AsrStream | None = None
        self._utterance_start_ms = 0
        self._decodes: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._keys = ""
        self._last_key_at = 0.0
        self._speech_ended_at: float | None = None  # for turn latency
        self._end_reason: CallEndReason | None = None
        self._complete = False
        self._hung_up = False
        self._store_failures = 0
        self._current_playback: Playback | None = None
        self.caller_info: object | None = None  # from the AMI correlation, if any
        self.network: dict[str, str] = {}  # slot values the network offers (caller number)
        self.dialog: Dialog | None = None
        self._waiting_for_operator = False

    # ── entry point ──────────────────────────────────────────────────────────────────────

    async def run(self) -> None:
        peer = self.writer.get_extra_info("peername")
        self.s.metrics.calls_in_progress += 1
        reader_task: asyncio.Task[None] | None = None
        try:
            first = await self._read_uuid()
            try:
                await self._begin(first)
            except StoreError:
                # No ticket can be kept (disk full, database down): don't take the call.
                # A hangup frame returns it to the dialplan at once, which sends the caller
                # on (docs/asterisk) instead of a bot that would forget what they said.
                log.exception("call %s: ticket store unavailable; returning the call", first.uuid)
                self.ticket = None
                self._end_reason = CallEndReason.SERVER_ERROR
                await self._return_to_operators(first.uuid)
                return
            reader_task = asyncio.create_task(self._read_loop(), name=f"read-{self.call_id}")
            async with asyncio.timeout(self.s.max_call_s):
                await self._dialog_loop()
        except _PeerGone as gone:
            if self.call_id is None:
                self.s.metrics.unidentified_connections += 1
            log.info("call %s: %s", self.call_id or peer, gone)
        except AudioSocketError as error:
            if self.call_id is None:
                # Garbage before any UUID: nobody can be called back, and junk would fill
                # the callback queue; it is logged and counted, not filed.
                self.s.metrics.unidentified_connections += 1
                log.warning("connection from %s sent no valid UUID: %s", peer, error)
            else:
                log.warning("call %s from %s: protocol error: %s", self.call_id, peer, error)
                await self._protocol_error(error)
        except TimeoutError:
            log.warning("call %s: longer than %.0f s, ending it", self.call_id, self.s.max_call_s)
            self._end_reason = self._end_reason or CallEndReason.SERVER_ERROR
        except asyncio.CancelledError:
            self._end_reason = self._end_reason or CallEndReason.SHUTDOWN
            raise
        except Exception:
            log.exception("call %s failed", self.call_id)
            self._end_reason = self._end_reason or CallEndReason.SERVER_ERROR
        finally:
            if reader_task is not None:
                reader_task.cancel()
            await asyncio.shield(self._finish())
            self.s.metrics.calls_in_progress -= 1

    # ── start ────────────────────────────────────────────────────────────────────────────

    async def _read_uuid(self) -> CallStarted:
        """The first frame must be the UUID; anything else is a protocol error."""
        try:
            async with asyncio.timeout(self.s.uuid_timeout_s):
                return await self._first_event()
        except TimeoutError:
            raise _PeerGone(f"sent no UUID within {self.s.uuid_timeout_s:.0f} s") from None

    async def _first_event(self) -> CallStarted:
        while True:
            data = await self.reader.read(READ_BYTES)
            if not data:
                self.connection.receive_eof()
                raise _PeerGone("closed before sending its UUID")
            events = self.connection.receive_data(data)
            if events:
                first, rest = events[0], events[1:]
                if not isinstance(first, CallStarted):
                    raise _PeerGone(f"sent {type(first).__name__} before its UUID")
                for event in rest:  # audio coalesced with the UUID frame
                    self._on_wire_event(event)
                return first

    async def _begin(self, started: CallStarted) -> None:
        self.call_id = started.uuid
        recording_rel = f"{utcnow():%Y/%m/%d}/{self.call_id}.wav"
        recording = self.s.recordings_dir is not None
        self.ticket = await self.s.store.begin_call(
            CallRecord(self.call_id, utcnow(), recording_path=recording_rel if recording else None)
        )
        if self.s.recordings_dir is not None:
            self.recorder = CallRecorder(self.s.recordings_dir / recording_rel)
        self.out = PacedWriter(self.writer.transport.write, self._on_bot_frame)
        self._clock_handle = self.s.clock.add(self._tick)
        if self.s.callers is not None:
            self._spawn(self._correlate())
        log.info("call %s started, ticket %s", self.call_id, self.ticket.id)

    async def _correlate(self) -> None:
        assert self.call_id is not None and self.s.callers is not None
        info = await self.s.callers.wait_for(self.call_id, self.s.correlation_wait_s)
        if info is None:
            return
        self.caller_info = info
        number = getattr(info, "caller_number", None)
        if number and check_phone(number).kind:  # only a number we could call back
            self.network["callback_number"] = number
        channel = getattr(info, "channel", None)
        await self._persist(
            self.s.store.set_call_info(self.call_id, caller_number=number, channel_name=channel)
        )
        if self.s.on_caller_known is not None:
            await self.s.on_caller_known(self.call_id, info)

    # ── dialog loop ──────────────────────────────────────────────────────────────────────

    async def _dialog_loop(self) -> None:
        assert self.ticket is not None
        dialog = Dialog(
            self.s.script,
            ticket_id=self.ticket.id,
            operator_available=self._free,
            network=self.network,
        )
        self.dialog = dialog
        actions = dialog.start()
        while True:
            event = await self._execute(actions)
            if event is None:
                return
            if isinstance(event, _HungUp):
                self._end_reason = event.reason
                return
            actions = dialog.handle(event)
            self._wait_for_operator(dialog.state.human_requested)

    async def _execute(self, actions: list[Action]) -> _Input | None:
        """Run actions until one needs the caller; return what the caller did."""
        for action in actions:
            match action:
                case Say(pieces):
                    await self._speak(pieces, wait=True)
                case Ask():
                    return await self._ask_and_listen(action)
                case SetSlot(slot):
                    assert self.call_id is not None
                    await self._persist(self.s.store.set_slot(self.call_id, slot))
                case MissingSlot(name, why):
                    await self._turn(Speaker.SYSTEM, TurnKind.EVENT, f"slot {name} missing: {why}")
                case End(reason, complete):
                    self._end_reason, self._complete = reason, complete
                    await self._hang_up()
                    return None
                case HandBack(pieces):
                    if not await self._mark_handback():
                        return HandBackFailed()  # the dialog resumes; nothing was promised
                    self._end_reason = CallEndReason.HANDED_BACK
                    await self._turn(Speaker.SYSTEM, TurnKind.EVENT, "handed back to operators")
                    await self._speak(pieces, wait=True)
                    await self._hang_up()
                    return None
        return None

    async def _mark_handback(self) -> bool:
        """Mark the channel for the operators' queue (AMI). False when that cannot be done:
        no AMI, the channel is unknown, or Asterisk refused."""
        assert self.call_id is not None
        why = "no AMI link"
        if self.s.on_handback is not None:
            try:
                if await self.s.on_handback(self.call_id, self.caller_info):
                    return True
                why = "channel unknown or AMI refused"
            except Exception:
                log.exception("call %s: hand-back hook failed", self.call_id)
                why = "hand-back hook failed"
        await self._turn(Speaker.SYSTEM, TurnKind.EVENT, f"hand-back failed: {why}")
        return False

    async def _speak(self, pieces: tuple, *, wait: bool) -> Playback:
        assert self.out is not None
        pcm = await self.s.prompts.speak(pieces)
        start_ms = self.recorder.duration_ms if self.recorder else None
        playback = self.out.play(pcm)
        self._current_playback = playback
        playback.first_frame_sent.add_done_callback(self._measure_latency)
        await self._turn(
            Speaker.BOT,
            TurnKind.PROMPT,
            self.s.prompts.text_of(pieces),
            start_ms=start_ms,
            end_ms=None if start_ms is None else start_ms + duration_ms(len(pcm)),
        )
        if wait:
            await self._wait_playback(playback)
        return playback

    async def _wait_playback(self, playback: Playback) -> None:
        """Wait for a prompt to finish; a hang-up meanwhile ends the call."""
        get = asyncio.ensure_future(self.inputs.get())
        try:
            done, _ = await asyncio.wait({playback.done, get}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not get.done():  # also when the call itself is cancelled (shutdown)
                get.cancel()
        if get in done and not get.cancelled():
            event = get.result()
            if isinstance(event, _HungUp):
                self._end_reason = event.reason
                raise _PeerGone("caller hung up during a prompt")
            self.inputs.put_nowait(event)  # a key pressed during a Say: keep it for the Ask

    async def _ask_and_listen(self, ask: Ask) -> _Input:
        self._ask = ask
        self._keys = ""
        playback = await self._speak(ask.pieces, wait=False)
        if not ask.barge_in:
            await self._wait_playback(playback)
        self.endpointer.listen(time.monotonic(), prompt_playing=not playback.done.done())
        playback.done.add_done_callback(
            lambda _f: self.endpointer.prompt_finished(time.monotonic())
        )
        event = await self.inputs.get()
        self._ask = None
        self.endpointer.stop()
        if self.out is not None and self.out.playing and not isinstance(event, _HungUp):
            self.out.interrupt()  # keys pressed while the prompt played
        return event

    # ── endings ──────────────────────────────────────────────────────────────────────────

    async def _play_out(self) -> None:
        """Wait until everything queued has been said."""
        if self.out is not None:
            while self.out.playing:
                playback = self._current_playback
                if playback is None:
                    break
                await self._wait_playback(playback)

    async def _hang_up(self) -> None:
        """Let the goodbye play out, then send a hangup frame (control returns to dialplan)."""
        await self._play_out()
        self._stop_output()
        if not self.writer.is_closing():
            self.writer.write(encode_hangup())
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()

    async def _return_to_operators(self, call_id: str) -> None:
        """Give the call back untouched: marked for the operators' queue when AMI can."""
        if self.s.callers is not None and self.s.on_handback is not None:
            info = await self.s.callers.wait_for(call_id, self.s.correlation_wait_s)
            try:
                await self.s.on_handback(call_id, info)
            except Exception:
                log.exception("call %s: could not mark it for the operators", call_id)
        await self._hang_up()

    async def _protocol_error(self, error: AudioSocketError) -> None:
        self._end_reason = CallEndReason.PROTOCOL_ERROR
        await self._turn(Speaker.SYSTEM, TurnKind.EVENT, f"protocol error: {error}")

    async def _finish(self) -> None:
        self._wait_for_operator(False)
        self._stop_output()
        self.endpointer.stop()
        if self._asr_stream is not None and self.call_id is not None:
            await self._decode_final()  # the caller hung up mid-sentence: keep what was said
        if self._decodes:  # a sentence finished just before the hang-up: keep its text
            await asyncio.wait(set(self._decodes), timeout=FINAL_DECODE_TIMEOUT_S)
        if self._background:  # turns written from frame callbacks, caller info
            await asyncio.wait(set(self._background), timeout=5.0)
        if self.recorder is not None:
            self.recorder.close()
            if self.recorder.failed:
                await self._turn(
                    Speaker.SYSTEM, TurnKind.EVENT, f"recording failed: {self.recorder.failed}"
                )
        if not self.writer.is_closing():
            self.writer.close()
        reason = self._end_reason or CallEndReason.CALLER_HANGUP
        if self.call_id is not None and self.ticket is not None:
            try:
                self.ticket = await self.s.store.end_call(
                    self.call_id, ended_at=utcnow(), reason=reason, complete=self._complete
                )
                if self.s.after_call is not None:
                    await self.s.after_call(self.ticket)
            except StoreError:
                log.exception("call %s: could not close its ticket", self.call_id)
        self.s.metrics.call_ended(reason.value, self._complete)
        log.info("call %s ended: %s, complete=%s", self.call_id, reason.value, self._complete)

    def _stop_output(self) -> None:
        if self._clock_handle is not None:
            self.s.clock.remove(self._clock_handle)
            self._clock_handle = None
        if self.out is not None:
            self.out.close()

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
            log.warning("call %s: protocol error: %s", self.call_id, error)
            await self._turn(Speaker.SYSTEM, TurnKind.EVENT, f"protocol error: {error}")
            self._caller_gone(CallEndReason.PROTOCOL_ERROR, str(error))
        except ConnectionError as error:
            self._caller_gone(CallEndReason.CALLER_HANGUP, str(error))

    def _caller_gone(self, reason: CallEndReason, detail: str) -> None:
        if not self._hung_up:
            self._hung_up = True
            self._stop_output()
            self.inputs.put_nowait(_HungUp(reason, detail))

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
                self._asr_stream = self.s.asr.open_stream(ask.phrases or None)
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
        self.inputs.put_nowait(Heard(hypothesis.text, hypothesis.confidence))

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

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        """Work started from a frame callback; awaited before the ticket is closed."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_bot_frame(self, frame: bytes) -> None:
        if self.recorder is not None:
            self.recorder.bot_frame(frame)

    def _measure_latency(self, _future: object) -> None:
        if self._speech_ended_at is not None:
            self.s.metrics.turn_latency(time.monotonic() - self._speech_ended_at)
            self._speech_ended_at = None

    def _wait_for_operator(self, wanted: bool) -> None:
        """Keep this caller's place among those waiting for a person (in order of asking)."""
        if self.s.handbacks is None or self.call_id is None or wanted == self._waiting_for_operator:
            return
        self._waiting_for_operator = wanted
        if wanted:
            self.s.handbacks.ask(self.call_id, self._operator_offered)
        else:
            self.s.handbacks.withdraw(self.call_id)

    def _operator_offered(self) -> None:
        self._waiting_for_operator = False
        if self.dialog is not None and not self.dialog.done and not self._hung_up:
            self.inputs.put_nowait(OperatorFree())

    def _free(self) -> bool:
        return self.s.operators is not None and self.s.operators.operator_available(self.s.queue)

    def _turn(
        self,
        speaker: Speaker,
        kind: TurnKind,
        text: str,
        *,
        confidence: float | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Coroutine[object, object, None]:
        """Number the turn now (so the transcript keeps the order things happened in,
        even when the write runs in the background); the returned coroutine stores it."""
        if self.call_id is None:
            return asyncio.sleep(0)
        seq, self._seq = self._seq, self._seq + 1
        if start_ms is None and self.recorder is not None:
            start_ms = self.recorder.duration_ms
        turn = Turn(self.call_id, seq, utcnow(), speaker, kind, text, confidence, start_ms, end_ms)
        return self._persist(self.s.store.append_turn(turn))

    async def _persist(self, write: object) -> None:
        """Await a store write; a failing store is logged, the call goes on."""
        try:
            await write  # type: ignore[misc]
        except StoreError:
            self._store_failures += 1
            log.exception("call %s: store write failed", self.call_id)
