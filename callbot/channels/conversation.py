"""One intake conversation per (channel, user), driven by text messages.

The phone call's ``Dialog`` and ``ivr.py`` script, unchanged: a message becomes a dialog
event (``Heard`` for words, ``Pressed`` for digits or a tapped button), the dialog's actions
become the store writes a call makes (turns, slots, the ticket's end) and the bot's text
replies. After every message the dialog's state is saved in the store with a version, so a
chat may pause for hours, a restart loses nothing, and any process can answer the next
message. ``callbot chat``, the web chat and the Zalo OA all use this one class.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from callbot.call.dialog import (
    Action,
    Ask,
    Dialog,
    DialogEvent,
    DialogState,
    End,
    HandBack,
    Heard,
    MissingSlot,
    Phase,
    Pressed,
    Say,
    Script,
    SetSlot,
    Silence,
)
from callbot.channels.buttons import Button, buttons_for
from callbot.channels.state_codec import decode, encode
from callbot.speech.pieces import Piece
from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    Channel,
    Speaker,
    Ticket,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.store.sql_conversations import ConversationStore, StoredConversation
from callbot.tickets.store.sql_store import SqlTicketStore

log = logging.getLogger(__name__)

KEYPAD = set("0123456789#*")
MAX_TEXT_CHARS = 1000  # a message longer than this is not an answer to one question
IDLE_AFTER = timedelta(hours=48)  # a request nobody wrote to for this long goes to a callback
FORGET_EVENTS_AFTER = timedelta(days=7)  # Zalo re-delivers for 12 hours at most
HOUSEKEEPING_EVERY = timedelta(minutes=10)


def event_from_text(line: str) -> DialogEvent:
    """A typed line as the dialog hears it: digits (and # or *) are keys, as on a phone; an
    empty line is silence; anything else is words heard with certainty."""
    text = line.strip()
    if not text:
        return Silence()
    if set(text) <= KEYPAD:
        return Pressed(text.rstrip("#") if len(text) > 1 else text)
    return Heard(text, 1.0)


@dataclass(frozen=True)
class Reply:
    """What the bot answers one message with."""

    messages: tuple[str, ...]
    buttons: tuple[Button, ...]
    done: bool  # the intake ended; the next message starts a new one
    ticket_id: int | None
    duplicate: bool = False  # the event was handled before: nothing was done


@dataclass(frozen=True)
class TranscriptLine:
    speaker: Speaker
    text: str


@dataclass(frozen=True)
class View:
    """A conversation as a page shows it: what was said so far and what can be tapped."""

    lines: tuple[TranscriptLine, ...]
    buttons: tuple[Button, ...]
    done: bool
    ticket_id: int | None


class _Run:
    """One message's work on one conversation: the dialog, its ticket, the turn counter."""

    def __init__(
        self, dialog: Dialog, call_id: str, ticket_id: int, seq: int, version: int | None
    ) -> None:
        self.dialog = dialog
        self.call_id = call_id
        self.ticket_id = ticket_id
        self.seq = seq
        self.version = version  # as loaded; None when there was no row
        self.messages: list[str] = []
        self.ended: Ticket | None = None


class ConversationService:
    def __init__(
        self,
        store: SqlTicketStore,
        text_of: Callable[[Iterable[Piece]], str],
        script: Script,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.conversations = ConversationStore(store)
        self.text_of = text_of  # PromptLibrary.text_of: prompt names → their words
        self.script = script
        self.clock = clock
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._housekept: datetime | None = None

    # --- public ----------------------------------------------------------------------

    def opening(self) -> Reply:
        """The greeting and first question, shown before anything is stored (a page before
        its first message, a new Zalo follower): no ticket exists until the user writes."""
        dialog = Dialog(self.script)
        texts = [self.text_of(a.pieces) for a in dialog.start() if isinstance(a, Say | Ask)]
        return Reply(tuple(texts), buttons_for(dialog), False, None)

    async def start(self, channel: Channel, user_id: str) -> Reply:
        """Begin a conversation now (the terminal chat greets first), ending any open one."""
        async with self._lock(channel, user_id):
            stored = await self.conversations.load(str(channel), user_id)
            if stored is not None and not stored.done:
                await self._end(stored, CallEndReason.CALLER_HANGUP)
                stored = await self.conversations.load(str(channel), user_id)
            run, actions = await self._begin(channel, stored)
            await self._apply(run, actions)
            return await self._save(channel, user_id, run, None)

    async def receive(
        self, channel: Channel, user_id: str, event: DialogEvent, *, event_id: str | None = None
    ) -> Reply:
        """Handle one message. ``event_id`` (the channel's message id) makes a repeated
        delivery a no-op. Raises ConversationConflict if another process answered this
        user meanwhile (the caller may retry)."""
        async with self._lock(channel, user_id):
            if event_id is not None and await self.conversations.seen_event(str(channel), event_id):
                return Reply((), (), False, None, duplicate=True)
            stored = await self.conversations.load(str(channel), user_id)
            if stored is None or stored.done:
                run, opening = await self._begin(channel, stored)
                actions = self._first_answer(run.dialog, event)
                await self._apply(run, opening)  # stored in the order it was said
                if actions:  # the user saw the opening before writing: not sent again
                    run.messages.clear()
                await self._record_caller(run, event)
            else:
                run = self._resume(stored)
                await self._record_caller(run, event)
                actions = run.dialog.handle(event)
            await self._apply(run, actions)
            reply = await self._save(channel, user_id, run, event_id)
        await self._housekeeping()
        return reply

    async def view(self, channel: Channel, user_id: str) -> View:
        stored = await self.conversations.load(str(channel), user_id)
        if stored is None:
            opening = self.opening()
            lines = tuple(TranscriptLine(Speaker.BOT, text) for text in opening.messages)
            return View(lines, opening.buttons, False, None)
        turns = await self.store.list_turns(stored.call_id)
        lines = tuple(
            TranscriptLine(t.speaker, t.text)
            for t in turns
            if t.speaker is not Speaker.SYSTEM and t.kind is not TurnKind.SILENCE
        )
        buttons = () if stored.done else buttons_for(self._resume(stored).dialog)
        return View(lines, buttons, stored.done, stored.ticket_id)

    async def hang_up(
        self, channel: Channel, user_id: str, why: str = "the user left"
    ) -> Ticket | None:
        """The user went away for good (an unfollow, the terminal's Ctrl-D): the ticket ends
        incomplete, in the callback queue, with what was said."""
        async with self._lock(channel, user_id):
            stored = await self.conversations.load(str(channel), user_id)
            if stored is None or stored.done:
                return None
            return await self._end(stored, CallEndReason.CALLER_HANGUP, why)

    async def end_idle(self, idle_before: datetime) -> list[int]:
        """End the conversations nobody wrote to since ``idle_before`` (for a callback)."""
        ended = []
        for stored in await self.conversations.idle(idle_before):
            async with self._lock(Channel(stored.channel), stored.user_id):
                current = await self.conversations.load(stored.channel, stored.user_id)
                if current is None or current.done or current.version != stored.version:
                    continue  # written to meanwhile
                ticket = await self._end(current, CallEndReason.NO_INPUT, "idle")
                ended.append(ticket.id)
        return ended

    async def _housekeeping(self) -> None:
        """Now and then, on some message: idle requests to a callback, old event ids out.
        Any process may do it (the version check keeps two from ending one request)."""
        now = self.clock()
        if self._housekept is not None and now - self._housekept < HOUSEKEEPING_EVERY:
            return
        self._housekept = now
        try:
            ended = await self.end_idle(now - IDLE_AFTER)
            await self.conversations.forget_events(now - FORGET_EVENTS_AFTER)
        except Exception as error:  # never fail a user's message for housekeeping
            log.warning("conversation housekeeping failed: %s", error)
            return
        if ended:
            log.info("ended %d idle text conversations for a callback", len(ended))

    # --- the work of one message -----------------------------------------------------

    def _lock(self, channel: Channel, user_id: str) -> asyncio.Lock:
        key = (str(channel), user_id)
        if len(self._locks) > 10_000:  # forget idle users' locks (none is held by anyone)
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(key, asyncio.Lock())

    async def _begin(
        self, channel: Channel, stored: StoredConversation | None
    ) -> tuple[_Run, list[Action]]:
        call_id = f"{channel}-{uuid.uuid4()}"
        ticket = await self.store.begin_call(CallRecord(call_id, self.clock(), channel=channel))
        dialog = Dialog(self.script, ticket_id=ticket.id)
        version = stored.version if stored is not None else None
        return _Run(dialog, call_id, ticket.id, 0, version), dialog.start()

    def _resume(self, stored: StoredConversation) -> _Run:
        dialog = Dialog(self.script, ticket_id=stored.ticket_id)
        dialog.state, seq = decode(stored.state)
        return _Run(dialog, stored.call_id, stored.ticket_id, seq, stored.version)

    def _first_answer(self, dialog: Dialog, event: DialogEvent) -> list[Action]:
        """A first message may already answer the first question ("nhà tôi hết gạo"): then
        it counts. If not ("xin chào"), it is not held against the user as a failed try:
        they have only now seen the question."""
        before = copy.deepcopy(dialog.state)
        actions = dialog.handle(event)
        if any(isinstance(a, SetSlot) for a in actions) or dialog.state.human_requested:
            return actions
        dialog.state = before
        return []

    async def _turn(self, run: _Run, speaker: Speaker, kind: TurnKind, text: str) -> None:
        await self.store.append_turn(Turn(run.call_id, run.seq, self.clock(), speaker, kind, text))
        run.seq += 1

    async def _record_caller(self, run: _Run, event: DialogEvent) -> None:
        if isinstance(event, Heard):
            await self._turn(run, Speaker.CALLER, TurnKind.SPEECH, event.text)
        elif isinstance(event, Pressed):
            await self._turn(run, Speaker.CALLER, TurnKind.KEYPAD, event.digits)
        elif isinstance(event, Silence):
            await self._turn(run, Speaker.CALLER, TurnKind.SILENCE, "")

    async def _apply(self, run: _Run, actions: list[Action]) -> None:
        """The dialog's actions as a phone call's store writes, and the replies' text."""
        for action in actions:
            match action:
                case Say(pieces) | Ask(pieces):
                    text = self.text_of(pieces)
                    run.messages.append(text)
                    await self._turn(run, Speaker.BOT, TurnKind.PROMPT, text)
                case SetSlot(slot):
                    await self.store.set_slot(run.call_id, slot)
                case MissingSlot(name, why):
                    await self._turn(
                        run, Speaker.SYSTEM, TurnKind.EVENT, f"slot {name} missing: {why}"
                    )
                case End(reason, complete):
                    run.ended = await self.store.end_call(
                        run.call_id, ended_at=self.clock(), reason=reason, complete=complete
                    )
                case HandBack():  # no operator takes a text chat (operator_available: never)
                    run.ended = await self.store.end_call(
                        run.call_id,
                        ended_at=self.clock(),
                        reason=CallEndReason.HANDED_BACK,
                        complete=False,
                    )

    async def _save(self, channel: Channel, user_id: str, run: _Run, event_id: str | None) -> Reply:
        done = run.ended is not None or run.dialog.done
        if done and run.ended is None:  # defensive: the dialog stopped without an End
            run.ended = await self.store.end_call(
                run.call_id, ended_at=self.clock(), reason=CallEndReason.COMPLETED, complete=False
            )
        saved = StoredConversation(
            channel=str(channel),
            user_id=user_id,
            call_id=run.call_id,
            ticket_id=run.ticket_id,
            state=_state_to_keep(run, done),
            version=(run.version or 0) + 1,
            done=done,
            updated_at=self.clock(),
        )
        await self.conversations.save(saved, expected_version=run.version, event_id=event_id)
        buttons = () if done else buttons_for(run.dialog)
        return Reply(tuple(run.messages), buttons, done, run.ticket_id)

    async def _end(
        self, stored: StoredConversation, reason: CallEndReason, why: str = ""
    ) -> Ticket:
        run = self._resume(stored)
        if why:
            await self._turn(run, Speaker.SYSTEM, TurnKind.EVENT, f"conversation ended: {why}")
        ticket = await self.store.end_call(
            run.call_id, ended_at=self.clock(), reason=reason, complete=False
        )
        done = StoredConversation(
            stored.channel,
            stored.user_id,
            stored.call_id,
            stored.ticket_id,
            _state_to_keep(run, True),
            stored.version + 1,
            True,
            self.clock(),
        )
        await self.conversations.save(done, expected_version=stored.version)
        return ticket


def _state_to_keep(run: _Run, done: bool) -> str:
    """A finished conversation keeps no slots (names, numbers, addresses): the ticket holds
    them, and retention purges them there; only the turn counter is still needed."""
    if not done:
        return encode(run.dialog.state, run.seq)
    return encode(DialogState(phase=Phase.DONE), run.seq)
