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
import logging
import time

from callbot.call.call_ending import CallEnding
from callbot.call.call_state import (
    READ_BYTES,
    CallInput,
    CallServices,
    HungUp,
    PeerGone,
    StoreLost,
    SupervisorHandBack,
)
from callbot.call.consent import ConsentQuestion
from callbot.call.dialog import (
    Action,
    Ask,
    Dialog,
    End,
    HandBack,
    HandBackFailed,
    MissingSlot,
    OperatorFree,
    Say,
    SetSlot,
)
from callbot.call.frame_path import FramePath
from callbot.call.recording import CallRecorder
from callbot.call.status_line import opening, respond
from callbot.nlu.phone import check_phone
from callbot.speech.pieces import Prompt
from callbot.tickets.journal import CallJournal, call_info_entry, slot_entry
from callbot.tickets.model import CallEndReason, CallRecord, Speaker, TurnKind, utcnow
from callbot.tickets.store.base import DuplicateCallError, StoreError
from telephony.audio_format import duration_ms
from telephony.audiosocket_protocol import (
    AudioSocketError,
    CallStarted,
)
from telephony.paced_writer import PacedWriter, Playback

__all__ = ["CallServices", "CallSession"]

log = logging.getLogger(__name__)

# Said when neither the store nor the journal can keep the caller's request.
NOT_SAVED_PROMPT = "not_saved"


class CallSession(FramePath, CallEnding):
    """One call: the frame path and the ending (their modules), the dialog loop (here)."""

    # ── entry point ──────────────────────────────────────────────────────────────────────

    async def run(self) -> None:
        peer = self.writer.get_extra_info("peername")
        self.s.metrics.calls_in_progress += 1
        reader_task: asyncio.Task[None] | None = None
        try:
            first = await self._read_uuid()
            try:
                await self._begin(first)
            except DuplicateCallError:
                # Not a store failure: the dialplan reused a UUID (docs/scaling.md makes a
                # new one per attempt). Still returned to the operators, never answered.
                log.error(
                    "call %s: this AudioSocket UUID was used by an earlier call; the call is "
                    "returned to the operators (the dialplan must make a new UUID per attempt)",
                    first.uuid,
                )
                self.ticket = None
                self._end_reason = CallEndReason.SERVER_ERROR
                await self._return_to_operators(first.uuid)
                return
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
        except PeerGone as gone:
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
            raise PeerGone(f"sent no UUID within {self.s.uuid_timeout_s:.0f} s") from None

    async def _first_event(self) -> CallStarted:
        while True:
            data = await self.reader.read(READ_BYTES)
            if not data:
                self.connection.receive_eof()
                raise PeerGone("closed before sending its UUID")
            events = self.connection.receive_data(data)
            if events:
                first, rest = events[0], events[1:]
                if not isinstance(first, CallStarted):
                    raise PeerGone(f"sent {type(first).__name__} before its UUID")
                for event in rest:  # audio coalesced with the UUID frame
                    self._on_wire_event(event)
                return first

    async def _begin(self, started: CallStarted) -> None:
        self.call_id = started.uuid
        recording_rel = f"{utcnow():%Y/%m/%d}/{self.call_id}.wav"
        recording = self.s.recordings_dir is not None
        # Counted as ours before it exists, so the lease's sweep never takes it for lost.
        self.s.running_calls.add(self.call_id)
        try:
            self.ticket = await self.s.store.begin_call(
                CallRecord(
                    self.call_id, utcnow(), recording_path=recording_rel if recording else None
                ),
                owner=self.s.owner_id,
            )
        except BaseException:
            self.s.running_calls.discard(self.call_id)
            raise
        if self.s.spool_dir is not None:
            self._journal = CallJournal(self.s.spool_dir, self.call_id)
        if self.s.recordings_dir is not None:
            self.recorder = CallRecorder(self.s.recordings_dir / recording_rel)
        self.out = PacedWriter(self.writer.transport.write, self._on_bot_frame)
        self._clock_handle = self.s.clock.add(self._tick)
        if self.s.callers is not None:
            self._spawn(self._correlate())
        log.info("call %s started, ticket %s", self.call_id, self.ticket.id)

    async def _correlate(self) -> None:
        assert self.call_id is not None and self.s.callers is not None
        try:
            info = await self.s.callers.wait_for(self.call_id, self.s.correlation_wait_s)
            self.caller_info = info
        finally:
            self._correlated.set()  # the status line's wait (_caller_number) ends here too
        if info is None:
            return
        number = getattr(info, "caller_number", None)
        if number and check_phone(number).kind:  # only a number we could call back
            self.network["callback_number"] = number
        channel = getattr(info, "channel", None)
        await self._persist(
            self.s.store.set_call_info(self.call_id, caller_number=number, channel_name=channel),
            call_info_entry(self.call_id, number, channel),
        )
        if self.s.on_caller_known is not None:
            await self.s.on_caller_known(self.call_id, info)

    # ── dialog loop ──────────────────────────────────────────────────────────────────────

    async def _caller_number(self) -> str | None:
        """Issue 18: who is calling, before the greeting, when the status line needs it
        (the dialplan's UserEvent comes just before AudioSocket connects)."""
        if self.s.caller_line is None or self.s.callers is None or self.call_id is None:
            return None
        await self._correlated.wait()  # the one wait for the UserEvent, in _correlate
        return getattr(self.caller_info, "caller_number", None) or None

    async def _dialog_loop(self) -> None:
        assert self.ticket is not None
        line = self.s.caller_line
        script = await self.s.script_for(self.call_id or "")
        # Surge mode's short script holds each caller's slot briefly: no status line then.
        status = (
            await opening(line, self.s.store, self.ticket.id, await self._caller_number())
            if script is self.s.script
            else None
        )
        dialog = Dialog(
            script,
            ticket_id=self.ticket.id,
            operator_available=self._free,
            network=self.network,
            opening=status,
            consent=ConsentQuestion() if line is not None and line.notify_channel else None,
        )
        self.dialog = dialog
        actions = dialog.start()
        self._watch_supervisor()  # issue 17: "hand back now" from the live view
        while True:
            event = await self._execute(actions)
            if event is None:
                return
            if isinstance(event, SupervisorHandBack):
                if await self._supervisor_hand_back():
                    return
                actions = [a for a in actions if isinstance(a, Ask)][-1:]  # AMI refused: ask again
                continue
            if isinstance(event, HungUp):
                self._end_reason = event.reason
                return
            if isinstance(event, StoreLost):
                await self._not_saved()
                return
            actions = await respond(dialog, event, self.s.store, status)
            self._wait_for_operator(dialog.state.human_requested)

    async def _execute(self, actions: list[Action]) -> CallInput | None:
        """Run actions until one needs the caller; return what the caller did."""
        actions = await self._honest_ending(actions)
        for action in actions:
            if self._unsaved is not None:
                return StoreLost(self._unsaved)
            match action:
                case Say(pieces):
                    await self._speak(pieces, wait=True)
                case Ask():
                    return await self._ask_and_listen(action)
                case SetSlot(slot):
                    assert self.call_id is not None
                    self._slot_version += 1  # orders this call's writes of a slot
                    version = self._slot_version
                    await self._persist(
                        self.s.store.set_slot(self.call_id, slot, version=version),
                        slot_entry(self.call_id, slot, version),
                    )
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

    async def _not_saved(self) -> None:
        """Neither the store nor the journal keeps what the caller says: say so plainly,
        and hand the call back to the operators as a hand-back does (never "sent")."""
        marked = await self._mark_handback()
        self._end_reason = CallEndReason.HANDED_BACK if marked else CallEndReason.SERVER_ERROR
        self._complete = False
        then = self.s.script.handback_prompt if marked else (Prompt("goodbye_end"),)
        log.error("call %s: not saved; %s", self.call_id, "handed back" if marked else "ended")
        await self._speak((Prompt(NOT_SAVED_PROMPT), *then), wait=True)
        await self._hang_up()

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
            if isinstance(event, HungUp):
                self._end_reason = event.reason
                raise PeerGone("caller hung up during a prompt")
            self.inputs.put_nowait(event)  # a key pressed during a Say: keep it for the Ask

    async def _ask_and_listen(self, ask: Ask) -> CallInput:
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
        if self.out is not None and self.out.playing and not isinstance(event, HungUp):
            self.out.interrupt()  # keys pressed while the prompt played
        return event

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
