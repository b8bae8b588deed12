"""The dashboard at phone width and the call player, in a real browser (issue 16): headless
Chromium (Debian's) driven by Playwright against a real server over a seeded SQLite store
with a day of calls and a real stereo WAV."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from browser import live_server, require_chromium, seed_busy_day, sign_in
except ImportError:  # run from the repository root as a package
    from tests.browser import live_server, require_chromium, seed_busy_day, sign_in

require_chromium()  # skips the module without Chromium (fails in CI)

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
PHONE = {"width": 375, "height": 740}

# The rendered size of every visible chart text: its font size times the SVG's scale.
CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.chart')]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map(
      (t) => parseFloat(getComputedStyle(t).fontSize) * scale);
  })"""
# Page wider than the screen: the document scrolls sideways.
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("dashboard-ux"), seeder=seed_busy_day) as running:
        yield running


def _page(browser: Any, **options: Any) -> Any:
    context = browser.new_context(locale="vi-VN", **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_phone_width_has_no_sideways_page_and_readable_charts(
    server: Any, browser: Any, tmp_path: Path
) -> None:
    page = _page(browser, viewport=PHONE)
    sign_in(page, server.url, "giamsat")
    rows = page.locator("table.tickets tbody tr")
    assert rows.count() == 50
    assert page.evaluate(OVERFLOW) <= 0
    # The list is one card per ticket: each row fits the screen, its cells labelled.
    box = rows.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    label = (
        rows.first.locator("td").nth(2).evaluate("td => getComputedStyle(td, '::before').content")
    )
    assert label == '"Trạng thái"'  # each cell says what it is (the header row is hidden)
    page.screenshot(path=str(tmp_path / "list-375.png"))
    if os.environ.get("CALLBOT_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS_IMG / "dashboard-375.png"))

    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}")
    assert page.evaluate(OVERFLOW) <= 0
    assert page.locator("#player").is_visible()

    page.goto(f"{server.url}/dashboard/overview")
    assert page.evaluate(OVERFLOW) <= 0
    sizes = page.evaluate(CHART_TEXT_PX)
    assert len(sizes) > 20  # the narrow drawings are the ones shown
    assert min(sizes) >= 11, sorted(sizes)[:5]
    assert page.locator(".chart-wide").first.is_hidden()

    # The same page on a desktop keeps the wide drawings (and their 11–12 px text).
    wide = _page(browser, viewport={"width": 1280, "height": 900})
    sign_in(wide, server.url, "giamsat")
    wide.goto(f"{server.url}/dashboard/overview")
    assert wide.locator(".chart-narrow").first.is_hidden()
    assert min(wide.evaluate(CHART_TEXT_PX)) >= 11


def _playing(page: Any) -> int | None:
    return page.evaluate(
        "() => { const r = document.querySelector('tr.turn.playing');"
        " return r ? Number(r.dataset.startMs) : null; }"
    )


def test_the_player_follows_the_transcript(server: Any, browser: Any) -> None:
    # A short window, so the transcript is longer than the screen as on a long call.
    page = _page(browser, viewport={"width": 1000, "height": 420})
    sign_in(page, server.url, "giamsat")
    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}")
    player = page.locator("#player")
    assert page.locator(".player-controls").is_visible()
    assert page.locator("svg.lanes .block.b-caller").count() == 3
    assert page.locator("svg.lanes .block.b-bot").count() == 3

    page.click("button[data-rate='2']")
    assert player.evaluate("el => el.playbackRate") == 2
    assert page.get_attribute("button[data-rate='2']", "aria-pressed") == "true"
    assert page.get_attribute("button[data-rate='1']", "aria-pressed") == "false"

    page.locator("button.seek[data-start-ms='0']").click()  # plays from the start
    page.wait_for_function("() => !document.getElementById('player').paused")
    seen = [_playing(page)]
    page.wait_for_function(
        "() => { const r = document.querySelector('tr.turn.playing');"
        " return r && Number(r.dataset.startMs) >= 4500; }",
        timeout=15_000,
    )
    seen.append(_playing(page))
    assert seen[0] == 0 and seen[-1] is not None and seen[-1] >= 4500  # the highlight moved
    assert page.locator("tr.turn.playing").count() == 1
    assert page.get_attribute("tr.turn.playing", "aria-current") == "true"
    # The highlighted turn was scrolled into view, below the sticky player.
    row = page.locator("tr.turn.playing").bounding_box()
    bar = page.locator("#recording").bounding_box()
    assert row is not None and bar is not None
    assert row["y"] >= bar["y"] + bar["height"] - 1 and row["y"] + row["height"] <= 421
    playhead = float(page.get_attribute("svg.lanes .playhead", "x1") or 0)
    assert playhead > 400  # over half of the 8 s lanes at ≥ 4.5 s

    # The player stays on screen when the page is scrolled to its end.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    bar = page.locator("#recording").bounding_box()
    assert bar is not None and abs(bar["y"]) < 1 and player.is_visible()

    player.evaluate("el => el.pause()")
    player.evaluate("el => { el.currentTime = 3; }")
    page.click("button[data-skip='10']")  # clamped to the end of the 8 s recording
    page.wait_for_function("() => document.getElementById('player').currentTime >= 7.9")
    page.click("button[data-skip='-10']")
    page.wait_for_function("() => document.getElementById('player').currentTime <= 0.1")
    assert _playing(page) == 0

    page.locator("svg.lanes .block[data-start-ms='5500']").click()  # a lane block seeks
    page.wait_for_function("() => document.getElementById('player').currentTime >= 5.4")
    assert _playing(page) == 5500


def test_without_javascript_the_page_still_plays_and_acts(server: Any, browser: Any) -> None:
    page = _page(browser, java_script_enabled=False)
    sign_in(page, server.url, "giamsat")
    page.goto(f"{server.url}/dashboard/tickets/{server.seeded.ids['quan3']}")
    assert page.locator("#player[controls]").count() == 1  # the browser's own controls
    assert page.locator(".player-controls").is_hidden()  # buttons that would do nothing
    page.locator("form.status-form select[name=status]").select_option("accepted")
    page.locator("form.status-form button").click()
    page.wait_for_load_state()
    assert page.inner_text("h1 .status") == "Đã tiếp nhận"
