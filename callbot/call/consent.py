"""May we text you? (issue 18): the question at readback, and what happens after the call.

Asked once the caller confirmed the readback, only when a notify channel is configured
(``CallerLine.notify_channel``): "Bạn có muốn nhận tin nhắn …? Có bấm một, không bấm hai",
yes/no as the readback's own (spoken, or keys 1/2). The answer is the ``notify_consent``
slot ("yes"/"no"), journaled and kept like any slot; unclear twice or silence stores
nothing (never asked ≠ no, and neither sends anything).

``after_intake`` wraps the call's after-call step (routing and the outbox): first the
consent goes onto the ticket (``set_notify_consent``, so the receipt is queued when the
ticket is routed), then a status-line follow-up is linked to its first ticket instead of
being routed (callbot/call/status_line.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from callbot.call.dialog import Dialog, Heard, Pressed, Prompt, Say, Script, SetSlot, Silence
from callbot.call.hearing import understand_heard
from callbot.call.status_line import ADDITION_SLOT, FOLLOW_UP_SLOT, CallerLine
from callbot.config import Settings
from callbot.tickets.model import SlotSource, SlotValue, Ticket
from callbot.tickets.store.base import StoreError

log = logging.getLogger(__name__)

CONSENT_SLOT = "notify_consent"
CONSENT_PROMPT = "ask_notify_consent"
TRIES = 2
BOT_ACTOR = "callbot"


class ConsentQuestion:
    """The closing aside: one yes/no, then the goodbye."""

    def __init__(self) -> None:
        self.tries = 0

    def start(self, host: Dialog) -> list[Any]:
        return self.again(host)

    def again(self, host: Dialog) -> list[Any]:
        return [host._ask_yes_no((Prompt(CONSENT_PROMPT),), CONSENT_SLOT)]

    def handle(self, host: Dialog, event: Heard | Pressed | Silence) -> list[Any]:
        if isinstance(event, Silence):
            return host.intake()  # no answer: nothing stored, nothing sent
        if isinstance(event, Pressed):
            answer, source, heard = (
                {"1": "yes", "2": "no"}.get(event.digits),
                SlotSource.KEYPAD,
                event.digits,
            )
            confidence = 1.0
        else:
            script = host.script
            understood = understand_heard(
                script.understand_yes_no, event, script.yes_no_choices, has_keypad=True
            )
            answer = understood.value if understood else None
            confidence = understood.confidence if understood else 0.0
            source, heard = SlotSource.SPEECH, event.text
        if answer in ("yes", "no"):
            slot = SlotValue(CONSENT_SLOT, answer, source, confidence, heard)
            host.state.slots[CONSENT_SLOT] = slot
            return [SetSlot(slot), *host.intake()]
        self.tries += 1
        if self.tries >= TRIES:
            return host.intake()
        return [Say((Prompt("retry"),)), *self.again(host)]


class IntakeStore(Protocol):
    async def set_notify_consent(
        self, ticket_id: int, consent: bool, channel: Any = ..., *, actor: str
    ) -> Ticket: ...

    async def link_follow_up(
        self, ticket_id: int, first_id: int, addition: str, *, actor: str
    ) -> bool: ...


AfterCall = Callable[[Ticket], Awaitable[object]]


def after_intake(store: IntakeStore, then: AfterCall | None, channel: str | None) -> AfterCall:
    """The after-call step with consent and follow-ups first (see the module's doc)."""

    async def after_call(ticket: Ticket) -> None:
        consent = ticket.slots.get(CONSENT_SLOT)
        if consent is not None and channel is not None and ticket.notify_consent is None:
            try:
                await store.set_notify_consent(
                    ticket.id, consent.value == "yes", channel, actor=BOT_ACTOR
                )
            except StoreError:  # the slot stays on the ticket, for a person to see
                log.exception("ticket %s: consent not stored", ticket.id)
        follow = ticket.slots.get(FOLLOW_UP_SLOT)
        if follow is not None and follow.value.isdigit():
            added = ticket.slots.get(ADDITION_SLOT)
            note = f"Người gọi bổ sung qua điện thoại (cuộc gọi của phiếu {ticket.id})"
            if added is not None:
                note = f"{note}: {added.value}"
            try:
                await store.link_follow_up(ticket.id, int(follow.value), note, actor=BOT_ACTOR)
            except StoreError:  # left in the callback queue with its slots: nothing lost
                log.exception("ticket %s: follow-up not linked", ticket.id)
            return  # linked, not routed: the first ticket is the request
        if then is not None:
            await then(ticket)

    return after_call


def caller_line(settings: Settings, script: Script) -> CallerLine:
    """The status line as the script asks, and the consent question only when [notify]
    is enabled (ZNS when both its templates are named, else SMS)."""
    notify = settings.notify
    zns = bool(notify.zns_receipt_template and notify.zns_resolution_template)
    return CallerLine(
        by_number=script.status_by_phone,
        by_ticket_number=script.status_by_ticket_number,
        tz=ZoneInfo(settings.web.timezone),
        notify_channel=("zns" if zns else "sms") if notify.enabled else None,
    )
