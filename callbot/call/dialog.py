"""The conversation engine: events in, actions out, no audio inside.

``ivr.py`` describes *what* to ask (a ``Script``: greeting, questions, readback, goodbye);
this module decides *when*: retries, keypad fallback, silence, readback and correction,
asking for a human. Because it only sees text and digits and only emits actions, the same
flow serves a phone call (``callbot.call.session``), a text chat (``callbot chat``) and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from callbot.call.hearing import understand_heard
from callbot.call.script import (
    Action,
    Aside,
    Ask,
    DialogEvent,
    End,
    HandBack,
    HandBackFailed,
    Heard,
    KeypadSpec,
    MissingSlot,
    OperatorFree,
    Pressed,
    Question,
    Say,
    Script,
    SetSlot,
    Silence,
    Understood,
)
from callbot.nlu.urgency import EMERGENCY, NORMAL
from callbot.speech.pieces import Digits, Piece, Prompt, Text
from callbot.tickets.model import CallEndReason, SlotSource, SlotValue

# The dialog is where callers and ivr.py find the whole vocabulary, in one import.
__all__ = [
    "Action", "Ask", "Dialog", "DialogEvent", "Digits", "End", "HandBack", "HandBackFailed",
    "Heard", "KeypadSpec", "MissingSlot", "OperatorFree", "Piece", "Pressed", "Prompt",
    "Question", "Say", "Script", "SetSlot", "Silence", "Text", "Understood",
]  # fmt: skip


class Phase(Enum):
    QUESTION = "question"
    CONFIRM = "confirm"
    WHICH_FIELD = "which_field"
    DONE = "done"


@dataclass
class DialogState:
    phase: Phase = Phase.QUESTION
    index: int = 0
    speech_failures: int = 0
    keypad_failures: int = 0
    keypad_only: bool = False
    silences: int = 0  # in a row, across questions
    question_silences: int = 0  # on the question being asked
    corrections: int = 0
    correcting: bool = False  # re-asking one field, then straight back to readback
    human_requested: bool = False
    # A hand-back failed and the caller was promised a callback: the ticket ends in the
    # callback queue however complete it is, and the goodbye says an operator will call.
    callback_promised: bool = False
    handing_back: bool = False  # HandBack emitted, outcome not known yet
    offering: bool = False  # the current question is the network-value offer
    offered: set[str] = field(default_factory=set)
    slots: dict[str, SlotValue] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    said: str = ""  # issue 17: the caller's words so far, judged for urgency


class Dialog:
    def __init__(
        self,
        script: Script,
        *,
        ticket_id: int | None = None,
        operator_available: Callable[[], bool] = lambda: False,
        known: Sequence[SlotValue] = (),
        network: Mapping[str, str] | None = None,
        opening: Aside | None = None,
        consent: Aside | None = None,
    ) -> None:
        self.script = script
        self.ticket_id = ticket_id
        self._operator_available = operator_available
        # Values the network told us (the caller's number); may fill in during the call.
        self.network: Mapping[str, str] = network if network is not None else {}
        self.state = DialogState()
        # Issue 18: the status line before the intake; the consent question after readback.
        self.aside, self._consent = opening, consent
        for slot in known:  # e.g. facts a supervisor or the network gave in advance
            self.state.slots[slot.name] = slot

    # ── public ──

    def start(self) -> list[Action]:
        first = self.aside.start(self) if self.aside is not None else self._ask_current()
        return [Say(self.script.greeting), *first]

    def handle(self, event: DialogEvent) -> list[Action]:
        if self.state.phase is Phase.DONE:
            return []
        if isinstance(event, HandBackFailed):
            return self._hand_back_failed() if self.state.handing_back else []
        if self.state.handing_back:  # the caller is being transferred: nothing else counts
            return []
        if isinstance(event, OperatorFree):
            if self.state.human_requested:  # asked earlier when nobody was free
                return self._hand_back()
            return []
        if isinstance(event, Silence):
            return self.aside.handle(self, event) if self.aside else self._on_silence()
        self.state.silences = 0
        self.state.question_silences = 0
        if isinstance(event, Heard) and (raised := self._raise_urgency(event)) is not None:
            return raised
        if isinstance(event, Pressed) and event.digits == self.script.human_key:
            return self._human()
        if isinstance(event, Heard) and self.script.wants_human(event.text):
            return self._human()
        if self.aside is not None:
            return self.aside.handle(self, event)
        match self.state.phase:
            case Phase.QUESTION:
                return self._on_answer(event)
            case Phase.CONFIRM:
                return self._on_confirm(event)
            case Phase.WHICH_FIELD:
                return self._on_which_field(event)
        return []

    @property
    def done(self) -> bool:
        """Nothing more to ask: the call ended, or a hand-back is being made."""
        return self.state.phase is Phase.DONE or self.state.handing_back

    @property
    def current_question(self) -> Question | None:
        if self.state.phase is Phase.QUESTION and self.state.index < len(self.script.questions):
            return self.script.questions[self.state.index]
        return None

    # ── questions ──

    def _ask_current(self, retry: bool = False) -> list[Action]:
        s = self.state
        questions = self.script.questions
        while s.index < len(questions) and questions[s.index].slot in s.slots and not s.correcting:
            s.index += 1  # already known (e.g. offered by the network and confirmed)
        if s.index >= len(questions):
            return self._readback()
        q = questions[s.index]
        if q.offer_prompt and q.slot not in s.offered and self.network.get(q.slot):
            s.offered.add(q.slot)
            s.offering = True
            return [self._ask_yes_no((Prompt(q.offer_prompt),), q.slot)]
        if s.keypad_only:
            prompt = q.keypad_prompt or q.prompt
            return [Ask((Prompt(prompt),), q.slot, keypad=q.keypad, speech=False)]
        pieces = (Prompt(q.retry_prompt), Prompt(q.prompt)) if retry else (Prompt(q.prompt),)
        return [Ask(pieces, q.slot, phrases=q.phrases, choices=q.choices, keypad=q.keypad)]

    def _ask_yes_no(self, pieces: tuple[Piece, ...], slot: str | None) -> Ask:
        return Ask(
            pieces,
            slot,
            phrases=("đúng", "sai", "có", "không"),
            choices=self.script.yes_no_choices,
            keypad=KeypadSpec(1),
        )

    def _on_answer(self, event: Heard | Pressed) -> list[Action]:
        q = self.script.questions[self.state.index]
        if self.state.offering:
            return self._on_offer(q, event)
        if isinstance(event, Heard):
            understood = None
            if self.state.keypad_only:
                pass
            elif q.from_keys is None and q.choices is None:
                # An open answer (address, name, description) has no keypad to fall back
                # on: what was heard is kept, as sure as its transcript (below).
                understood = q.understand(event.text) if event.text else None
            else:
                understood = understand_heard(
                    q.understand, event, q.choices, has_keypad=q.from_keys is not None
                )
            if understood is not None and q.choices is None and event.confidence < 1.0:
                # An open answer is only as sure as the transcript it was read from.
                confidence = round(min(understood.confidence, event.confidence), 3)
                understood = Understood(understood.value, confidence, understood.heard)
            source = SlotSource.SPEECH
        else:
            understood = q.from_keys(event.digits) if q.from_keys else None
            source = SlotSource.KEYPAD
        if understood is not None:
            return self._accept(q, understood, source)
        return self._failed(q, keypad=isinstance(event, Pressed))

    def _on_offer(self, q: Question, event: Heard | Pressed) -> list[Action]:
        self.state.offering = False
        if isinstance(event, Pressed):
            answer = {"1": "yes", "2": "no"}.get(event.digits)
        else:
            understood = understand_heard(
                self.script.understand_yes_no, event, self.script.yes_no_choices, has_keypad=True
            )
            answer = understood.value if understood else None
        if answer == "yes":
            value = self.network[q.slot]
            return self._accept(q, Understood(value, 1.0, "network"), SlotSource.NETWORK)
        return self._ask_current()  # no, or unclear: ask for the number after all

    def _accept(self, q: Question, understood: Understood, source: SlotSource) -> list[Action]:
        slot = SlotValue(q.slot, understood.value, source, understood.confidence, understood.heard)
        self.state.slots[q.slot] = slot
        self.state.missing.pop(q.slot, None)
        return [SetSlot(slot), *self._next_question()]

    def _failed(self, q: Question, *, keypad: bool) -> list[Action]:
        s = self.state
        if keypad or s.keypad_only:
            s.keypad_failures += 1
        else:
            s.speech_failures += 1
        if s.keypad_failures >= self.script.keypad_tries or (
            s.speech_failures >= self.script.speech_tries and q.keypad is None and not keypad
        ):
            why = "not understood"
            s.missing[q.slot] = why
            return [MissingSlot(q.slot, why), *self._next_question()]
        if s.speech_failures >= self.script.speech_tries and q.keypad is not None:
            s.keypad_only = True
        return self._ask_current(retry=True)

    def _next_question(self) -> list[Action]:
        s = self.state
        s.speech_failures = s.keypad_failures = s.question_silences = 0
        s.keypad_only = False
        if s.correcting:
            s.correcting = False
            return self._readback()
        s.index += 1
        return self._ask_current()

    # ── readback and correction ──

    def _readback(self) -> list[Action]:
        s = self.state
        s.phase = Phase.CONFIRM
        pieces: list[Piece] = [Prompt(self.script.readback_intro)]
        unsure = False
        for q in self.script.questions:
            slot = s.slots.get(q.slot)
            if slot is None:
                continue
            if slot.source is SlotSource.SPEECH and slot.confidence < q.readback_min_confidence:
                unsure = True  # never nonsense read back as a fact
            else:
                pieces.extend(q.readback(slot.value))
        if unsure:
            pieces.extend(self.script.unsure_readback)
        pieces.append(Prompt(self.script.confirm_prompt))
        return [self._ask_yes_no(tuple(pieces), None)]

    def _on_confirm(self, event: Heard | Pressed) -> list[Action]:
        if isinstance(event, Pressed):
            answer = {"1": "yes", "2": "no"}.get(event.digits)
        else:
            field_name = self.script.which_field(event.text)
            if field_name is not None:  # "sai địa chỉ": no, and which field, at once
                return self._correct(field_name)
            understood = understand_heard(
                self.script.understand_yes_no, event, self.script.yes_no_choices, has_keypad=True
            )
            answer = understood.value if understood else None
        if answer == "yes":
            if self._consent is not None:
                self.aside, self._consent = self._consent, None  # asked once
                return self.aside.start(self)
            return self._finish(confirmed=True)
        if answer == "no":
            if self.state.corrections >= self.script.max_corrections:
                return self._finish(confirmed=False)
            self.state.phase = Phase.WHICH_FIELD
            return [Ask((Prompt(self.script.which_field_prompt),), None, keypad=KeypadSpec(1))]
        return self._confirm_failed()

    def _confirm_failed(self) -> list[Action]:
        s = self.state
        s.speech_failures += 1
        if s.speech_failures > self.script.speech_tries:
            return self._finish(confirmed=False)
        return [self._ask_yes_no((Prompt("retry"), Prompt(self.script.confirm_prompt)), None)]

    def _on_which_field(self, event: Heard | Pressed) -> list[Action]:
        if isinstance(event, Pressed):
            by_key = {q.correction_key: q.slot for q in self.script.questions if q.correction_key}
            field_name = by_key.get(event.digits)
        else:
            field_name = self.script.which_field(event.text)
        if field_name is None:
            return self._confirm_failed()
        return self._correct(field_name)

    def _correct(self, field_name: str) -> list[Action]:
        s = self.state
        indexes = [i for i, q in enumerate(self.script.questions) if q.slot == field_name]
        if not indexes or s.corrections >= self.script.max_corrections:
            return self._finish(confirmed=False)
        s.corrections += 1
        s.phase = Phase.QUESTION
        s.index = indexes[0]
        s.correcting = True
        s.speech_failures = s.keypad_failures = s.question_silences = 0
        s.keypad_only = False
        return self._ask_current()

    # ── endings ──

    def intake(self) -> list[Action]:
        """An aside is over: on with the intake (or the goodbye, after readback)."""
        self.aside = None
        if self.state.phase is Phase.CONFIRM:  # after the consent question: the goodbye
            return self._finish(confirmed=True)
        return self._ask_current()

    def _finish(self, *, confirmed: bool) -> list[Action]:
        s = self.state
        s.phase = Phase.DONE
        required = [q.slot for q in self.script.questions if q.required]
        complete = (
            confirmed and not s.callback_promised and all(name in s.slots for name in required)
        )
        goodbye = self.script.goodbye if complete else self.script.goodbye_incomplete
        return [Say(goodbye(self.ticket_id)), End(CallEndReason.COMPLETED, complete)]

    def _on_silence(self) -> list[Action]:
        """Silence is re-prompted once; then an optional question is skipped and a required
        one ends the call politely (the ticket keeps what was heard, for a callback)."""
        s = self.state
        s.silences += 1
        s.question_silences += 1
        question = self.current_question
        if s.silences >= self.script.silences_before_goodbye or (
            s.question_silences >= 2 and (question is None or question.required)
        ):
            s.phase = Phase.DONE
            return [Say(self.script.no_input_goodbye), End(CallEndReason.NO_INPUT, False)]
        if question is not None and s.question_silences >= 2:
            s.missing[question.slot] = "no answer"
            return [MissingSlot(question.slot, "no answer"), *self._next_question()]
        if s.phase is Phase.QUESTION:
            return self._ask_current(retry=True)
        if s.phase is Phase.CONFIRM:
            return self._readback()
        return [Ask((Prompt(self.script.which_field_prompt),), None, keypad=KeypadSpec(1))]

    def _human(self) -> list[Action]:
        if self._operator_available():
            return self._hand_back()
        # Nobody free: say so and carry on where we were, so nothing is lost; the session
        # sends OperatorFree if one frees up while the bot still holds the call.
        self.state.human_requested = True
        return [Say(self.script.no_operator_prompt), *self._resume()]

    def _hand_back(self) -> list[Action]:
        # The phase stays as it is until the session reports the outcome: a hand-back that
        # fails resumes the intake exactly where it was.
        self.state.handing_back = True
        self.state.human_requested = False  # no longer waiting for one
        return [HandBack(self.script.handback_prompt)]

    def _hand_back_failed(self) -> list[Action]:
        s = self.state
        s.handing_back = False  # the same hand-back would fail again: not asked for again
        s.callback_promised = True
        return [Say(self.script.handback_failed_prompt), *self._resume()]

    def _resume(self) -> list[Action]:
        """Ask again what was being asked when the caller turned to a person."""
        if self.aside is not None:
            return self.aside.again(self)
        if self.state.phase is Phase.QUESTION:
            return self._ask_current()
        if self.state.phase is Phase.CONFIRM:
            return self._readback()
        return [Ask((Prompt(self.script.which_field_prompt),), None, keypad=KeypadSpec(1))]

    def _raise_urgency(self, event: Heard) -> list[Action] | None:
        """Issue 17: None unless the caller's words so far make the call more urgent; then
        the rise (the "urgency" slot: the ticket's priority) and, for an emergency, the
        emergency numbers and a person (now, or the first one free); then the answer."""
        s, text = self.state, " ".join(event.text.split())
        if self.script.urgency is None or not text or s.said.endswith(text):
            return None  # (the same words again: handle() below, once raised)
        s.said = f"{s.said}. {text}"[-SAID_MAX:]
        found = self.script.urgency(s.said)
        if not found.above(s.slots[URGENCY].value if URGENCY in s.slots else NORMAL):
            return None
        cues = ", ".join(found.cues)  # the module's cue words, never the caller's sentence
        slot = SlotValue(URGENCY, found.level, SlotSource.SPEECH, found.confidence, cues)
        s.slots[URGENCY] = slot
        actions: list[Action] = [SetSlot(slot)]
        if found.level == EMERGENCY:
            actions.append(Say(self.script.emergency_prompt))
            if self._operator_available():
                return [*actions, *self._hand_back()]
            s.human_requested = True  # the first person free takes this call (OperatorFree)
            if not self.script.wants_human(text):  # else _human() says it, just below
                actions.append(Say(self.script.no_operator_prompt))
        return [*actions, *self.handle(event)]


URGENCY = "urgency"  # the slot (tickets.priority, SLOT_TICKET_FIELDS)
SAID_MAX = 4000  # characters of the caller's words kept for the urgency judgement
