"""Calls in progress for the live view's tests: begun, with turns and slots, never ended,
as a call's session leaves them in the store while it runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from callbot.tickets.model import (
    CallRecord,
    SlotSource,
    SlotValue,
    Speaker,
    Turn,
    TurnKind,
)
from callbot.tickets.store.sql_store import SqlTicketStore

FLOOD_CALL = "11111111-0000-4000-8000-000000000001"
FIRE_CALL = "11111111-0000-4000-8000-000000000002"
FLOOD_NUMBER = "0911222333"
FIRE_NUMBER = "0987654321"


async def live_call(
    store: SqlTicketStore,
    call_id: str,
    started: datetime,
    number: str,
    turns: list[tuple[Speaker, TurnKind, str]],
    slots: dict[str, str],
) -> int:
    ticket = await store.begin_call(CallRecord(call_id, started), owner="test-owner")
    await store.set_call_info(call_id, caller_number=number, channel_name="PJSIP/trunk-1")
    for seq, (speaker, kind, text) in enumerate(turns):
        await store.append_turn(
            Turn(call_id, seq, started + timedelta(seconds=2 * seq), speaker, kind, text)
        )
    for version, (name, value) in enumerate(slots.items(), start=1):
        await store.set_slot(
            call_id, SlotValue(name, value, SlotSource.SPEECH, 0.8), version=version
        )
    return ticket.id


async def seed_live(store: SqlTicketStore, now: datetime) -> dict[str, int]:
    bot, caller = Speaker.BOT, Speaker.CALLER
    flood = await live_call(
        store,
        FLOOD_CALL,
        now - timedelta(minutes=3),
        FLOOD_NUMBER,
        [
            (bot, TurnKind.PROMPT, "Xin chào, đây là tổng đài 1022. Bạn cần hỗ trợ gì?"),
            (caller, TurnKind.SPEECH, "nhà tôi bị ngập"),
            (bot, TurnKind.PROMPT, "Bạn đang ở quận, huyện nào?"),
        ],
        {"case_type": "essentials"},
    )
    fire = await live_call(
        store,
        FIRE_CALL,
        now - timedelta(minutes=1),
        FIRE_NUMBER,
        [
            (bot, TurnKind.PROMPT, "Xin chào, đây là tổng đài 1022. Bạn cần hỗ trợ gì?"),
            (caller, TurnKind.SPEECH, "có cháy <b>ở đây</b>"),
            (bot, TurnKind.PROMPT, "Địa chỉ của bạn ở đâu?"),
        ],
        {"urgency": "emergency", "place": "Quận 3"},
    )
    return {"flood": flood, "fire": fire}
