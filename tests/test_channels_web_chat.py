"""The web chat over HTTP, as a browser without JavaScript uses it: a real uvicorn server
over a real SQLite store (tests/browser.py's LiveServer)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from browser import LiveServer
    from ticket_helpers import TYPED_INTAKE
except ImportError:
    from tests.browser import LiveServer
    from tests.ticket_helpers import TYPED_INTAKE

from callbot.channels.web_chat import RATE_LIMIT, RateLimiter
from callbot.tickets.model import Channel

LINES = TYPED_INTAKE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = LiveServer(tmp_path_factory.mktemp("web_chat"), seeder=None).start()
    yield running
    running.stop()


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has a CSRF token"
    return match[1]


def fresh_client(server: LiveServer) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, follow_redirects=True, timeout=20)
    page = client.get("/chat/")
    assert page.status_code == 200
    assert "Xin chào" in page.text and "đồng ý" in page.text  # greeting and consent line
    return client, token_of(page.text)


def test_a_whole_intake_without_javascript(server: LiveServer) -> None:
    client, token = fresh_client(server)
    assert client.get("/chat/").text.count("<li class") == 2  # GET stores nothing: no ticket yet
    for line in LINES:
        answer = client.post("/chat/", data={"csrf_token": token, "text": line})
        assert answer.status_code == 200 and answer.url.path == "/chat/"
    page = answer.text
    assert "Gửi yêu cầu mới" in page
    ticket_id = int(re.search(r'class="ticket">#(\d+)<', page)[1])
    ticket = server.call(server.app.state.store.get_ticket(ticket_id))
    assert ticket.channel is Channel.WEB_CHAT and ticket.complete
    assert ticket.slots["place"].value == "Phường Bến Thành"
    assert ticket.callback_number == "0912345678"
    assert "0912345678" not in client.cookies.get("callbot_chat", "")  # nothing personal


def test_a_button_and_json_answers(server: LiveServer) -> None:
    client, token = fresh_client(server)
    headers = {"Accept": "application/json"}
    first = client.post("/chat/", data={"csrf_token": token, "choice": "3"}, headers=headers)
    body = first.json()
    assert first.status_code == 200 and body["you"] == "3" and not body["done"]
    assert [b["label"] for b in body["buttons"]] == [
        "Bản thân",
        "Gia đình",
        "Hàng xóm",
        "Người khác",
    ]
    ticket = server.call(server.app.state.store.get_ticket(body["ticket_id"]))
    assert ticket.service_code == "vulnerable"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"text": "quận 3"}, 403),  # no token
        ({"csrf_token": "forged", "text": "quận 3"}, 403),
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": "a" * 1001}, 400),
        ({"text": "quận\x003"}, 400),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(server: LiveServer, data, status) -> None:
    client, token = fresh_client(server)
    if "csrf_token" not in data and status != 403:
        data = {**data, "csrf_token": token}
    before = server.call(server.app.state.store.list_tickets(limit=1000))
    answer = client.post("/chat/", data=data)
    assert answer.status_code == status
    assert "Xin nhắc lại" not in answer.text
    assert len(server.call(server.app.state.store.list_tickets(limit=1000))) == len(before)


def test_a_post_from_another_site_without_the_cookie_is_refused(server: LiveServer) -> None:
    _, token = fresh_client(server)
    stranger = httpx.Client(base_url=server.url, timeout=20)
    assert stranger.post("/chat/", data={"csrf_token": token, "text": "1"}).status_code == 403


def test_messages_are_rate_limited_per_client(server: LiveServer) -> None:
    client, token = fresh_client(server)
    server.app.state.web_chat_limiter = RateLimiter(limit=3, window_s=60)
    try:
        codes = [
            client.post("/chat/", data={"csrf_token": token, "text": "xin chào"}).status_code
            for _ in range(5)
        ]
    finally:
        server.app.state.web_chat_limiter = RateLimiter()
    assert codes == [200, 200, 200, 429, 429]


def test_the_limiter_window_slides() -> None:
    limiter = RateLimiter(limit=2, window_s=10)
    assert limiter.allow("a", 0) and limiter.allow("a", 1) and not limiter.allow("a", 2)
    assert limiter.allow("b", 2)  # per client
    assert limiter.allow("a", 10.5)  # the first has left the window
    assert RATE_LIMIT >= 10


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_any_text_is_an_answer_or_a_clear_4xx(server: LiveServer, text: str) -> None:
    client, token = fresh_client(server)
    server.app.state.web_chat_limiter = RateLimiter(limit=10**9)
    answer = client.post("/chat/", data={"csrf_token": token, "text": text})
    assert answer.status_code in (200, 400), answer.text


def test_markup_typed_into_the_chat_is_shown_as_text(server: LiveServer) -> None:
    client, token = fresh_client(server)
    client.post("/chat/", data={"csrf_token": token, "text": "<script>alert(1)</script> quận 3"})
    page = client.get("/chat/")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; quận 3" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
