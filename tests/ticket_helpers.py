"""Tickets as a call leaves them, for the routing, outbox and retention tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    SlotSource,
    SlotValue,
    Speaker,
    Ticket,
    Turn,
    TurnKind,
)
from callbot.tickets.store.sql_store import SqlTicketStore

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

# A whole intake typed as a text channel's user would (web chat, Zalo, the terminal chat):
# each line answers the question the dialog asks next.
TYPED_INTAKE = [
    "nhà tôi hết gạo rồi",
    "1",
    "phường bến thành",
    "số 12 đường lê lợi",
    "nhà có bốn người",
    "tôi tên là trần thị mai",
    "không chín một hai ba bốn năm sáu bảy tám",
    "cả nhà mất việc",
    "đúng rồi",
]
# The same with a correction at the readback ("sai địa chỉ", then the new address).
TYPED_INTAKE_CORRECTED = [*TYPED_INTAKE[:-1], "sai địa chỉ", "số 14 đường lê lợi", "đúng rồi"]

CALLER_SLOTS = {
    "subject": "self",
    "address": "12 Lê Lợi",
    "household_size": "5",
    "name": "Nguyễn Văn An",
    "callback_number": "0903456789",
    "description": "nhà hết gạo",
}


async def call_ticket(
    store: SqlTicketStore,
    *,
    case_type: str | None = "essentials",
    place: str | None = "Quận 3",
    complete: bool = True,
    started_at: datetime = T0,
    recording_path: str | None = None,
    caller_number: str | None = "0281234567",
    slots: dict[str, str] | None = None,
) -> Ticket:
    """A call that captured the slots given, with a few transcript turns, then ended;
    ``slots`` replace or add to CALLER_SLOTS (another household: its own number, address)."""
    call = CallRecord(
        str(uuid.uuid4()),
        started_at,
        caller_number=caller_number,
        recording_path=recording_path,
    )
    await store.begin_call(call)
    slots = {**CALLER_SLOTS, **(slots or {})}
    if case_type:
        slots["case_type"] = case_type
    if place:
        slots["place"] = place
    for seq, (name, value) in enumerate(slots.items()):
        await store.append_turn(
            Turn(call.call_id, 2 * seq, started_at, Speaker.BOT, TurnKind.PROMPT, f"hỏi {name}")
        )
        await store.append_turn(
            Turn(
                call.call_id,
                2 * seq + 1,
                started_at + timedelta(seconds=seq),
                Speaker.CALLER,
                TurnKind.SPEECH,
                f"tôi nói {value}",
                confidence=0.9,
                slot_updates={name: value},
            )
        )
        await store.set_slot(call.call_id, SlotValue(name, value, SlotSource.SPEECH, 0.9, value))
    return await store.end_call(
        call.call_id,
        ended_at=started_at + timedelta(minutes=2),
        reason=CallEndReason.COMPLETED if complete else CallEndReason.CALLER_HANGUP,
        complete=complete,
    )
