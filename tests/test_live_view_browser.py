"""The live view in a real browser (Debian's Chromium, Playwright) against a real uvicorn
server and SQLite store: the page follows the event stream (a new turn appears without a
reload, an ended call disappears), "hand back now" posts and shows its state, and without
JavaScript the page is a plain list that reloads itself. With ``CALLBOT_SCREENSHOTS=1``
the page is saved to docs/img/live-view.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callbot.tickets.model import CallEndReason, Speaker, Turn, TurnKind, utcnow

try:
    from browser import live_server, require_chromium, seed, sign_in
    from live_calls import FIRE_CALL, FLOOD_CALL, FLOOD_NUMBER, seed_live
except ImportError:
    from tests.browser import live_server, require_chromium, seed, sign_in
    from tests.live_calls import FIRE_CALL, FLOOD_CALL, FLOOD_NUMBER, seed_live

require_chromium()  # skips the module without Chromium (fails in CI)

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


async def seed_with_live_calls(store: Any, now: datetime) -> Any:
    seeded = await seed(store, now)
    seeded.ids.update({f"live_{k}": v for k, v in (await seed_live(store, now)).items()})
    return seeded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("live-browser"), seeder=seed_with_live_calls) as s:
        yield s


def test_the_page_follows_the_stream_and_hands_a_call_back(server: Any, browser: Any) -> None:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server.url, "giamsat")
    page.click("text=Đang gọi")  # the navigation link, for supervisors
    page.wait_for_url("**/dashboard/live")
    page.wait_for_selector("#live[data-stream=on]")
    cards = page.locator("article.live-call")
    assert cards.count() == 2
    assert FLOOD_NUMBER not in page.content()
    flood = page.locator(f"article[data-ticket='{server.seeded.ids['live_flood']}']")
    fire = page.locator(f"article[data-ticket='{server.seeded.ids['live_fire']}']")
    assert "Khẩn cấp" in fire.inner_text()

    store = server.app.state.store
    server.call(
        store.append_turn(
            Turn(FLOOD_CALL, 3, utcnow(), Speaker.CALLER, TurnKind.SPEECH, "quận năm ạ")
        )
    )
    flood.locator("li", has_text="quận năm ạ").wait_for()  # no reload: from the stream

    fire.locator("button", has_text="Chuyển tổng đài viên ngay").click()
    page.wait_for_url("**/dashboard/live")
    page.locator("article.live-call", has_text="đang chuyển").wait_for()
    assert server.call(store.handback_pending(FIRE_CALL))
    if os.environ.get("CALLBOT_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / "live-view.png"), full_page=True)

    server.call(
        store.end_call(
            FLOOD_CALL, ended_at=utcnow(), reason=CallEndReason.CALLER_HANGUP, complete=False
        )
    )
    flood.wait_for(state="detached")
    assert cards.count() == 1
    context.close()


def test_without_javascript_a_plain_list_that_reloads(server: Any, browser: Any) -> None:
    context = browser.new_context(locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server.url, "giamsat")
    page.goto(f"{server.url}/dashboard/live")
    assert page.locator("#live").get_attribute("data-stream") is None
    assert page.locator("article.live-call").count() >= 1
    reloads: list[str] = []
    page.on("load", lambda: reloads.append(page.url))
    page.wait_for_timeout(6_500)  # the refresh is 5 s
    assert reloads, "the page did not reload itself"
    context.close()
