"""The data that flows from a call into the ticket store.

Tickets are shaped like Open311 GeoReport v2 service requests (``service_code``,
``description``, ``status``, ``requested_datetime``…) so that city systems can read them,
plus the callbot's own fields (caller and callback numbers, per-slot provenance, call id,
recording, transcript turns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    return datetime.now(UTC)


class Channel(StrEnum):
    VOICE = "voice"
    WEB = "web"
    CHAT = "chat"
    WEB_CHAT = "web_chat"  # the web chat page (callbot.channels.web_chat)
    ZALO = "zalo"  # the Zalo Official Account (callbot.channels.zalo_oa)


class SlotSource(StrEnum):
    SPEECH = "speech"
    KEYPAD = "keypad"
    NETWORK = "network"  # e.g. the caller's number from Asterisk
    SUPERVISOR = "supervisor"  # corrected by a person on the dashboard


class Speaker(StrEnum):
    CALLER = "caller"
    BOT = "bot"
    SYSTEM = "system"


class TurnKind(StrEnum):
    SPEECH = "speech"  # caller speech, text from the recogniser
    KEYPAD = "keypad"  # caller DTMF digits
    PROMPT = "prompt"  # what the bot said
    SILENCE = "silence"  # the caller said nothing before the timeout
    EVENT = "event"  # hang-up, hand-back, protocol error, …


class TicketStatus(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    CLOSED = "closed"


class Priority(StrEnum):
    """How soon a ticket needs a person: the urgency its call reached (issue 17,
    callbot/nlu/urgency.py). Raised tickets get a shorter SLA (routing)."""

    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class CallEndReason(StrEnum):
    COMPLETED = "completed"  # the dialog reached its goodbye
    CALLER_HANGUP = "caller_hangup"  # TCP closed by Asterisk
    HANDED_BACK = "handed_back"  # returned to the human queue
    NO_INPUT = "no_input"  # silent caller, ended politely
    PROTOCOL_ERROR = "protocol_error"  # malformed frames from the peer
    SERVER_ERROR = "server_error"  # our own failure; the ticket still exists
    SHUTDOWN = "shutdown"  # the server stopped while the call was up


@dataclass(frozen=True)
class SlotValue:
    """One captured fact, with where it came from and how sure we are."""

    name: str  # "case_type", "place", "callback_number", …
    value: str  # normalised value, e.g. "essentials", "Quận 3", "0903456789"
    source: SlotSource
    confidence: float  # 0..1
    heard: str = ""  # the text (or digits) it was taken from


@dataclass(frozen=True)
class Turn:
    """One step of the conversation, persisted the moment it happens."""

    call_id: str
    seq: int  # 0, 1, 2 … per call, in order
    at: datetime
    speaker: Speaker
    kind: TurnKind
    text: str
    confidence: float | None = None
    # Offsets into the call's recording, so a dashboard can seek to the turn.
    start_ms: int | None = None
    end_ms: int | None = None
    slot_updates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallRecord:
    call_id: str  # the AudioSocket UUID (canonical lower-case hex with dashes)
    started_at: datetime
    caller_number: str | None = None  # from the network (AMI correlation), if known
    channel_name: str | None = None  # Asterisk channel, if known
    recording_path: str | None = None  # relative to the recordings directory
    channel: Channel = Channel.VOICE


@dataclass
class Ticket:
    id: int  # the short number read out to the caller
    call_id: str | None
    channel: Channel
    status: TicketStatus
    complete: bool  # every required slot captured and confirmed
    service_code: str | None = None  # case type
    description: str = ""
    slots: dict[str, SlotValue] = field(default_factory=dict)
    caller_number: str | None = None
    callback_number: str | None = None
    admin_unit: str | None = None  # current (2025) unit name when known
    agency_responsible: str | None = None
    requested_datetime: datetime = field(default_factory=utcnow)
    updated_datetime: datetime = field(default_factory=utcnow)
    expected_datetime: datetime | None = None
    end_reason: CallEndReason | None = None
    recording_path: str | None = None
    # Added by the ticket stores (issue 5); all defaulted so existing callers still work.
    needs_callback: bool = False  # ended incomplete: a person must call back (the callback queue)
    status_notes: str = ""  # Open311 status_notes: the note given with the last status change
    routing_rule: str | None = None  # which routing rule chose agency_responsible
    priority: Priority = Priority.NORMAL  # issue 17: set from the call's "urgency" slot
    # Issue 18: may we text the caller (None: never asked), and by which channel (sms/zns).
    notify_consent: bool | None = None
    notify_channel: str | None = None
    # Issue 18 item 3: the household's case this ticket was linked to (the id of the case's
    # first ticket); None for a ticket that is its own case (callbot/tickets/household.py).
    case_id: int | None = None


# Ticket fields that follow a slot: ``set_slot(call_id, SlotValue("place", …))`` also sets
# ``ticket.admin_unit``. This is the one place the mapping is written down; both stores use it.
SLOT_TICKET_FIELDS: dict[str, str] = {
    "case_type": "service_code",
    "callback_number": "callback_number",
    "place": "admin_unit",
    "description": "description",
    "urgency": "priority",  # issue 17: what the caller said raised the ticket's priority
}


# The status lifecycle. Officers move a ticket along it; each move is a history event.
#   new ─► routed ─► accepted ─► in_progress ─► resolved ─► closed
#    │        │          │            │            └─► in_progress  (reopened: not actually fixed)
#    └────────┴──────────┴────────────┴─► rejected (a reason is required) ─► closed
# ``routed`` → ``routed`` is a re-route (set_routing on a routed ticket); nothing leaves ``closed``.
STATUS_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.ROUTED, TicketStatus.REJECTED}),
    TicketStatus.ROUTED: frozenset({TicketStatus.ACCEPTED, TicketStatus.REJECTED}),
    TicketStatus.ACCEPTED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.REJECTED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.REJECTED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.REJECTED: frozenset({TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}


class EventKind(StrEnum):
    """What a ticket history event records."""

    CREATED = "created"
    CALL_INFO = "call_info"  # caller number / channel learnt from the network
    SLOT_SET = "slot_set"  # data: name, value, source, confidence, heard, old (previous or null)
    CALL_ENDED = "call_ended"  # data: reason, complete, needs_callback
    STATUS_CHANGED = "status_changed"  # data: from, to, note
    ROUTED = "routed"  # data: agency, rule, expected_datetime
    CALLBACK_DONE = "callback_done"  # data: complete, note
    # Issue 5 (outbox and retention, callbot/tickets/outbox.py and callbot/tickets/retention.py):
    DELIVERY = "delivery"  # data: agency, outcome (delivered/failed), attempts, status_code
    PURGED = "purged"  # personal data removed by retention; data: what was removed
    # Issue 18 (callbot/tickets/notify/): data without the number or the message text.
    NOTIFY_CONSENT = "notify_consent"  # data: consent (true/false), channel
    NOTIFICATION = "notification"  # data: event, channel, outcome (sent/failed), attempts, code
    # Issue 17 (the live view, callbot/tickets/store/sql_live.py): a supervisor asked to hand
    # the call back to the operators now; data: call_id.
    HANDBACK_REQUESTED = "handback_requested"
    # Issue 18 item 3 (one case per household, callbot/tickets/store/sql_cases.py), on both
    # tickets: data case (the case's first ticket), ticket (the linked one), by (number,
    # address, supervisor).
    CASE_LINKED = "case_linked"
    CASE_SPLIT = "case_split"  # data: case, ticket; a supervisor's reason
    # Issue 14 (callbot/recordings_archive.py): the recording was moved to a compressed
    # archive format; data: recording_format ("flac"), never the path.
    RECORDING_ARCHIVED = "recording_archived"


@dataclass(frozen=True)
class TicketEvent:
    """One entry of a ticket's append-only history."""

    id: int
    ticket_id: int
    at: datetime
    actor: str  # "callbot", "router", a supervisor's login, …
    kind: EventKind
    data: dict[str, object] = field(default_factory=dict)
    reason: str | None = None
