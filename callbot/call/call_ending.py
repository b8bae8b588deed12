"""How a call ends: the goodbye played out and the hangup frame, the call given back to the
operators, and the ``finally`` that closes the recording and the ticket whatever ended the
call (goodbye, hang-up, garbage on the wire, our own bug, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from callbot.call.call_state import FINAL_DECODE_TIMEOUT_S, CallState, SupervisorHandBack
from callbot.call.dialog import Action, End, Say
from callbot.tickets.journal import JournalError, end_entry
from callbot.tickets.model import CallEndReason, Speaker, TurnKind, utcnow
from callbot.tickets.store.base import StoreError
from telephony.audiosocket_protocol import (
    AudioSocketError,
    encode_hangup,
)

log = logging.getLogger(__name__)

HANDBACK_GAP_S = 0.4


class CallEnding(CallState):
    # ── a supervisor's "hand back now" (issue 17) ────────────────────────────────────────

    def _watch_supervisor(self) -> None:
        """Ask the process's watcher (one store read a second for all calls, issue 14) to
        pass a hand-back request for this call to the dialog loop; ``_finish`` unwatches."""
        watch = self.s.handback_watch
        if self.call_id is None or watch is None:
            return
        # Read by the dialog loop like anything the caller does (session.py).
        watch.watch(self.call_id, lambda: self.inputs.put_nowait(SupervisorHandBack()))

    async def _supervisor_hand_back(self) -> bool:
        """Hand the call back through the usual path (AMI mark, prompt, hangup frame).
        False when AMI could not mark the channel: the session asks its question again."""
        assert self.call_id is not None
        marked = await self._mark_handback()  # type: ignore[attr-defined]
        try:
            await self.s.store.finish_handback(self.call_id, handed_back=marked)
            finished = True
        except StoreError as error:  # the row stays pending; the dashboard shows it so
            log.warning("call %s: hand-back outcome not stored: %s", self.call_id, error)
            finished = False
        if not marked:
            if finished:  # a pending row would fire again at once: watch only for a new one
                self._watch_supervisor_again()
            return False
        self._end_reason, self._complete = CallEndReason.HANDED_BACK, False
        await self._turn(Speaker.SYSTEM, TurnKind.EVENT, "handed back to operators by a supervisor")
        script = self.dialog.script if self.dialog is not None else self.s.script
        # The question was cut off mid-word (session.py interrupts it): a short silence
        # first, so the caller hears the hand-back as a new sentence, not its tail.
        await asyncio.sleep(HANDBACK_GAP_S)
        await self._speak(script.handback_prompt, wait=True)  # type: ignore[attr-defined]
        await self._hang_up()
        return True

    def _watch_supervisor_again(self) -> None:
        # The watcher stopped watching this call when it delivered the request; the row is
        # marked failed now, so only a new request fires (a read taken before it was marked
        # does not: handback_watch.py).
        self._watch_supervisor()

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

    async def _honest_ending(self, actions: list[Action]) -> list[Action]:
        """The goodbye of a complete ticket tells the caller the request was sent: say it
        only once the store holds the required slots. Otherwise (the store is down; what
        was said is in the journal) the ticket ends incomplete, for a callback, and the
        goodbye says an operator will call back."""
        if not actions or not isinstance(actions[-1], End) or not actions[-1].complete:
            return actions
        if await self._request_stored():
            return actions
        log.warning("call %s: request not in the store yet; ending it for a callback", self.call_id)
        end = actions[-1]
        ticket_id = self.ticket.id if self.ticket is not None else None
        goodbye = Say(self.s.script.goodbye_incomplete(ticket_id))
        before = actions[:-2] if len(actions) > 1 and isinstance(actions[-2], Say) else actions[:-1]
        return [*before, goodbye, End(end.reason, False)]

    async def _request_stored(self) -> bool:
        if self._journal is not None and not await self._journal.flush(self.s.store):
            return False
        assert self.call_id is not None
        try:
            stored = await self.s.store.get_ticket_for_call(self.call_id)
        except StoreError:
            log.exception("call %s: cannot read its ticket back", self.call_id)
            return False
        heard = self.dialog.state.slots if self.dialog is not None else {}
        script = self.dialog.script if self.dialog is not None else self.s.script  # surge
        for question in script.questions:
            if not question.required:
                continue
            slot = stored.slots.get(question.slot) if stored is not None else None
            wanted = heard.get(question.slot)
            if slot is None or wanted is None or slot.value != wanted.value:
                return False
        return True

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
        if self.s.handback_watch is not None and self.call_id is not None:
            self.s.handback_watch.unwatch(self.call_id)
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
            await self._close_ticket(reason)
            self.s.running_calls.discard(self.call_id)
        self.s.metrics.call_ended(reason.value, self._complete)
        log.info("call %s ended: %s, complete=%s", self.call_id, reason.value, self._complete)

    async def _close_ticket(self, reason: CallEndReason) -> None:
        """End the ticket, after the journal's writes (else routing would see a ticket
        without them); when the store still refuses, the ending joins the journal and the
        lease's replay closes the ticket once the store is back."""
        assert self.call_id is not None
        ended_at = utcnow()
        journal = self._journal
        try:
            if journal is not None and not await journal.flush(self.s.store):
                raise StoreError("the journal's writes are not in the store yet")
            self.ticket = await self.s.store.end_call(
                self.call_id, ended_at=ended_at, reason=reason, complete=self._complete
            )
            if self.s.after_call is not None:
                await self.s.after_call(self.ticket)
        except StoreError as error:
            if journal is None or self._unsaved is not None:
                log.exception("call %s: could not close its ticket", self.call_id)
            else:
                try:
                    journal.append(end_entry(self.call_id, ended_at, reason, self._complete))
                    log.warning("call %s: ending kept in the journal: %s", self.call_id, error)
                except JournalError:
                    log.exception("call %s: could not close its ticket", self.call_id)
        finally:
            if journal is not None:
                journal.close()
