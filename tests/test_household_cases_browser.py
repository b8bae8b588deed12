"""One case per household on the dashboard (issue 18 item 3), in a real browser: headless
Chromium (Debian's) driven by Playwright against a real server over a SQLite store where a
second call of one household was linked to its case by the real routing rules. A supervisor
sees the case's calls, splits one off (it is routed on its own) and links it back by hand;
a refused link is the form's error; an officer of the case's agency opens the linked call,
another agency cannot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

try:
    from browser import PASSWORD, live_server, require_chromium, seed, sign_in
    from ticket_helpers import call_ticket
except ImportError:  # run from the repository root as a package
    from tests.browser import (
        PASSWORD,
        live_server,
        require_chromium,
        seed,
        sign_in,
    )
    from tests.ticket_helpers import call_ticket

from callbot.config import Settings
from callbot.tickets.model import TicketStatus
from callbot.tickets.routing import load_rules, route_ticket
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import hash_password
from callbot.web.dashboard.roles import Role

require_chromium()  # skips the module without Chromium (fails in CI)

COMMITTEE = "Ủy ban nhân dân Quận 3"  # where the real rules route a Quận 3 ticket


async def _one_household(store: SqlTicketStore, now: datetime) -> dict[str, int]:
    await seed(store, now)
    rules = load_rules(Settings().routing.rules_file)
    ids = {}
    for name, number, slots in (
        ("case", "0966111222", {"callback_number": "0966111222"}),
        ("again", "+84966111222", {"callback_number": "0966111222", "address": "gần chợ"}),
        ("other", "0977000111", {"callback_number": "0977000111", "address": "45 Nguyễn Trãi"}),
    ):
        ticket = await call_ticket(store, caller_number=number, started_at=now, slots=slots)
        await route_ticket(store, ticket.id, rules)
        ids[name] = ticket.id
    await AccountStore(store).add_user(
        "uyban3", Role.AGENCY, COMMITTEE, hash_password(PASSWORD), now
    )
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("cases"), seeder=_one_household) as running:
        yield running


def _ticket(server: Any, ticket_id: int) -> Any:
    return server.call(server.app.state.store.get_ticket(ticket_id))


def test_a_supervisor_sees_the_case_splits_a_call_and_links_it_back(
    server: Any, browser: Any
) -> None:
    ids = server.seeded
    assert _ticket(server, ids["again"]).case_id == ids["case"]  # the match linked it
    assert _ticket(server, ids["other"]).case_id is None
    page = browser.new_context(locale="vi-VN").new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server.url, "giamsat")
    page.goto(f"{server.url}/dashboard/tickets/{ids['case']}")
    calls = page.locator("section.case-calls")
    assert calls.locator(f"a[href='/dashboard/tickets/{ids['again']}']").count() == 1
    calls.locator(f"a[href='/dashboard/tickets/{ids['again']}']").click()
    assert f"#{ids['case']}" in page.locator("dd.case-of").inner_text()
    page.fill("form.case-split input[name=reason]", "hộ khác, cùng số điện thoại")
    page.click("form.case-split button[type=submit]")
    page.wait_for_selector("form.case-link")
    assert page.locator("dd.case-of").count() == 0
    split = _ticket(server, ids["again"])
    assert split.case_id is None and split.status is TicketStatus.ROUTED  # routed on its own
    # Linked back by hand; the history says who and why.
    page.fill("form.case-link input[name=case]", str(ids["case"]))
    page.click("form.case-link button[type=submit]")
    page.wait_for_selector("dd.case-of")
    assert _ticket(server, ids["again"]).case_id == ids["case"]
    history = page.locator("section.history").inner_text()
    assert "Tách khỏi hồ sơ" in history and "giám sát viên gộp" in history
    page.goto(f"{server.url}/dashboard/")  # the list marks the linked call
    row = page.locator(f"tr:has(a[href='/dashboard/tickets/{ids['again']}'])")
    assert f"hồ sơ #{ids['case']}" in row.inner_text()
    # Refused links are the form's error: not a number, then a case that is itself linked.
    page.goto(f"{server.url}/dashboard/tickets/{ids['other']}")
    for typed, error in (("abc", "Nhập số phiếu"), (str(ids["again"]), "gộp vào hồ sơ gốc")):
        page.fill("form.case-link input[name=case]", typed)
        page.click("form.case-link button[type=submit]")
        page.wait_for_selector("p.error")
        assert error in page.locator("p.error").inner_text()
    assert _ticket(server, ids["other"]).case_id is None
    page.context.close()


def test_the_case_agency_opens_a_linked_call_and_another_agency_cannot(server: Any) -> None:
    ids = server.seeded
    if _ticket(server, ids["again"]).case_id is None:  # run alone: link it as the match did
        server.call(
            server.app.state.store.link_to_case(
                ids["again"], ids["case"], actor="giamsat", by="supervisor"
            )
        )
    for login, expected in (("uyban3", 200), ("quan5", 404)):
        with httpx.Client(base_url=server.url) as client:
            form = client.get("/dashboard/login")
            token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post(
                "/dashboard/login",
                data={"csrf_token": token, "login": login, "password": PASSWORD},
            )
            page = client.get(f"/dashboard/tickets/{ids['again']}")
            assert page.status_code == expected, login
            if expected == 200:
                assert "Thuộc hồ sơ" in page.text
                assert "case-split" not in page.text  # splitting is a supervisor's
