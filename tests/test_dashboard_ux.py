"""What supervisors read (issue 16): Vietnamese for every value and event of a real ticket,
local times, search over callers' words only (exact tone marks first, word prefixes), and
an overview that counts each channel apart. Store-level tests run on SQLite and PostgreSQL;
page tests against a real server over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.chat import chat
from callbot.config import Settings
from callbot.server import load_script
from callbot.speech.prompts import prompt_library
from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    Channel,
    SlotSource,
    SlotValue,
    Speaker,
    TicketStatus,
    Turn,
    TurnKind,
)
from callbot.tickets.routing import load_rules, route_ticket
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.dashboard import labels, overview, search, wording
from callbot.web.dashboard.queries import ListQuery, export_tickets, list_page
from callbot.web.dashboard.roles import Role, User

try:
    from browser import PASSWORD, LiveServer, seed, write_wav
    from ticket_helpers import call_ticket
except ImportError:
    from tests.browser import PASSWORD, LiveServer, seed, write_wav
    from tests.ticket_helpers import call_ticket

pytest_plugins = ["conftest_store"]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(UTC)
SUPERVISOR = User(1, "giamsat", Role.SUPERVISOR, None, False, NOW)

# A caller who is silent once, answers the household size with nonsense then nothing, and
# says nothing about their situation: the dialog writes silences and "slot … missing" turns.
CHAT_LINES = [
    "",
    "nhà tôi hết gạo rồi",
    "1",
    "phường bến thành",
    "số 12 đường lê lợi",
    "blah blah",
    "xyz",
    "",
    "",
    "tôi tên là trần thị mai",
    "không chín một hai ba bốn năm sáu bảy tám",
    "",
    "",
    "đúng rồi",
]

# Words of the store and the call path that must never reach a supervisor's page.
INTERNAL = [
    *(str(s) for s in TicketStatus),
    *(str(r) for r in CallEndReason),
    *(str(s) for s in SlotSource),
    *(str(s) for s in Speaker),
    *(str(c) for c in Channel),
    *labels.CASE_TYPE,
    *labels.SUBJECT,
    *labels.SLOT,
    *labels.EVENT,
    "reason",
    "complete",
    "False",
    "True",
    "None",
    "from",
    "missing",
    "not understood",
    "no answer",
    "place",
    "district",
    "ward",
    "wards",
    "SLA",
    "case",
    "also",
    "router",
    "handed back",
]
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d\.\d{6}")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def internal_english(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    for word in allowed:  # identifiers shown on purpose (a call id)
        text = text.replace(word, " ")
    found = [
        token for token in INTERNAL if re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text)
    ]
    return found + ISO_TIME.findall(text)


async def _chat_call(store: SqlTicketStore) -> tuple[int, str]:
    settings = Settings()
    ticket = await chat(
        store,
        prompt_library(settings.prompts),
        load_script(),
        iter([*CHAT_LINES, None]),
        lambda _line: None,
    )
    await route_ticket(store, ticket.id, load_rules(settings.routing.rules_file))
    assert ticket.call_id is not None
    return ticket.id, ticket.call_id


async def _seed_real(store: SqlTicketStore, now: datetime) -> dict[str, Any]:
    seeded = await seed(store, now)  # accounts, and the browser tests' calls
    chat_id, chat_call = await _chat_call(store)
    await store.change_status(chat_id, TicketStatus.ACCEPTED, "giamsat", "Đã liên hệ")
    voice = await call_ticket(
        store, started_at=now - timedelta(minutes=5), recording_path="2026/01/quan3.wav"
    )
    await route_ticket(store, voice.id, load_rules(Settings().routing.rules_file))
    hung_up = await call_ticket(store, complete=False, started_at=now - timedelta(minutes=3))
    web = await store.file_request(
        channel=Channel.WEB,
        service_code="other",
        description="đèn đường hỏng",
        slots=[],
        complete=True,
        actor="open311",
    )
    return {
        **seeded.ids,
        "chat": chat_id,
        "chat_call": chat_call,
        "voice": voice.id,
        "voice_call": voice.call_id,
        "hung_up": hung_up.id,
        "hung_up_call": hung_up.call_id,
        "web": web.id,
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("dashboard-ux")
    write_wav(root / "recordings" / "2026" / "01" / "quan3.wav")
    running = LiveServer(root, seeder=_seed_real).start()
    try:
        yield running
    finally:
        running.stop()


def _client(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url)
    form = client.get("/dashboard/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    client.post(
        "/dashboard/login",
        data={"csrf_token": token[1], "login": "giamsat", "password": PASSWORD},
    )
    return client


def test_a_real_call_reads_in_vietnamese_with_local_times(server: LiveServer) -> None:
    client = _client(server)
    ids = server.seeded
    for name in ("chat", "voice", "hung_up", "web"):
        page = client.get(f"/dashboard/tickets/{ids[name]}")
        assert page.status_code == 200, name
        html = page.text
        if name in ("voice", "hung_up"):
            # ticket_helpers' transcripts are made of slot codes ("hỏi case_type", "tôi nói
            # essentials", heard "self"): words no caller says. The chat ticket's are real.
            html = re.sub(r'<td class="(text|heard)">.*?</td>', "", html, flags=re.S)
        text = visible_text(html)
        # The call id is shown on purpose (recordings are filed under it); the helper's
        # "heard" is the code itself.
        allowed = (str(ids.get(f"{name}_call") or "\0"), "Nghe được: essentials", "Nghe được: self")
        assert internal_english(text, allowed) == [], name

    text = visible_text(client.get(f"/dashboard/tickets/{ids['chat']}").text)
    assert "Thiếu thông tin «Số người trong hộ»: người gọi không trả lời" in text
    assert "(im lặng: người gọi không nói gì)" in text
    assert "Bản thân người gọi" in text and "Lương thực, nhu yếu phẩm" in text
    assert "Mới → Đã chuyển" in text and "Đã chuyển → Đã tiếp nhận" in text
    assert "địa bàn Phường Bến Thành (phường/xã từ 2025)" in text
    assert "hạn xử lý cho «Lương thực, nhu yếu phẩm»: 24 giờ" in text
    assert "Định tuyến tự động" in text and "Hoàn tất" in text
    # Every time on the page is local dd/mm/yyyy HH:MM: the routing's due time too.
    ticket = server.call(server.app.state.store.get_ticket(ids["chat"]))
    due = ticket.expected_datetime.astimezone(ZONE).strftime("%d/%m/%Y %H:%M")
    assert text.count(due) >= 2  # the facts and the routing event

    # Every seeded prompt says "Xin chào"; no caller did.
    assert "Không có phiếu nào." in client.get("/dashboard/", params={"q": "xin chào"}).text
    found = client.get("/dashboard/", params={"q": "trần thị"}).text  # the chat caller's name
    assert f'href="/dashboard/tickets/{ids["chat"]}"' in found

    for path in ("/dashboard/", "/dashboard/overview"):
        assert internal_english(visible_text(client.get(path).text)) == [], path


def test_wording_of_each_event_shape() -> None:
    def dt(moment: datetime | None) -> str:
        return labels.Clock("Asia/Ho_Chi_Minh").datetime(moment)

    ended = wording.event_details(
        "call_ended", {"reason": "no_input", "complete": False, "needs_callback": True}, dt
    )
    assert ended == [
        ("Lý do", "Không trả lời"),
        ("Phiếu", "chưa đầy đủ"),
        ("", "cần gọi lại cho người dân"),
    ]
    routed = wording.event_details(
        "routed",
        {
            "agency": "UBND Quận 3",
            "rule": "dashboard",
            "expected_datetime": "2026-12-01T10:00:00+00:00",
        },
        dt,
    )
    assert ("Hạn xử lý", "01/12/2026 17:00") in routed  # UTC+7, no seconds
    delivery = wording.event_details(
        "delivery", {"agency": "Sở", "outcome": "failed", "attempts": 3, "status_code": 503}, dt
    )
    assert ("Kết quả", "gửi thất bại") in delivery and ("Mã trả lời HTTP", "503") in delivery
    purged = wording.event_details("purged", {"removed": {"slots": 2, "turn_texts": 5}}, dt)
    assert purged == [("Đã xoá", "2 thông tin cá nhân, 5 lượt lời thoại")]
    assert wording.system_turn("hand-back failed: no AMI link") == (
        "Không chuyển lại được tổng đài viên: chưa kết nối được tổng đài (AMI)"
    )
    assert wording.system_turn("protocol error: bad kind 0x7f") == (
        "Lỗi giao thức từ tổng đài, cuộc gọi kết thúc"
    )
    rule = (
        "place Quận 3 (2021 district; 2025 wards: Phường Bàn Cờ, Phường Xuân Hòa)"
        " → UBND Quận 3; case support_policy → also Sở Nội vụ; SLA support_policy 72 h"
    )
    said = wording.routing_rule(rule)
    assert internal_english(said) == [] and "Phường Bàn Cờ, Phường Xuân Hòa" in said
    assert labels.channel("sms") == "Kênh khác (sms)"  # a channel added later still shows


@given(st.text(max_size=60))
def test_wording_never_fails_on_any_text(text: str) -> None:
    assert isinstance(wording.system_turn(text), str)
    assert isinstance(wording.routing_rule(text), str)
    assert isinstance(wording.event_details("slot_set", {"name": text, "value": text}, str), list)


# --- Overview per channel (both engines) ---------------------------------------------


async def _voice(store: SqlTicketStore, n: int, reason: CallEndReason | None) -> None:
    call_id = f"30000000-0000-4000-8000-{n:012d}"
    started = NOW - timedelta(minutes=n + 1)
    await store.begin_call(CallRecord(call_id, started))
    if reason is not None:
        await store.end_call(
            call_id,
            ended_at=started + timedelta(seconds=30),
            reason=reason,
            complete=reason is CallEndReason.COMPLETED,
        )


async def test_overview_counts_each_channel_and_calls_alone(store: SqlTicketStore) -> None:
    done, hung_up = CallEndReason.COMPLETED, CallEndReason.CALLER_HANGUP
    for n, reason in enumerate([done, done, done, hung_up, CallEndReason.HANDED_BACK]):
        await _voice(store, n, reason)
    filed = [
        await store.file_request(
            channel=channel,
            service_code="essentials",
            description="",
            slots=[],
            complete=True,
            actor="open311",
        )
        for channel in (Channel.CHAT, Channel.CHAT, Channel.WEB, Channel.WEB)
    ]
    # A channel another engineer adds later (the model cannot read it back yet, so it is
    # written the way a newer version of the store would write it).
    async with store._transaction("test", write=True) as tx:
        await tx.fetch("UPDATE tickets SET channel = 'sms' WHERE id = ?", filed[-1].id)
    figures = await overview.compute(store, SUPERVISOR, NOW - timedelta(days=1), NOW)
    assert figures.calls == 5 and figures.tickets == 9
    assert (figures.ended, figures.complete, figures.handed_back) == (5, 3, 1)
    assert figures.completion_rate == pytest.approx(3 / 5)
    assert figures.per_channel == [("voice", 5), ("chat", 2), ("sms", 1), ("web", 1)]
    assert sum(n for _, n in figures.per_hour) == 5  # the calls chart counts calls


def test_overview_page_shows_channels(server: LiveServer) -> None:
    page = _client(server).get("/dashboard/overview")
    text = visible_text(page.text)
    table = re.search(r'<table class="per-channel">(.*?)</table>', page.text, re.S)
    assert table
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table[1]))
    calls = server.call(_voice_count(server.app.state.store))
    assert rows["Cuộc gọi điện thoại (callbot)"] == str(calls)
    assert rows["Nhắn tin trực tuyến"] == "1" and rows["Biểu mẫu trực tuyến / Open311"] == "1"
    assert f"{calls} cuộc gọi callbot" in " ".join(text.split())


async def _voice_count(store: SqlTicketStore) -> int:
    async with store._transaction("test", write=False) as tx:
        rows = await tx.fetch("SELECT count(*) AS n FROM tickets WHERE channel = 'voice'")
    return int(rows[0]["n"])


# --- Search: callers' words only, exact tone marks first, word prefixes (both engines) --


async def _spoken(
    store: SqlTicketStore, n: int, caller: list[str], bot: list[str] = (), **slots: str
) -> int:
    call_id = f"40000000-0000-4000-8000-{n:012d}"
    started = NOW - timedelta(minutes=100 - n)  # a higher n is newer
    ticket = await store.begin_call(CallRecord(call_id, started))
    turns = [(Speaker.BOT, TurnKind.PROMPT, text) for text in bot]
    turns += [(Speaker.CALLER, TurnKind.SPEECH, text) for text in caller]
    for seq, (speaker, kind, text) in enumerate(turns):
        await store.append_turn(Turn(call_id, seq, started, speaker, kind, text, 0.8, seq * 1000))
    for name, value in slots.items():
        await store.set_slot(call_id, SlotValue(name, value, SlotSource.SPEECH, 0.8))
    return ticket.id


async def _found(store: SqlTicketStore, q: str) -> list[int]:
    page = await list_page(store, ListQuery(q=q), SUPERVISOR, ZONE, limit=500)
    return [ticket.id for ticket in page.tickets]


PROMPTS = ["Xin chào, đây là tổng đài 1022. Bạn cần hỗ trợ gì?", "Bạn có cần gì thêm không?"]


async def test_search_reads_callers_words_and_ranks_exact_tone_first(
    store: SqlTicketStore,
) -> None:
    ban_co = await _spoken(store, 1, ["tôi ở phường Bàn Cờ"], PROMPTS)
    da_nang = await _spoken(store, 2, ["tôi quê Đà Nẵng"], PROMPTS)
    greeting = await _spoken(store, 3, ["xin chào, tôi cần gạo"], PROMPTS)
    da = await _spoken(store, 4, ["tôi đã gọi rồi", "bạn ơi có ai không"], PROMPTS)
    named = await _spoken(
        store, 5, ["nhà tôi ở đường Đồng Khởi"], PROMPTS, place="Quận Gò Vấp", name="Nguyễn Văn Tèo"
    )
    # Only the caller who greeted the bot said "xin chào"; every prompt did.
    assert await _found(store, "xin chào") == [greeting]
    assert await _found(store, "tổng đài") == []
    # "bạn … có" in the prompts is not "Bàn Cờ"; a caller's own "bạn … có" is, after it.
    assert await _found(store, "Bàn Cờ") == [ban_co, da]
    assert await _found(store, "ban co") == [da, ban_co]  # no tone marks typed: newest first
    # Tone marks rank: "Đà" is Đà Nẵng first, then "đã" (newer, but not the same word).
    assert await _found(store, "Đà") == [da_nang, da]
    assert await _found(store, "đã") == [da, da_nang]
    # Every word is a prefix, with or without its marks.
    assert await _found(store, "Khở") == [named, da]  # "Khởi" exactly, then "không"
    assert await _found(store, "dong kho") == [named]
    assert await _found(store, "nguy teo") == [named]  # a slot value (the caller's name)
    assert await _found(store, "go vap") == [named]
    assert await _found(store, "xin chào gạo") == [greeting]  # every word must occur
    assert await _found(store, "xin chào phở") == []
    # Pages of a ranked search follow the ranking, each ticket once.
    walked, before = [], None
    while True:
        page = await list_page(
            store, ListQuery(q="Bàn Cờ"), SUPERVISOR, ZONE, before=before, limit=1
        )
        walked += [ticket.id for ticket in page.tickets]
        if page.next_before is None:
            break
        before = page.next_before
    assert walked == [ban_co, da]
    # The CSV export keeps the same tickets (newest first, unranked).
    exported = [
        ticket.id async for ticket in export_tickets(store, ListQuery(q="Bàn Cờ"), SUPERVISOR, ZONE)
    ]
    assert exported == [da, ban_co]


def test_search_query_words_and_score() -> None:
    query = search.Query("Đà  Nẵng!")
    assert [w.folded for w in query.words] == ["da", "nang"]
    assert query.score(["Tôi quê ĐÀ NẴNG"]) == 2  # case aside, marks kept
    assert query.score(["tôi đã nằng nặc"]) == 0
    assert query.score(["tôi đã"]) is None
    assert search.sqlite_match(["khoi", "0903"]) == '"khoi"* "0903"*'
    assert search.postgres_tsquery(["khoi", "0903"]) == "khoi:* & 0903:*"


@given(st.text(max_size=80))
def test_any_typed_text_gives_only_plain_words(text: str) -> None:
    words = search.search_words(text)
    assert len(words) <= search.MAX_WORDS
    assert all(re.fullmatch(r"[0-9a-z]+", word) for word in words)
    # A text always matches itself (folded words are prefixes of themselves).
    query = search.Query(text)
    if query:
        assert query.score([text]) == len(query.words)


# --- The list by channel (issue 19: one queue, filterable by channel) ------------------


def test_the_list_filters_by_channel_and_shows_each_tickets_channel(server: LiveServer) -> None:
    client = _client(server)
    ids = server.seeded
    web_only = client.get("/dashboard/", params={"channel": "web"}).text
    assert f"#{ids['web']}<" in web_only and f"#{ids['voice']}<" not in web_only
    voice_only = client.get("/dashboard/", params={"channel": "voice"}).text
    assert f"#{ids['voice']}<" in voice_only and f"#{ids['web']}<" not in voice_only
    everything = client.get("/dashboard/").text
    assert f"#{ids['web']}<" in everything and f"#{ids['voice']}<" in everything
    assert "Biểu mẫu trực tuyến / Open311" in visible_text(web_only)  # the column, in words
    # A channel that does not exist is dropped, as a stale bookmark's filter is.
    assert client.get("/dashboard/", params={"channel": "fax"}).status_code == 200
