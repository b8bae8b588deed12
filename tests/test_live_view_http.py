"""The live view over HTTP against a real uvicorn server and a real SQLite store: who may
see it (sign-in, supervisor role), the page without JavaScript, the hand-back form (CSRF,
bad and unknown ids), and the server-sent event stream: changes only, ended calls gone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from callbot.tickets.model import CallEndReason, EventKind, Speaker, Turn, TurnKind, utcnow
from callbot.web.dashboard import routes_live

try:
    from browser import live_server, seed
    from live_calls import FIRE_CALL, FIRE_NUMBER, FLOOD_CALL, FLOOD_NUMBER, seed_live
    from test_dashboard_http import _csrf, _sign_in
except ImportError:
    from tests.browser import live_server, seed
    from tests.live_calls import FIRE_CALL, FIRE_NUMBER, FLOOD_CALL, FLOOD_NUMBER, seed_live
    from tests.test_dashboard_http import _csrf, _sign_in


async def seed_with_live_calls(store: Any, now: datetime) -> Any:
    seeded = await seed(store, now)
    seeded.ids.update({f"live_{k}": v for k, v in (await seed_live(store, now)).items()})
    return seeded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("live-http"), seeder=seed_with_live_calls) as s:
        yield s


def test_only_signed_in_supervisors_see_calls_in_progress(server: Any) -> None:
    anonymous = httpx.Client(base_url=server.url)
    page = anonymous.get("/dashboard/live")
    assert page.status_code == 303 and "/dashboard/login" in page.headers["location"]
    assert anonymous.get("/dashboard/live/events").status_code == 401
    for login in ("thanhtra", "quan3"):  # oversight and an agency officer
        client = _sign_in(server.url, login)
        assert client.get("/dashboard/live").status_code == 403
        assert client.get("/dashboard/live/events").status_code == 403


def test_the_page_lists_live_calls_masked_and_refreshes_without_javascript(server: Any) -> None:
    page = _sign_in(server.url, "giamsat").get("/dashboard/live")
    assert page.status_code == 200
    html = page.text
    assert '<meta http-equiv="refresh"' in html
    assert "•••••••333" in html and "•••••••321" in html
    assert FLOOD_NUMBER not in html and FIRE_NUMBER not in html
    assert "Bạn đang ở quận, huyện nào?" in html  # the current question
    assert "Khẩn cấp" in html  # the fire call's priority
    assert "&lt;b&gt;ở đây&lt;/b&gt;" in html  # what a caller said is escaped
    assert f"/dashboard/tickets/{server.seeded.ids['live_fire']}" in html
    quan3 = server.seeded.ids["quan3"]
    assert f"/dashboard/live/{quan3}/handback" not in html  # ended calls are not listed


def test_priority_on_the_list_and_the_ticket_page(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    listing = client.get("/dashboard/").text
    assert 'class="priority p-emergency">Khẩn cấp<' in listing
    assert 'class="priority p-normal">Bình thường<' in listing
    ticket = client.get(f"/dashboard/tickets/{server.seeded.ids['live_fire']}").text
    assert "Mức độ" in ticket and "Khẩn cấp" in ticket


def test_hand_back_form_checks_csrf_role_and_ids(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    token = _csrf(client.get("/dashboard/live").text)
    fire = server.seeded.ids["live_fire"]
    assert client.post(f"/dashboard/live/{fire}/handback", data={}).status_code == 403
    for bad in ("abc", "-1", "²", str(2**64)):
        response = client.post(f"/dashboard/live/{bad}/handback", data={"csrf_token": token})
        assert response.status_code in (404, 422), (bad, response.status_code)
    missing = client.post("/dashboard/live/999999/handback", data={"csrf_token": token})
    assert missing.status_code == 404
    ended = server.seeded.ids["quan3"]
    assert (
        client.post(f"/dashboard/live/{ended}/handback", data={"csrf_token": token}).status_code
        == 409
    )

    officer = _sign_in(server.url, "quan3")
    officer_token = _csrf(officer.get("/dashboard/").text)
    refused = officer.post(f"/dashboard/live/{fire}/handback", data={"csrf_token": officer_token})
    assert refused.status_code == 403
    assert not server.call(server.app.state.store.handback_pending(FIRE_CALL))

    done = client.post(f"/dashboard/live/{fire}/handback", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/live"
    assert server.call(server.app.state.store.handback_pending(FIRE_CALL))
    history = server.call(server.app.state.store.list_history(fire))
    asked = [e for e in history if e.kind is EventKind.HANDBACK_REQUESTED]
    assert [e.actor for e in asked] == ["giamsat"]
    assert "đang chuyển" in client.get("/dashboard/live").text
    ticket_page = client.get(f"/dashboard/tickets/{fire}").text
    assert "Giám sát viên yêu cầu chuyển tổng đài viên" in ticket_page


def _events(lines: Iterator[str], wanted: int, timeout_s: float) -> list[tuple[str, Any]]:
    """Read server-sent events until ``wanted`` of them came (or the time is up)."""
    got: list[tuple[str, Any]] = []
    name = None
    deadline = time.monotonic() + timeout_s
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            got.append((name, json.loads(line[6:])))
            name = None
            if len(got) >= wanted:
                break
        if time.monotonic() > deadline:
            break
    return got


def test_the_event_stream_sends_changes_only_and_ended_calls(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    store = server.app.state.store
    with client.stream("GET", "/dashboard/live/events", timeout=15) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        first = _events(lines, 2, 10)
        assert [name for name, _ in first] == ["call", "call"]
        flood_id = server.seeded.ids["live_flood"]
        by_id = {data["ticket_id"]: data for _, data in first}
        assert by_id[flood_id]["caller"] == "•••••••333"
        assert FLOOD_NUMBER not in json.dumps(first, ensure_ascii=False)

        # A new turn in one call: only that call comes again.
        turn = Turn(FLOOD_CALL, 3, utcnow(), Speaker.CALLER, TurnKind.SPEECH, "quận năm")
        server.call(store.append_turn(turn))
        name, data = _events(lines, 1, 10)[0]
        assert name == "call" and data["ticket_id"] == flood_id
        assert data["turns"][-1][2] == "quận năm"

        # The call ends: it is gone.
        server.call(
            store.end_call(
                FLOOD_CALL, ended_at=utcnow(), reason=CallEndReason.CALLER_HANGUP, complete=False
            )
        )
        assert _events(lines, 1, 10) == [("gone", {"ticket_id": flood_id})]


def test_the_stream_stops_when_the_client_goes(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    # An earlier test's stream may still be closing in the server thread: start from none.
    _wait_for_open_streams(0)
    with client.stream("GET", "/dashboard/live/events", timeout=15) as response:
        # Once on a loaded fresh machine the count read 0 here: say what the server answered.
        assert response.status_code == 200, (response.status_code, response.read()[:200])
        # Keep the iterator: a discarded one is closed at once, and closing it closes the
        # connection, so the server saw the client go before the count was read (on a
        # loaded machine its thread got there first).
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        _wait_for_open_streams(1)
        assert routes_live.open_streams == 1
    _wait_for_open_streams(0)
    assert routes_live.open_streams == 0


def _wait_for_open_streams(count: int) -> None:
    deadline = time.monotonic() + 5
    while routes_live.open_streams != count and time.monotonic() < deadline:
        time.sleep(0.05)
