"""The Zalo OA adapter against a local OA (tests/zalo_oa_server.py): a real uvicorn server
over a real SQLite store receives signed events and answers through the send API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    from browser import LiveServer
    from ticket_helpers import TYPED_INTAKE
    from zalo_oa_server import (
        APP_ID,
        APP_SECRET_KEY,
        OA_SECRET_KEY,
        FakeZaloOA,
        deliver,
        follow_event,
        signed,
        text_event,
    )
except ImportError:
    from tests.browser import LiveServer
    from tests.ticket_helpers import TYPED_INTAKE
    from tests.zalo_oa_server import (
        APP_ID,
        APP_SECRET_KEY,
        OA_SECRET_KEY,
        FakeZaloOA,
        deliver,
        follow_event,
        signed,
        text_event,
    )

from callbot.channels import zalo_oa
from callbot.channels.buttons import Button
from callbot.tickets import zalo_oauth
from callbot.tickets.model import Channel, Speaker
from callbot.tickets.store.sql_conversations import ConversationStore

LINES = TYPED_INTAKE


SECRET_VARIABLES = (
    "CALLBOT_ZALO_OA_SECRET_KEY",
    "CALLBOT_ZALO_APP_SECRET_KEY",
    "CALLBOT_ZALO_REFRESH_TOKEN",
)


@pytest.fixture(scope="module")
def oa() -> Iterator[FakeZaloOA]:
    running = FakeZaloOA().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, oa: FakeZaloOA) -> Iterator[LiveServer]:
    saved = {k: os.environ.get(k) for k in SECRET_VARIABLES}
    os.environ["CALLBOT_ZALO_OA_SECRET_KEY"] = OA_SECRET_KEY
    os.environ["CALLBOT_ZALO_APP_SECRET_KEY"] = APP_SECRET_KEY
    os.environ["CALLBOT_ZALO_REFRESH_TOKEN"] = oa.refresh_token
    live = LiveServer(tmp_path_factory.mktemp("zalo"), seeder=None)
    live.settings.zalo.enabled = True
    live.settings.zalo.app_id = APP_ID
    live.settings.zalo.api_url = oa.url
    live.settings.zalo.oauth_url = oa.url
    live.settings.zalo.send_backoff_s = 0.01
    live.start()
    yield live
    live.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def hook(server: LiveServer) -> str:
    return f"{server.url}/channels/zalo/webhook"


def settle(server: LiveServer) -> None:
    """Wait until the replies the server is sending in the background are sent."""

    async def drain() -> None:
        while server.app.state.zalo_sends:
            await asyncio.gather(*server.app.state.zalo_sends)

    server.call(drain())


def say(server: LiveServer, oa: FakeZaloOA, user: str, text: str, msg_id: str) -> list[Any]:
    before = len(oa.sent)
    answer = deliver(hook(server), text_event(user, text, msg_id))
    assert answer.status_code == 200, answer.text
    settle(server)
    return oa.sent[before:]


def tickets(server: LiveServer) -> list[Any]:
    return server.call(server.app.state.store.list_tickets(limit=1000))


def test_a_whole_intake_through_the_oa(server: LiveServer, oa: FakeZaloOA) -> None:
    user = "2468458835291979220"
    assert deliver(hook(server), follow_event(user)).status_code == 200
    greeting = oa.wait_for_sent(2)
    assert "Xin chào" in greeting[0].text and greeting[0].user_id == user
    assert [b["payload"] for b in greeting[-1].buttons] == ["1", "2", "3", "4"]
    assert all(b["type"] == "oa.query.show" for b in greeting[-1].buttons)
    assert tickets(server) == []  # following opens no ticket
    for n, line in enumerate(LINES):
        say(server, oa, user, line, f"msg-a-{n}")
    (ticket,) = tickets(server)
    assert ticket.channel is Channel.ZALO and ticket.complete
    assert ticket.slots["place"].value == "Phường Bến Thành"
    assert ticket.callback_number == "0912345678"
    assert str(ticket.id) in oa.sent[-1].text.replace(" ", "")  # the goodbye names the ticket
    assert oa.refreshes == 1  # one refresh at the first send, then the token was reused


def test_a_bad_signature_is_refused_and_nothing_stored(server: LiveServer, oa: FakeZaloOA) -> None:
    before, sent = len(tickets(server)), len(oa.sent)
    event = text_event("1111111111111111111", "nhà tôi hết gạo rồi", "msg-bad-1")
    forged = deliver(hook(server), event, oa_secret_key="guessed")
    assert forged.status_code == 401
    body, header = signed(event)
    tampered = body.replace("gạo".encode(), "tiền".encode())
    answer = server_post(server, tampered, header)
    assert answer.status_code == 401
    assert server_post(server, body, None).status_code == 401  # no header at all
    assert server_post(server, b"{not json", header).status_code == 400
    assert len(tickets(server)) == before and len(oa.sent) == sent
    store = ConversationStore(server.app.state.store)
    assert server.call(store.load("zalo", "1111111111111111111")) is None
    assert not server.call(store.seen_event("zalo", "msg:msg-bad-1"))


def server_post(server: LiveServer, body: bytes, header: str | None) -> Any:
    import httpx

    headers = {"Content-Type": "application/json"}
    if header:
        headers["X-ZEvent-Signature"] = header
    return httpx.post(hook(server), content=body, headers=headers, timeout=20)


def test_a_repeated_event_is_delivered_once(server: LiveServer, oa: FakeZaloOA) -> None:
    user = "3333333333333333333"
    event = text_event(user, "nhà tôi hết gạo rồi", "msg-dup-1")
    first = deliver(hook(server), event)
    settle(server)
    replies = len(oa.sent)
    again = deliver(hook(server), event)  # Zalo did not get our 200 in time: it resends
    settle(server)
    assert first.status_code == again.status_code == 200
    assert again.json()["message"] == "already handled"
    assert len(oa.sent) == replies
    stored = server.call(ConversationStore(server.app.state.store).load("zalo", user))
    ticket = server.call(server.app.state.store.get_ticket(stored.ticket_id))
    turns = server.call(server.app.state.store.list_turns(ticket.call_id))
    assert [t.text for t in turns if t.speaker is Speaker.CALLER] == ["nhà tôi hết gạo rồi"]


@pytest.mark.parametrize(("status", "code"), [(503, None), (200, -32)])
def test_a_failing_send_api_is_retried(server: LiveServer, oa: FakeZaloOA, status, code) -> None:
    user = f"44444444444444444{4 if code is None else 5}"
    oa.fail_sends, oa.fail_status, oa.fail_code = 2, status, code
    attempts = oa.send_attempts
    sent = say(server, oa, user, "nhà tôi hết gạo rồi", f"msg-retry-{status}")
    assert sent[0].user_id == user
    assert oa.send_attempts - attempts >= 3  # two refused, then delivered
    assert oa.fail_sends == 0


def test_an_expired_token_is_refreshed_and_the_message_sent(server: LiveServer, oa: FakeZaloOA):
    refreshes = oa.refreshes
    oa.expire_token()  # Zalo says -216 to the token the callbot holds
    sent = say(server, oa, "6666666666666666666", "1", "msg-token-1")
    assert sent and oa.refreshes == refreshes + 1 and oa.refused_refreshes == 0
    stored = server.call(ConversationStore(server.app.state.store).load_token("zalo"))
    assert stored.refresh_token == oa.refresh_token  # the rotated one is kept for restarts


def test_unfollow_ends_the_open_request_for_a_callback(server: LiveServer, oa: FakeZaloOA):
    user = "7777777777777777777"
    say(server, oa, user, "nhà tôi hết gạo rồi", "msg-unf-1")
    assert deliver(hook(server), follow_event(user, "unfollow")).status_code == 200
    stored = server.call(ConversationStore(server.app.state.store).load("zalo", user))
    ticket = server.call(server.app.state.store.get_ticket(stored.ticket_id))
    assert stored.done and ticket.needs_callback and not ticket.complete


# --- Sans-IO: the protocol alone ---------------------------------------------------------


def test_the_mac_is_sha256_of_app_body_timestamp_and_oa_key() -> None:
    body = b'{"app_id":"1","timestamp":"2"}'
    import hashlib

    assert zalo_oa.mac("1", body, "2", "k") == hashlib.sha256(b"1" + body + b"2k").hexdigest()
    data = json.loads(body)
    header = zalo_oa.signature_header("1", body, "2", "k")
    assert zalo_oa.verify(header, "1", body, data, "k")
    assert zalo_oa.verify(header.upper().replace("MAC=", "mac="), "1", body, data, "k")
    assert not zalo_oa.verify(header, "1", body, data, "other")
    assert not zalo_oa.verify(header, "9", body, data, "k")  # another app's event
    assert not zalo_oa.verify(header, "1", body, data, "")  # no key configured: refuse


def test_events_parsed() -> None:
    event = zalo_oa.parse_event(text_event("123", "quận 3", "m1"))
    assert event == zalo_oa.TextMessage("123", "quận 3", "m1", event.timestamp)
    assert zalo_oa.event_id(event) == "msg:m1"
    assert isinstance(zalo_oa.parse_event(follow_event("9")), zalo_oa.Follow)
    assert isinstance(zalo_oa.parse_event(follow_event("9", "unfollow")), zalo_oa.Unfollow)
    assert zalo_oa.parse_event({"event_name": "user_send_sticker"}) == zalo_oa.Ignored(
        "user_send_sticker"
    )
    missing = text_event("1", "x", "m")
    del missing["message"]["msg_id"]
    with pytest.raises(zalo_oa.ZaloEventError):
        zalo_oa.parse_event(missing)  # without its id a message could not be deduplicated
    with pytest.raises(zalo_oa.ZaloEventError):
        zalo_oa.read_body(b"[1, 2]")


def test_message_bodies_and_answers() -> None:
    body = zalo_oa.message_body("u", "chọn", (Button("Có", "1"), Button("Không", "2")))
    assert body["recipient"] == {"user_id": "u"} and body["message"]["text"] == "chọn"
    assert body["message"]["attachment"]["payload"]["buttons"][1] == {
        "title": "Không",
        "payload": "2",
        "type": "oa.query.show",
    }
    assert zalo_oa.send_result(200, b'{"error":0,"data":{"message_id":"x"}}').ok
    expired = zalo_oa.send_result(200, b'{"error":-216,"message":"Access token is invalid"}')
    assert expired.token_rejected and not expired.retryable
    assert zalo_oa.send_result(502, b"<html>").retryable
    gone = zalo_oa.send_result(200, b'{"error":-213,"message":"User has not followed OA"}')
    assert not gone.ok and not gone.retryable and not gone.token_rejected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["event_name", "sender", "message", "follower", "timestamp", "app_id"]),
        json_values,
    ),
    st.sampled_from(["user_send_text", "follow", "unfollow", "other"]),
)
def test_any_event_shape_parses_or_is_refused_cleanly(data, name) -> None:
    data.setdefault("event_name", name)
    with contextlib.suppress(zalo_oa.ZaloEventError):
        zalo_oa.parse_event(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(100, 599), st.binary(max_size=200))
def test_any_send_answer_is_read_without_raising(status, body) -> None:
    result = zalo_oa.send_result(status, body)
    assert result.ok is (status == 200 and result.error == 0)
    with pytest.raises(zalo_oauth.TokenError):
        zalo_oauth.parse_token(status, body, __import__("datetime").datetime.now())
