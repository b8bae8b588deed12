"""The web chat in a real browser: headless Chromium (Debian's) driven by Playwright, on a
375 px phone screen, against a real uvicorn server over a real SQLite store. With
``CALLBOT_SCREENSHOTS=1`` the page is saved to docs/img/web_chat.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from browser import LiveServer, require_chromium
except ImportError:
    from tests.browser import LiveServer, require_chromium

from callbot.tickets.model import Channel

require_chromium()  # skips the module without Chromium (fails in CI)

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = LiveServer(tmp_path_factory.mktemp("web_chat_browser"), seeder=None).start()
    yield running
    running.stop()


def new_page(browser: Any, *, javascript: bool = True) -> Any:
    context = browser.new_context(locale="vi-VN", viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def type_answer(page: Any, text: str) -> None:
    count = page.locator("#chat li.bot").count()
    page.fill("#text", text)
    page.click("#typing button[type=submit]")
    page.wait_for_function(
        f"() => document.querySelectorAll('#chat li.bot').length > {count}"
        " || document.querySelector('.done')"
    )


def tap(page: Any, label: str) -> None:
    count = page.locator("#chat li.bot").count()
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#chat li.bot').length > {count}"
        " || document.querySelector('.done')"
    )


def test_a_whole_intake_with_a_reload_in_the_middle(server: LiveServer, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{server.url}/chat/")
    assert "đồng ý" in page.inner_text(".consent")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways
    tap(page, "Lương thực, thực phẩm")  # the menu as buttons
    tap(page, "Bản thân")
    type_answer(page, "phường bến thành")
    type_answer(page, "số 12 đường lê lợi")
    transcript = page.inner_text("#chat")

    page.reload()  # mid-conversation: the same conversation comes back from the store
    assert page.inner_text("#chat") == transcript
    type_answer(page, "nhà có bốn người")
    type_answer(page, "tôi tên là trần thị mai")
    type_answer(page, "không chín một hai ba bốn năm sáu bảy tám")
    type_answer(page, "cả nhà mất việc")
    assert "Xin nhắc lại thông tin" in page.inner_text("#chat")
    if os.environ.get("CALLBOT_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / "web_chat.png"), full_page=True)
    tap(page, "Đúng")
    page.wait_for_selector(".done")
    ticket_id = int(page.inner_text(".done .ticket").lstrip("#"))
    ticket = server.call(server.app.state.store.get_ticket(ticket_id))
    # The slots a phone call answered the same way gives (tests/test_chat.py, keypad menus).
    assert ticket.channel is Channel.WEB_CHAT and ticket.complete
    assert {name: slot.value for name, slot in ticket.slots.items()} == {
        "case_type": "essentials",
        "subject": "self",
        "place": "Phường Bến Thành",
        "address": ticket.slots["address"].value,
        "household_size": "4",
        "name": ticket.slots["name"].value,
        "callback_number": "0912345678",
        "description": "cả nhà mất việc",
    }
    assert "12" in ticket.slots["address"].value and "Mai" in ticket.slots["name"].value.title()
    page.context.close()


def test_the_page_works_without_javascript(server: LiveServer, browser: Any) -> None:
    page = new_page(browser, javascript=False)
    page.goto(f"{server.url}/chat/")
    page.get_by_role("button", name="Việc khác", exact=True).click()  # a plain form POST
    page.wait_for_url(f"{server.url}/chat/#cuoi")
    assert page.locator("#chat li.you").all_inner_texts() == ["4"]
    page.fill("#text", "hàng xóm")
    page.click("#typing button[type=submit]")
    page.wait_for_url(f"{server.url}/chat/#cuoi")
    assert page.locator("#chat li.you").all_inner_texts() == ["4", "hàng xóm"]
    page.context.close()
