"""The live view's store queries (callbot/tickets/store/sql_live.py) on a real SQLite file
and a real PostgreSQL schema: calls in progress with their newest turns and slots, and a
supervisor's hand-back request, its history entry and its outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.tickets.model import (
    CallEndReason,
    EventKind,
    Priority,
    Speaker,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.store.base import NotFoundError
from callbot.tickets.store.sql_live import (
    TURNS_SHOWN,
    HandbackOutcome,
    HandbackState,
    masked_number,
)
from callbot.tickets.store.sql_store import SqlTicketStore

try:
    from live_calls import FIRE_CALL, FIRE_NUMBER, FLOOD_CALL, FLOOD_NUMBER, seed_live
except ImportError:
    from tests.live_calls import FIRE_CALL, FIRE_NUMBER, FLOOD_CALL, FLOOD_NUMBER, seed_live

pytest_plugins = ["conftest_store"]


async def test_live_calls_are_the_calls_not_ended_with_newest_turns_and_slots(
    store: SqlTicketStore,
) -> None:
    now = datetime.now(UTC)
    ids = await seed_live(store, now)
    calls = await store.live_calls()
    assert [c.call_id for c in calls] == [FLOOD_CALL, FIRE_CALL]  # oldest first
    flood, fire = calls
    assert flood.ticket_id == ids["flood"]
    assert flood.caller == "•••••••333" and FLOOD_NUMBER not in repr(flood)
    assert FIRE_NUMBER not in repr(fire)
    assert flood.question == "Bạn đang ở quận, huyện nào?"
    assert [t.text for t in flood.turns][1] == "nhà tôi bị ngập"
    assert flood.slots == {"case_type": "essentials"}
    assert flood.priority is Priority.NORMAL and fire.priority is Priority.EMERGENCY
    assert fire.slots == {"urgency": "emergency", "place": "Quận 3"}
    assert flood.handback is None

    # Many turns: only the newest few, in order.
    for seq in range(3, 3 + 2 * TURNS_SHOWN):
        await store.append_turn(
            Turn(FLOOD_CALL, seq, now, Speaker.CALLER, TurnKind.SPEECH, f"câu {seq}")
        )
    flood = (await store.live_calls())[0]
    assert [t.seq for t in flood.turns] == list(range(3 + TURNS_SHOWN, 3 + 2 * TURNS_SHOWN))
    assert flood.question is None  # the last prompt scrolled out of the window

    # An ended call leaves the view.
    await store.end_call(
        FLOOD_CALL, ended_at=utcnow(), reason=CallEndReason.CALLER_HANGUP, complete=False
    )
    assert [c.call_id for c in await store.live_calls()] == [FIRE_CALL]


async def test_hand_back_request_is_recorded_once_in_history_and_finished(
    store: SqlTicketStore,
) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    fire = ids["fire"]
    assert not await store.handback_pending(FIRE_CALL)
    assert await store.request_handback(fire, actor="giamsat") is HandbackOutcome.REQUESTED
    assert await store.request_handback(fire, actor="giamsat2") is HandbackOutcome.ALREADY
    assert await store.handback_pending(FIRE_CALL)
    assert not await store.handback_pending(FLOOD_CALL)
    live = {c.call_id: c for c in await store.live_calls()}
    assert live[FIRE_CALL].handback is HandbackState.PENDING
    assert live[FIRE_CALL].handback_by == "giamsat"
    events = [e for e in await store.list_history(fire) if e.kind is EventKind.HANDBACK_REQUESTED]
    assert [(e.actor, e.data) for e in events] == [("giamsat", {"call_id": FIRE_CALL})]

    # AMI refused: the request fails, the supervisor may ask again (a second history entry).
    await store.finish_handback(FIRE_CALL, handed_back=False)
    assert not await store.handback_pending(FIRE_CALL)
    assert (await store.live_calls())[1].handback is HandbackState.FAILED
    assert await store.request_handback(fire, actor="giamsat") is HandbackOutcome.REQUESTED
    await store.finish_handback(FIRE_CALL, handed_back=True)
    assert (await store.live_calls())[1].handback is HandbackState.DONE
    assert await store.request_handback(fire, actor="giamsat") is HandbackOutcome.ALREADY
    history = await store.list_history(fire)
    assert sum(e.kind is EventKind.HANDBACK_REQUESTED for e in history) == 2


async def test_hand_back_of_an_ended_or_unknown_call(store: SqlTicketStore) -> None:
    ids = await seed_live(store, datetime.now(UTC))
    await store.end_call(
        FLOOD_CALL, ended_at=utcnow(), reason=CallEndReason.COMPLETED, complete=True
    )
    assert await store.request_handback(ids["flood"], actor="giamsat") is HandbackOutcome.ENDED
    assert not await store.handback_pending(FLOOD_CALL)
    with pytest.raises(NotFoundError):
        await store.request_handback(10**9, actor="giamsat")


async def test_live_calls_of_an_empty_store(store: SqlTicketStore) -> None:
    assert await store.live_calls() == []


@given(st.text(max_size=40))
def test_a_masked_number_never_shows_more_than_three_digits(number: str) -> None:
    shown = masked_number(number)
    digits = [c for c in number if c.isdigit()]
    assert sum(c.isdigit() for c in shown) <= 3
    if len(digits) >= 6:
        assert shown.endswith("".join(digits[-3:]))
