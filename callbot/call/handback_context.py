"""What the dialplan and the operator learn about a handed-back caller, and the queue's
expected wait: the channel and global variables the callbot sets over AMI ``Setvar``.

The names here are the contract with ``docs/asterisk/extensions.conf`` (a test reads the
sample and checks it uses exactly these). Values carry personal data (a callback number, a
place, what the caller said): they go to Asterisk only, never into a log line.

Channel variables are set with one leading underscore (``_CALLBOT_TICKET``): Asterisk then
copies them, without the underscore, onto the channel it creates to ring the operator, so
a member Gosub or the operator's phone can read them too. On the caller's own channel the
dialplan reads them as ``${CALLBOT_TICKET}``; ``Set(CALLBOT_TICKET=)`` clears them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callbot.nlu.case_type import CASE_TYPES
from callbot.speech.place_prompts import place_prompt_names
from callbot.tickets.model import Ticket

# The caller's channel, set before CALLBOT_HANDBACK (call/asterisk_link.py).
TICKET_VARIABLE = "CALLBOT_TICKET"  # the ticket number the caller was told
CASE_VARIABLE = "CALLBOT_CASE"  # case type code: essentials, support_policy, …
PLACE_VARIABLE = "CALLBOT_PLACE"  # "Quận 3", "Phường Bến Thành"
CALLBACK_VARIABLE = "CALLBOT_CALLBACK"  # callback number (else the number called from)
SUMMARY_VARIABLE = "CALLBOT_SUMMARY"  # one line for the operator's screen
# The announcement Queue() plays to the operator before bridging (its announceoverride
# argument): sound files joined by "&", from `callbot prompts render --asterisk DIR`.
ANNOUNCE_VARIABLE = "CALLBOT_ANNOUNCE"
CONTEXT_VARIABLES = (
    TICKET_VARIABLE,
    CASE_VARIABLE,
    PLACE_VARIABLE,
    CALLBACK_VARIABLE,
    SUMMARY_VARIABLE,
    ANNOUNCE_VARIABLE,
)
# app_queue's own priority variable, read as the caller (re)joins the queue; set on the
# caller's channel for an emergency hand-back only, and not inherited (the operator's leg
# never queues).
QUEUE_PRIO_VARIABLE = "QUEUE_PRIO"
INHERIT = "_"  # one level: the operator's channel gets it, channels it dials do not

# Globals (Setvar without a Channel), read by the dialplan as ${GLOBAL(NAME)}.
WAIT_MINUTES_VARIABLE = "CALLBOT_EXPECTED_WAIT_MIN"  # whole minutes, "" when unknown
WAIT_SECONDS_VARIABLE = "CALLBOT_EXPECTED_WAIT_S"

SOUNDS = "callbot"  # the sub-folder of Asterisk's sounds/<language>/ the prompts go to
ANNOUNCE_INTRO = "handback_ticket"  # "Phiếu số"
SUMMARY_MAX = 120
MAX_WAIT_S = 3600  # an estimate beyond an hour says nothing useful to a caller

# Case types as an operator reads them on screen (the spoken form is the case_* prompt).
CASE_LABELS = {
    "essentials": "lương thực",
    "support_policy": "chính sách hỗ trợ",
    "vulnerable": "người yếu thế",
    "other": "việc khác",
}

# Control characters would end an AMI line (CR/LF) or confuse a softphone's display.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Characters the dialplan's argument parser treats specially; a sound list must have none.
_SOUND_NAME = re.compile(r"^[a-z0-9_/]+$")


def clean_value(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line, no control characters, at most ``limit`` characters."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class HandbackContext:
    ticket_id: int | None
    case_type: str = ""
    place: str = ""
    callback_number: str = ""
    description: str = ""
    priority: str = "normal"  # the ticket's urgency (issue 17): "emergency" goes first

    def __repr__(self) -> str:  # personal data: only the ticket number may reach a log
        return f"HandbackContext(ticket_id={self.ticket_id})"

    @classmethod
    def from_ticket(cls, ticket: Ticket | None) -> HandbackContext:
        if ticket is None:
            return cls(None)

        def slot(name: str) -> str:
            value = ticket.slots.get(name)
            return value.value if value is not None else ""

        return cls(
            ticket.id,
            case_type=ticket.service_code or slot("case_type"),
            place=slot("place") or ticket.admin_unit or "",
            callback_number=ticket.callback_number or ticket.caller_number or "",
            description=ticket.description or slot("description"),
            priority=str(ticket.priority),
        )

    def summary(self) -> str:
        """One line for the operator: Phiếu 42 · lương thực · Quận 3 · <what was said>."""
        parts = [f"Phiếu {self.ticket_id}"] if self.ticket_id is not None else []
        parts += [p for p in (CASE_LABELS.get(self.case_type, self.case_type), self.place) if p]
        if self.description:
            parts.append(self.description)
        return clean_value(" · ".join(parts))

    def announcement(self) -> str:
        """Sound files for "phiếu số 4 2, lương thực, Quận 3", joined by ``&``; digits one
        by one. A part with no rendered prompt (a place the admin-unit data lacks) is left
        out rather than spoken wrong; no ticket, no announcement."""
        if self.ticket_id is None:
            return ""
        names = [ANNOUNCE_INTRO, *(f"digit_{d}" for d in str(self.ticket_id))]
        if self.case_type in CASE_TYPES:
            names.append(f"case_{self.case_type}")
        place = place_prompt_names().get(self.place)
        if place:
            names.append(place)
        sounds = [f"{SOUNDS}/{name}" for name in names]
        assert all(_SOUND_NAME.match(s) for s in sounds), sounds
        return "&".join(sounds)

    def channel_variables(self) -> list[tuple[str, str]]:
        """(name as sent in Setvar, value) for the caller's channel, in a fixed order."""
        values = {
            TICKET_VARIABLE: "" if self.ticket_id is None else str(self.ticket_id),
            CASE_VARIABLE: clean_value(self.case_type, 40),
            PLACE_VARIABLE: clean_value(self.place, 80),
            CALLBACK_VARIABLE: re.sub(r"[^0-9+]", "", self.callback_number)[:20],
            SUMMARY_VARIABLE: self.summary(),
            ANNOUNCE_VARIABLE: self.announcement(),
        }
        return [(INHERIT + name, values[name]) for name in CONTEXT_VARIABLES]


# ── the expected wait for a caller joining the queue ─────────────────────────────────────


@dataclass(frozen=True)
class QueueFigures:
    """The live figures the estimate uses (queue watcher and QueueSummary)."""

    logged_in: int
    available: int
    waiting: int
    answered_recently: int | None  # operator answers in the last ``window_s``; None: unknown
    window_s: float
    holdtime_s: float = 0.0  # QueueSummary HoldTime: Asterisk's average wait of answered calls


def expected_wait_s(figures: QueueFigures) -> int | None:
    """Seconds a caller joining now is likely to wait for an operator; None when no
    figure is honest (nobody logged in: the queue sends callers on at once).

    The answer rate the operators actually kept over the last minutes, applied to the
    caller's place in line, follows a surge at once; Asterisk's HoldTime (an average over
    answered calls) lags it, so it is only the fallback when nobody was answered lately.
    """
    if figures.logged_in <= 0:
        return None
    if figures.available > figures.waiting:
        return 0
    place = figures.waiting + 1
    if figures.answered_recently and figures.window_s > 0:
        estimate = place * figures.window_s / figures.answered_recently
    elif figures.holdtime_s > 0:
        estimate = figures.holdtime_s
    else:
        return None
    return int(min(MAX_WAIT_S, round(estimate)))


def wait_variables(wait_s: int | None) -> list[tuple[str, str]]:
    """The globals for ``wait_s``: whole minutes rounded up (a caller told "one minute"
    who waits ninety seconds was misled), empty when unknown (the dialplan then says no
    figure at all)."""
    if wait_s is None:
        return [(WAIT_MINUTES_VARIABLE, ""), (WAIT_SECONDS_VARIABLE, "")]
    minutes = max(1, -(-wait_s // 60)) if wait_s > 0 else 0
    return [(WAIT_MINUTES_VARIABLE, str(minutes)), (WAIT_SECONDS_VARIABLE, str(wait_s))]
