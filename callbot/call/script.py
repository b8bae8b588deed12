"""The dialog's vocabulary: the events it reacts to, the actions it emits, and the shape of
the script (``Script``, ``Question``) that ``ivr.py`` fills in. Data only; the engine that
runs a script is ``callbot.call.dialog``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from callbot.nlu.urgency import Urgency
from callbot.speech.asr.choices import Choice, Choices
from callbot.speech.pieces import Piece, Text
from callbot.tickets.model import CallEndReason, SlotValue

# ── Events the dialog reacts to ─────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Heard:
    text: str
    confidence: float
    # The question's expected answers as the recogniser scored them (constrained
    # recognition), when the question had choices and the engine can score them.
    choice: Choice | None = None


@dataclass(frozen=True)
class Pressed:
    digits: str  # one key for menus, several (ended by # or a pause) for numbers


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class OperatorFree:
    """A human operator became available while the bot holds the call."""


@dataclass(frozen=True)
class HandBackFailed:
    """The hand-back could not be made (channel unknown, AMI refused): the caller is still
    with the bot and must not be told they are being transferred."""


DialogEvent = Heard | Pressed | Silence | OperatorFree | HandBackFailed


# ── Actions the dialog emits ────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class KeypadSpec:
    max_digits: int = 1  # 1 for menus; a number is ended by # or max_digits


@dataclass(frozen=True)
class Say:
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Ask:
    """Say the pieces, then wait for speech or keys."""

    pieces: tuple[Piece, ...]
    slot: str | None
    phrases: tuple[str, ...] = ()  # what a constrained recogniser may expect
    choices: Choices | None = None  # a closed question's answers, scored against the audio
    keypad: KeypadSpec | None = None
    speech: bool = True  # False once the question fell back to keypad only
    barge_in: bool = True


@dataclass(frozen=True)
class SetSlot:
    slot: SlotValue


@dataclass(frozen=True)
class MissingSlot:
    name: str
    why: str


@dataclass(frozen=True)
class End:
    reason: CallEndReason
    complete: bool


@dataclass(frozen=True)
class HandBack:
    """Return the caller to the human queue. The session first marks the channel over AMI;
    only once that worked does it say ``pieces`` ("I am transferring you") and end the
    AudioSocket. If it failed, the dialog gets :class:`HandBackFailed` instead."""

    pieces: tuple[Piece, ...] = ()


Action = Say | Ask | SetSlot | MissingSlot | End | HandBack


class Aside(Protocol):
    """A short exchange the engine hands the caller's answers to, before the intake or
    after the readback (issue 18: callbot/call/status_line.py, the status of an open
    ticket; callbot/call/consent.py, may we text you). ``host`` is the running Dialog."""

    def start(self, host: Any) -> list[Action]: ...

    def handle(self, host: Any, event: Heard | Pressed | Silence) -> list[Action]: ...

    def again(self, host: Any) -> list[Action]:
        """Ask again what was being asked (after "no operator free")."""
        ...


# ── The script that ivr.py fills in ─────────────────────────────────────────────────────


@dataclass(frozen=True)
class Understood:
    value: str
    confidence: float
    heard: str = ""


Understander = Callable[[str], Understood | None]


@dataclass(frozen=True)
class Question:
    slot: str
    prompt: str  # prompt name asked first
    understand: Understander  # speech text → value
    from_keys: Understander | None = None  # keypad digits → value
    keypad: KeypadSpec | None = None
    keypad_prompt: str | None = None  # asked after failed speech tries, keys only
    retry_prompt: str = "retry"
    phrases: tuple[str, ...] = ()
    choices: Choices | None = None  # closed questions: the answers to score (see Ask)
    required: bool = True
    readback: Callable[[str], tuple[Piece, ...]] = lambda value: (Text(value),)
    # Open answers (address, name): a value heard with less confidence than this is not
    # read back as a fact — the caller hears that it was recorded for the operator.
    readback_min_confidence: float = 0.0
    correction_key: str | None = None  # keypad digit that picks this field at readback
    # Asked first when the network already knows a value for this slot ("can we call you
    # back on the number you are calling from?"): yes takes it, no asks the question.
    offer_prompt: str | None = None


@dataclass(frozen=True)
class Script:
    greeting: tuple[Piece, ...]
    questions: tuple[Question, ...]
    readback_intro: str  # "Xin nhắc lại thông tin…"
    confirm_prompt: str  # "Đúng bấm 1, sai bấm 2"
    which_field_prompt: str  # "Thông tin nào chưa đúng?"
    goodbye: Callable[[int | None], tuple[Piece, ...]]  # ticket id → pieces
    goodbye_incomplete: Callable[[int | None], tuple[Piece, ...]]
    no_input_goodbye: tuple[Piece, ...]
    handback_prompt: tuple[Piece, ...]
    no_operator_prompt: tuple[Piece, ...]
    # Said when a hand-back could not be made: an operator will call back instead.
    handback_failed_prompt: tuple[Piece, ...]
    understand_yes_no: Understander  # → "yes" / "no"
    wants_human: Callable[[str], bool]
    which_field: Callable[[str], str | None]  # "sai địa chỉ" → "place"
    human_key: str = "0"
    # Said at readback in place of an open answer heard too unsurely to read back.
    unsure_readback: tuple[Piece, ...] = ()
    yes_no_choices: Choices | None = None  # "đúng rồi", "sai"…, scored at readback and offers
    speech_tries: int = 2  # failed speech answers before the keypad fallback
    keypad_tries: int = 2
    silences_before_goodbye: int = 3  # in a row, whatever the questions
    max_corrections: int = 2
    # Issue 17: what the caller said so far → how urgent it is. A rise is stored as the
    # "urgency" slot (the ticket's priority); an emergency hears ``emergency_prompt`` (the
    # emergency numbers), then is handed back at once or as soon as a person is free.
    urgency: Callable[[str], Urgency] | None = None
    emergency_prompt: tuple[Piece, ...] = ()
    # Issue 18: a caller whose number has an open ticket hears its status first; one
    # without caller ID may key a ticket number (and its callback number) to hear it.
    status_by_phone: bool = True
    status_by_ticket_number: bool = False
