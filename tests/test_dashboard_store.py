"""Dashboard data on both engines: accounts, sessions, failed sign-ins, replay log, notes,
full-text search (diacritics folded, kept in step with retention), keyset pages, filters,
overview figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    SlotSource,
    SlotValue,
    Speaker,
    TicketStatus,
    Turn,
    TurnKind,
)
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.dashboard import overview
from callbot.web.dashboard.accounts_store import AccountStore, DuplicateLoginError
from callbot.web.dashboard.queries import ListQuery, export_tickets, list_page
from callbot.web.dashboard.roles import Role, User

pytest_plugins = ["conftest_store"]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(UTC)
SUPERVISOR = User(1, "giamsat", Role.SUPERVISOR, None, False, NOW)
OFFICER = User(2, "quan3", Role.AGENCY, "UBND Quận 3", False, NOW)


async def _ticket(
    store: SqlTicketStore,
    n: int,
    *,
    text: str = "tôi cần hỗ trợ",
    place: str = "Quận 1",
    started: datetime | None = None,
    reason: CallEndReason = CallEndReason.COMPLETED,
    agency: str | None = None,
    due: datetime | None = None,
) -> int:
    call_id = f"20000000-0000-4000-8000-{n:012d}"
    started = started or NOW - timedelta(minutes=n)
    ticket = await store.begin_call(CallRecord(call_id, started))
    await store.append_turn(
        Turn(call_id, 0, started, Speaker.CALLER, TurnKind.SPEECH, text, 0.8, 0, 900)
    )
    await store.set_slot(call_id, SlotValue("place", place, SlotSource.SPEECH, 0.7))
    await store.set_slot(
        call_id, SlotValue("callback_number", f"09034{n:05d}", SlotSource.KEYPAD, 1.0)
    )
    await store.end_call(
        call_id,
        ended_at=started + timedelta(seconds=60),
        reason=reason,
        complete=reason is CallEndReason.COMPLETED,
    )
    if agency:
        await store.set_routing(ticket.id, agency, "test", due)
    return ticket.id


async def _ids(store: SqlTicketStore, user: User = SUPERVISOR, **filters: str) -> list[int]:
    page = await list_page(store, ListQuery(**filters), user, ZONE, limit=500)
    return [ticket.id for ticket in page.tickets]


async def test_accounts_sessions_and_sign_in_failures(store: SqlTicketStore) -> None:
    accounts = AccountStore(store)
    user = await accounts.add_user("giamsat", Role.SUPERVISOR, None, "hash-1", NOW)
    with pytest.raises(DuplicateLoginError):
        await accounts.add_user("giamsat", Role.OVERSIGHT, None, "hash-2", NOW)
    found = await accounts.find_login("giamsat")
    assert found is not None and found[1] == "hash-1" and found[0].role is Role.SUPERVISOR

    await accounts.start_session(user.id, "token-a", "csrf-a", NOW, NOW + timedelta(hours=1))
    live = await accounts.live_session("token-a", NOW)
    assert live is not None and live.csrf_token == "csrf-a" and live.user.login == "giamsat"
    assert await accounts.live_session("token-a", NOW + timedelta(hours=2)) is None  # expired

    await accounts.end_session("token-a", NOW)
    assert await accounts.live_session("token-a", NOW) is None

    await accounts.start_session(user.id, "token-b", "csrf-b", NOW, NOW + timedelta(hours=1))
    assert await accounts.set_password("giamsat", "hash-3", NOW)
    assert await accounts.live_session("token-b", NOW) is None  # a new password ends sessions

    await accounts.start_session(user.id, "token-c", "csrf-c", NOW, NOW + timedelta(hours=1))
    assert await accounts.set_disabled("giamsat", True, NOW)
    assert await accounts.live_session("token-c", NOW) is None
    assert not await accounts.set_disabled("nobody", True, NOW)

    # Sign-in limits: each attempt is reserved on every key before the password check.
    window = timedelta(minutes=5)
    pair, everyone = ("pair 10.0.0.1 giamsat", 3), ("all", 100)
    started = NOW - timedelta(minutes=10)
    assert await accounts.reserve_attempt([pair, everyone], started, started - window) is None
    # That attempt's window has ended: three more fit in a new one, the fourth is refused
    # and, refused, counts on no key (the "all" budget is not spent by a locked pair).
    for _ in range(3):
        assert await accounts.reserve_attempt([pair, everyone], NOW, NOW - window) is None
    assert await accounts.reserve_attempt([pair, everyone], NOW, NOW - window) == pair[0]
    other = ("pair 10.0.0.2 giamsat", 3)
    assert await accounts.reserve_attempt([other, ("all", 4)], NOW, NOW - window) is None
    assert await accounts.reserve_attempt([other, ("all", 4)], NOW, NOW - window) == "all"
    # A success gives its attempt back and clears its pair.
    await accounts.release_attempt(["all"], [pair[0]])
    assert await accounts.reserve_attempt([pair, ("all", 5)], NOW, NOW - window) is None
    later = NOW + timedelta(minutes=6)
    assert await accounts.forget_attempts(later - window) == 3  # every row's window is over


async def test_replays_are_logged_once_per_playback_and_notes_kept(store: SqlTicketStore) -> None:
    ticket_id = await _ticket(store, 1)
    accounts = AccountStore(store)
    window = timedelta(minutes=2)
    assert await accounts.log_replay(SUPERVISOR, ticket_id, "c", NOW, NOW - window)
    assert not await accounts.log_replay(SUPERVISOR, ticket_id, "c", NOW, NOW - window)
    later = NOW + timedelta(minutes=5)
    assert await accounts.log_replay(SUPERVISOR, ticket_id, "c", later, later - window)
    replays = await accounts.list_replays()
    assert [r.login for r in replays] == ["giamsat", "giamsat"]
    assert replays[0].at > replays[1].at  # newest first
    assert len(await accounts.list_replays(before_id=replays[0].id)) == 1

    await accounts.add_note(ticket_id, "giamsat", "Gọi lại lúc 9 giờ", NOW)
    notes = await accounts.list_notes(ticket_id)
    assert [(n.actor, n.text) for n in notes] == [("giamsat", "Gọi lại lúc 9 giờ")]
    assert not any(e.kind == "note" for e in await store.list_history(ticket_id))


async def test_search_folds_diacritics_and_follows_corrections(store: SqlTicketStore) -> None:
    first = await _ticket(store, 1, text="nhà tôi ở đường Đồng Khởi", place="Quận 3")
    second = await _ticket(store, 2, text="bạn ơi cho tôi gạo", place="Gò Vấp")
    assert await _ids(store, q="dong khoi") == [first]
    assert await _ids(store, q="Đồng khởi") == [first]
    assert await _ids(store, q="go vap") == [second]
    assert await _ids(store, q="0903400002") == [second]
    assert await _ids(store, q="09034") == [first, second]  # a number matches as a prefix
    assert await _ids(store, q="ba") == [second]  # every word is a prefix ("bạn"; issue 16)
    # Quotes, operators and brackets are never passed through: only the words count.
    assert await _ids(store, q='"quận" (khởi* NEAR') == []  # "near" is just another word
    assert await _ids(store, q='"quận" (khởi* -- ') == [first]
    assert await _ids(store, q="!!!") == [first, second]  # no words: no search

    call_id = f"20000000-0000-4000-8000-{2:012d}"
    await store.set_slot(call_id, SlotValue("place", "Bình Thạnh", SlotSource.SUPERVISOR, 1.0))
    assert await _ids(store, q="binh thanh") == [second]
    assert await _ids(store, q="go vap") == []


async def test_search_forgets_what_retention_purges(store: SqlTicketStore) -> None:
    ticket_id = await _ticket(store, 1, text="tên tôi là Nguyễn Văn Tèo")
    assert await _ids(store, q="teo") == [ticket_id]
    assert await _ids(store, q="0903400001") == [ticket_id]
    await store.purge_personal_data(  # type: ignore[attr-defined]
        ticket_id, personal_slots=["callback_number", "name"], actor="retention"
    )
    assert await _ids(store, q="teo") == []
    assert await _ids(store, q="0903400001") == []
    assert await _ids(store, q="quan 1") == [ticket_id]  # the admin unit is kept


async def test_keyset_pages_cover_every_ticket_once(store: SqlTicketStore) -> None:
    same_moment = NOW - timedelta(hours=1)
    made = [await _ticket(store, n, started=same_moment if n % 3 == 0 else None) for n in range(23)]
    seen: list[int] = []
    before = None
    while True:
        page = await list_page(store, ListQuery(), SUPERVISOR, ZONE, before=before, limit=5)
        seen += [ticket.id for ticket in page.tickets]
        if page.next_before is None:
            break
        before = page.next_before
    assert sorted(seen) == sorted(made) and len(seen) == len(made)
    exported = [ticket.id async for ticket in export_tickets(store, ListQuery(), SUPERVISOR, ZONE)]
    assert exported == seen


async def test_filters_and_agency_scope(store: SqlTicketStore) -> None:
    late = await _ticket(
        store, 1, agency="UBND Quận 3", due=NOW - timedelta(hours=1), place="Quận 3"
    )
    handed = await _ticket(store, 2, reason=CallEndReason.HANDED_BACK, agency="UBND Quận 5")
    on_time = await _ticket(store, 3, agency="UBND Quận 3", due=NOW + timedelta(days=1))
    old = await _ticket(store, 4, started=NOW - timedelta(days=3))
    assert await _ids(store, overdue="1") == [late]
    assert await _ids(store, handed_back="1") == [handed]
    assert await _ids(store, complete="no") == [handed]
    assert await _ids(store, admin_unit="Quận 3") == [late]
    assert await _ids(store, agency="UBND Quận 3") == [late, on_time]
    assert await _ids(store, status="new") == [old]
    yesterday = (NOW - timedelta(days=3)).astimezone(ZONE).date().isoformat()
    assert await _ids(store, date_from=yesterday, date_to=yesterday) == [old]

    # An officer sees their agency's tickets only, whatever the form asks.
    assert await _ids(store, OFFICER) == [late, on_time]
    assert await _ids(store, OFFICER, agency="UBND Quận 5") == [late, on_time]

    await store.change_status(late, TicketStatus.ACCEPTED, "quan3")
    await store.change_status(late, TicketStatus.IN_PROGRESS, "quan3")
    await store.change_status(late, TicketStatus.RESOLVED, "quan3")
    assert await _ids(store, overdue="1") == []  # resolved is never overdue


async def test_overview_figures(store: SqlTicketStore) -> None:
    await _ticket(store, 1, agency="UBND Quận 3", due=NOW - timedelta(hours=1), place="Quận 3")
    await _ticket(store, 2, reason=CallEndReason.HANDED_BACK, place="Quận 3")
    await _ticket(store, 3, reason=CallEndReason.CALLER_HANGUP)
    await _ticket(store, 4, started=NOW - timedelta(days=5), agency="UBND Quận 3")
    figures = await overview.compute(store, SUPERVISOR, NOW - timedelta(days=1), NOW)
    assert (figures.calls, figures.ended, figures.complete, figures.handed_back) == (3, 3, 1, 1)
    assert figures.by_admin_unit[0] == ("Quận 3", 2)
    assert sum(n for _, n in figures.per_hour) == 3
    by_age = {
        label: (within, overdue, none) for label, within, overdue, none in figures.open_by_age
    }
    assert by_age["Dưới 1 ngày"] == (0, 1, 2)
    assert by_age["3–7 ngày"] == (0, 0, 1)

    scoped = await overview.compute(store, OFFICER, NOW - timedelta(days=30), NOW)
    assert scoped.calls == 2
