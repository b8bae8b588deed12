"""Status by phone (issue 18): a caller whose number has an open ticket hears its status
first, then may add to it, ask for a person, or make a new request.

The dialog (``dialog.py``) runs this as its *opening aside*: the status and a keypad menu
(1 add information, 2 an operator, 3 a new request; the same said aloud) instead of the
first question. What it reads out is the ticket number, the day it was filed, the agency
handling it and its status — never a name, address or number — and only for a ticket
found by the number the network gave, or one whose callback number the caller keyed.

Without caller ID (and ``[dialog] status_by_ticket_number``) the caller may key a ticket
number, then its callback number; the store checks both together (``open_ticket_keyed``)
and "not found" is the same answer for no such ticket and someone else's.

"Add information" takes one free answer. It is stored on this call's own ticket as the
slots ``follow_up_of`` (the first ticket) and ``addition`` (the transcript), so it is
journaled and kept like any slot, with the call's recording; after the call
``link_follow_ups`` turns it into a note on the first ticket and closes the call's ticket
as linked to it (new → rejected "follow-up of ticket N" → closed, out of the callback queue).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, tzinfo
from enum import Enum
from typing import Any, Protocol

from callbot.call.dialog import (
    Ask,
    Dialog,
    Digits,
    End,
    Heard,
    KeypadSpec,
    Phase,
    Piece,
    Pressed,
    Prompt,
    Say,
    SetSlot,
    Silence,
    Text,
)
from callbot.nlu.choice import spoken_choice
from callbot.nlu.text import contains_phrase, fold, normalise
from callbot.tickets.model import (
    CallEndReason,
    SlotSource,
    SlotValue,
    Ticket,
    TicketStatus,
)
from callbot.tickets.store.base import StoreError

log = logging.getLogger(__name__)

FOLLOW_UP_SLOT = "follow_up_of"  # the open ticket this call added to
ADDITION_SLOT = "addition"  # what the caller added, as heard
ADD, OPERATOR, NEW = "add", "operator", "new"
MENU_KEYS = {"1": ADD, "2": OPERATOR, "3": NEW}
TRIES = 2  # unclear answers (or silences) to one step before going on with a new request
TICKET_KEYS = KeypadSpec(8)  # a ticket number, ended by # or a pause
NUMBER_KEYS = KeypadSpec(11)  # a callback number
# Menu words said aloud (folded): "bổ sung", "thêm"; "gặp người", "tổng đài viên"; "mới".
_ADD_WORDS = ("bo sung", "them thong tin", "noi them", "them")
_OPERATOR_WORDS = ("tong dai vien", "gap nguoi", "nguoi that", "nhan vien")
_NEW_WORDS = ("yeu cau moi", "moi", "khac")


def understand_menu(text: str) -> str | None:
    """The status menu's answer in words: "một"/"bấm hai", or what the option says."""
    choice = spoken_choice(normalise(text), 3)
    if choice is not None:
        return MENU_KEYS[str(choice)]
    folded = fold(normalise(text))
    found = {
        value
        for value, words in ((ADD, _ADD_WORDS), (OPERATOR, _OPERATOR_WORDS), (NEW, _NEW_WORDS))
        if any(contains_phrase(folded, word) for word in words)
    }
    return found.pop() if len(found) == 1 else None  # two options named: unclear


def status_pieces(ticket: Ticket, tz: tzinfo) -> tuple[Piece, ...]:
    """ "Yêu cầu số 42 ngày 29 tháng 11 đang được <agency> xử lý. Trạng thái: …" """
    day = ticket.requested_datetime.astimezone(tz)
    pieces: list[Piece] = [
        Prompt("status_intro"),
        Digits(str(ticket.id)),
        Prompt("status_day"),
        Text(f"{day.day} tháng {day.month}"),
    ]
    if ticket.agency_responsible:
        agency = (Text(ticket.agency_responsible), Prompt("status_handling"))
        pieces.extend((Prompt("status_by"), *agency))
    else:
        pieces.append(Prompt("status_waiting"))
    pieces.append(Prompt(f"status_{TicketStatus(ticket.status)}"))
    return tuple(pieces)


class Step(Enum):
    OFFER_KEYED = "offer_keyed"  # no caller ID: key a ticket number, or go on
    KEYED_NUMBER = "keyed_number"  # its callback number
    LOOKING_UP = "looking_up"  # the session asks the store (``pending``)
    MENU = "menu"
    ADDITION = "addition"


@dataclass
class StatusLine:
    """The opening aside. ``found``: the caller's open ticket by caller ID, if any;
    ``keyed``: offer keying a ticket number (no caller ID)."""

    found: Ticket | None = None
    keyed: bool = False
    tz: tzinfo = UTC
    step: Step = Step.MENU
    tries: int = 0
    keyed_ticket: int | None = None
    pending: tuple[int, str] | None = None  # (ticket, callback number) for the store

    def start(self, host: Dialog) -> list[Any]:
        if self.found is not None:
            return self._status(self.found)
        self.step = Step.OFFER_KEYED
        return self.again(host)

    def again(self, host: Dialog) -> list[Any]:
        match self.step:
            case Step.OFFER_KEYED:
                return [Ask((Prompt("status_offer_keyed"),), None, keypad=TICKET_KEYS)]
            case Step.KEYED_NUMBER:
                ask = (Prompt("status_ask_keyed_callback"),)
                return [Ask(ask, None, keypad=NUMBER_KEYS, speech=False)]
            case Step.ADDITION:
                return [Ask((Prompt("status_ask_addition"),), ADDITION_SLOT)]
        return [Ask((Prompt("status_menu"),), None, keypad=KeypadSpec(1))]

    def handle(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        match self.step:
            case Step.OFFER_KEYED:
                return self._on_offer(host, event)
            case Step.KEYED_NUMBER:
                return self._on_keyed_number(host, event)
            case Step.MENU:
                return self._on_menu(host, event)
            case Step.ADDITION:
                return self._on_addition(host, event)
        return []  # LOOKING_UP: the session answers with ``looked_up``

    def looked_up(self, host: Dialog, ticket: Ticket | None) -> list[Any]:
        """The store's answer to ``pending``: the status, or "not found" and the intake."""
        self.pending = None
        if ticket is None:
            return [Say((Prompt("status_not_found"),)), *host.intake()]
        self.found = ticket
        return self._status(ticket)

    # ── steps ──

    def _status(self, ticket: Ticket) -> list[Any]:
        self.step, self.tries = Step.MENU, 0
        menu = Ask((Prompt("status_menu"),), None, keypad=KeypadSpec(1))
        return [Say(status_pieces(ticket, self.tz)), menu]

    def _on_offer(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        digits = event.digits.rstrip("#") if isinstance(event, Pressed) else ""
        if not digits.isdigit() or int(digits) <= 0:
            return host.intake()  # spoke, stayed silent, or keyed nothing: a new request
        self.keyed_ticket, self.step, self.tries = int(digits), Step.KEYED_NUMBER, 0
        return self.again(host)

    def _on_keyed_number(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        digits = event.digits.rstrip("#") if isinstance(event, Pressed) else ""
        if not digits.isdigit():
            return self._unclear(host)
        assert self.keyed_ticket is not None
        self.step, self.pending = Step.LOOKING_UP, (self.keyed_ticket, digits)
        return []

    def _on_menu(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        if isinstance(event, Pressed):
            choice = MENU_KEYS.get(event.digits[:1])
        elif isinstance(event, Heard):
            choice = understand_menu(event.text)
        else:
            choice = None
        if choice == ADD:
            self.step, self.tries = Step.ADDITION, 0
            return self.again(host)
        if choice == OPERATOR:
            return host._human()
        if choice == NEW:
            return host.intake()
        return self._unclear(host)

    def _on_addition(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        text = " ".join(event.text.split()) if isinstance(event, Heard) else ""
        if not text:
            return self._unclear(host)
        assert self.found is not None
        first = str(self.found.id)
        link = SlotValue(FOLLOW_UP_SLOT, first, SlotSource.NETWORK, 1.0, "status line")
        added = SlotValue(ADDITION_SLOT, text, SlotSource.SPEECH, event.confidence, text)
        host.state.slots.update({FOLLOW_UP_SLOT: link, ADDITION_SLOT: added})
        host.aside = None
        host.state.phase = Phase.DONE
        goodbye = (Prompt("status_added"), Digits(first), Prompt("goodbye_end"))
        # Not "complete": no intake was made; after the call it is linked, not routed.
        return [SetSlot(link), SetSlot(added), Say(goodbye), End(CallEndReason.COMPLETED, False)]

    def _unclear(self, host: Dialog) -> list[Any]:
        self.tries += 1
        if self.tries >= TRIES:  # nothing is lost: the caller can still make a request
            return host.intake()
        return [Say((Prompt("retry"),)), *self.again(host)]


# ── the session's side ──────────────────────────────────────────────────────────────────


class CallerTickets(Protocol):
    """The store's look-ups (callbot/tickets/store/sql_callers.py)."""

    async def open_tickets_for_number(
        self, number: str, *, exclude_ticket: int | None = None, limit: int = 1
    ) -> list[Ticket]: ...

    async def open_ticket_keyed(self, ticket_id: int, callback_number: str) -> Ticket | None: ...


@dataclass(frozen=True)
class CallerLine:
    """What the status line and the consent question need from the settings."""

    by_number: bool = True  # callers with caller ID hear their open ticket's status
    by_ticket_number: bool = False  # callers without may key a ticket number
    tz: tzinfo = UTC  # the day a ticket was filed, as the caller knows it
    notify_channel: str | None = None  # "sms"/"zns": ask consent at readback; None: don't


async def opening(
    line: CallerLine | None, store: CallerTickets, ticket_id: int, number: str | None
) -> StatusLine | None:
    """The status line for this call, or None (no open ticket, or not offered). A store
    that cannot answer costs the caller nothing but the status: the intake goes on."""
    if line is None:
        return None
    if number and line.by_number:
        try:
            found = await store.open_tickets_for_number(number, exclude_ticket=ticket_id)
        except StoreError:
            log.exception("ticket %s: open tickets by caller number not read", ticket_id)
            return None
        return StatusLine(found[0], tz=line.tz) if found else None
    if not number and line.by_ticket_number:
        return StatusLine(keyed=True, tz=line.tz)
    return None


async def respond(
    dialog: Dialog, event: Any, store: CallerTickets, line: StatusLine | None
) -> list[Any]:
    """``dialog.handle``, and the store's answer when the status line asked for one."""
    actions = dialog.handle(event)
    if line is None or line.pending is None:
        return actions
    ticket_id, number = line.pending
    try:
        ticket = await store.open_ticket_keyed(ticket_id, number)
    except StoreError:
        log.exception("keyed ticket look-up failed")
        ticket = None
    return [*actions, *line.looked_up(dialog, ticket)]
