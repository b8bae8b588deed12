"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright,
against a real uvicorn server over a seeded SQLite store and a real stereo WAV."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from browser import live_server, require_chromium, seed_busy_day, sign_in
except ImportError:  # run from the repository root as a package
    from tests.browser import live_server, require_chromium, seed_busy_day, sign_in

require_chromium()  # skips the module without Chromium (fails in CI)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_sign_in_filter_open_and_seek_the_recording(server: Any, page: Any) -> None:
    page.goto(f"{server.url}/dashboard/")
    assert "/dashboard/login" in page.url  # not signed in: sent to the form
    sign_in(page, server.url, "giamsat")
    rows = page.locator("table.tickets tbody tr")
    assert rows.count() == 4

    page.select_option("select[name=status]", "routed")
    page.fill("input[name=q]", "quan ba")  # folded diacritics find "quận ba"
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*q=quan\+ba.*"))
    assert rows.count() == 1
    ticket_id = server.seeded.ids["quan3"]
    assert rows.first.locator("a").inner_text() == f"#{ticket_id}"

    statuses: list[int] = []
    page.on(
        "response",
        lambda response: statuses.append(response.status) if "/recording" in response.url else None,
    )
    rows.first.locator("a").click()
    page.wait_for_url(f"**/dashboard/tickets/{ticket_id}")
    assert "người gọi đã xác nhận" in page.inner_text(".transcript")  # the confirmed readback
    assert "0,62" in page.inner_text(".transcript")  # recogniser confidence per turn
    assert "bàn phím" in page.inner_text(".slots")  # slot source

    player = page.locator("#player")
    assert player.evaluate("el => el.currentTime") == 0
    page.locator("button.seek[data-start-ms='4500']").click()
    page.wait_for_function(
        "() => document.getElementById('player').currentTime >= 4.4", timeout=10_000
    )
    assert 206 in statuses  # the browser's Range request was answered with partial content


def test_correct_a_slot_and_change_the_status(server: Any, page: Any) -> None:
    sign_in(page, server.url, "giamsat")
    ticket_id = server.seeded.ids["quan3"]
    page.goto(f"{server.url}/dashboard/tickets/{ticket_id}")

    row = page.locator(".slots tr", has_text="Địa bàn")
    row.locator("input[name=value]").fill("Quận 10")
    row.locator("button").click()
    page.wait_for_load_state()
    assert page.locator(".slots tr", has_text="Địa bàn").locator("td.value").inner_text() == (
        "Quận 10"
    )
    history = page.inner_text(".history")
    assert "giamsat" in history and "Quận 3" in history  # who, and the old value kept

    # Rejecting needs a reason: refused without one.
    form = page.locator("form.status-form")
    form.locator("select[name=status]").select_option("rejected")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "cần ghi lý do" in page.inner_text(".error")

    form = page.locator("form.status-form")
    form.locator("select[name=status]").select_option("accepted")
    form.locator("input[name=note]").fill("Đã liên hệ phường")  # the internal note
    form.locator("input[name=public_note]").fill("Đang xác minh")
    form.locator("button").click()
    page.wait_for_load_state()
    assert page.inner_text("h1 .status") == "Đã tiếp nhận"
    assert "Đã liên hệ phường" in page.inner_text(".history")
    # Open311 publishes the public note only (issue 15).
    public = page.request.get(f"{server.url}/open311/v2/requests/{ticket_id}.json").json()
    assert public[0]["status_notes"] == "Đang xác minh"
    assert "Đã liên hệ phường" not in str(public)


def test_agency_officer_sees_only_their_agency(server: Any, page: Any) -> None:
    sign_in(page, server.url, "quan3")
    listed = page.locator("table.tickets tbody tr a").all_inner_texts()
    assert listed == [f"#{server.seeded.ids['quan3']}"]
    other = server.seeded.ids["quan5_script"]
    response = page.goto(f"{server.url}/dashboard/tickets/{other}")
    assert response.status == 404
    response = page.goto(f"{server.url}/dashboard/tickets/{other}/recording")
    assert response.status == 404


def test_transcript_markup_is_shown_as_text(server: Any, page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server.url, "giamsat")
    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan5_script']}")
    assert "<script>window.__xss = 1; alert(1)</script>" in page.inner_text(".transcript")
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


def test_recording_outside_the_store_is_refused(server: Any, page: Any) -> None:
    sign_in(page, server.url, "giamsat")
    for name in ("traversal", "absolute"):
        response = page.request.get(
            f"{server.url}/dashboard/tickets/{server.seeded.ids[name]}/recording"
        )
        assert response.status == 404, name
        assert b"not for you" not in response.body()


def test_a_form_without_its_csrf_token_is_rejected(server: Any, page: Any) -> None:
    sign_in(page, server.url, "giamsat")
    url = f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}/notes"
    response = page.request.post(url, form={"text": "không có mã"})
    assert response.status == 403
    response = page.request.post(url, form={"text": "mã sai", "csrf_token": "x" * 43})
    assert response.status == 403
    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}")
    assert "không có mã" not in page.inner_text(".history")


def test_oversight_reads_the_replay_log_and_cannot_act(server: Any, page: Any) -> None:
    sign_in(page, server.url, "thanhtra")
    page.goto(f"{server.url}/dashboard/replays")
    log = page.inner_text("table.replay-log")
    assert "giamsat" in log  # the supervisor's playback in the first test
    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}")
    assert page.locator("form.action").count() == 0
    assert "chỉ có quyền xem" in page.inner_text("#actions")
    page.goto(f"{server.url}/dashboard/overview")
    assert page.locator("svg.chart").count() >= 3


def test_screenshots(browser: Any, tmp_path: Path) -> None:
    """Refreshes docs/screenshots when CALLBOT_SCREENSHOTS=1 (kept out of normal runs)."""
    if os.environ.get("CALLBOT_SCREENSHOTS") != "1":
        pytest.skip("set CALLBOT_SCREENSHOTS=1 to refresh docs/screenshots")
    out = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    with live_server(tmp_path, seeder=seed_busy_day) as busy:
        context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        sign_in(page, busy.url, "giamsat")
        page.screenshot(path=str(out / "dashboard-list.png"))
        page.goto(f"{busy.url}/dashboard/tickets/{busy.seeded.ids['quan3']}")
        page.screenshot(path=str(out / "dashboard-call.png"), full_page=True)
        page.goto(f"{busy.url}/dashboard/overview")
        page.screenshot(path=str(out / "dashboard-overview.png"), full_page=True)
        context.close()
