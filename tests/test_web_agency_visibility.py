"""Every agency a ticket is delivered to sees it (issue 15), on both engines.

A support-policy ticket is routed by the real rules (config/routing.toml) to the People's
Committee of its district *and* to Sở Nội vụ (a ``local`` delivery: no webhook). Measured
before: a Sở Nội vụ officer saw 0 tickets, because only ``agency_responsible`` was matched.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from ticket_helpers import call_ticket

from callbot.config import Settings
from callbot.server import WebServer
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.routing import load_rules, route_ticket
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.app import create_app
from callbot.web.dashboard import overview
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import hash_password
from callbot.web.dashboard.queries import ListQuery, distinct_values, list_page
from callbot.web.dashboard.roles import Role, User

pytest_plugins = ["conftest_store"]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(UTC)
DEPARTMENT = "Sở Nội vụ Thành phố Hồ Chí Minh"
COMMITTEE = "Ủy ban nhân dân Quận 3"
PASSWORD = "mat-khau-so-noi-vu"


def officer(agency: str, user_id: int = 7) -> User:
    return User(user_id, f"can-bo-{user_id}", Role.AGENCY, agency, False, NOW)


async def _routed(store: SqlTicketStore, case_type: str) -> int:
    # Each ticket its own household (issue 18 would link a second call of one household).
    number = f"09120000{len(case_type):02d}"
    slots = {"callback_number": number, "address": f"{len(case_type)} Lê Lợi"}
    ticket = await call_ticket(
        store, case_type=case_type, place="Quận 3", caller_number=number, slots=slots
    )
    routed = await route_ticket(store, ticket.id, load_rules(Settings().routing.rules_file))
    assert routed is not None
    return ticket.id


async def test_a_second_agency_sees_what_is_delivered_to_it(store: SqlTicketStore) -> None:
    policy = await _routed(store, "support_policy")
    food = await _routed(store, "essentials")  # the committee alone
    deliveries = {d.agency_name: d.status for d in await store.list_deliveries(ticket_id=policy)}
    assert deliveries == {COMMITTEE: DeliveryStatus.LOCAL, DEPARTMENT: DeliveryStatus.LOCAL}

    async def ids(user: User) -> list[int]:
        page = await list_page(store, ListQuery(), user, ZONE)
        return [t.id for t in page.tickets]

    assert await ids(officer(DEPARTMENT)) == [policy]
    assert await ids(officer(COMMITTEE)) == [food, policy]
    assert await ids(officer("Ủy ban nhân dân Quận 5")) == []
    # The drop-downs and the overview are scoped the same way.
    assert await distinct_values(store, "service_code", officer(DEPARTMENT)) == ["support_policy"]
    since = NOW - timedelta(days=3650)
    figures = await overview.compute(store, officer(DEPARTMENT), since, NOW + timedelta(days=1))
    assert figures.calls == 1


@pytest.fixture
async def site(store: SqlTicketStore) -> tuple[str, SqlTicketStore]:
    config = Settings()
    config.web.secret_key = "test-secret"
    accounts = AccountStore(store)
    for login, agency in (("sonoivu", DEPARTMENT), ("quan5", "Ủy ban nhân dân Quận 5")):
        await accounts.add_user(login, Role.AGENCY, agency, hash_password(PASSWORD), NOW)
    server = WebServer(create_app(store, config), "127.0.0.1", 0)
    port = await server.start()
    yield f"http://127.0.0.1:{port}", store  # type: ignore[misc]
    await server.stop()


async def _signed_in(url: str, login: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url)
    form = await client.get("/dashboard/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    await client.post(
        "/dashboard/login",
        data={"csrf_token": token.group(1), "login": login, "password": PASSWORD},
    )
    assert "callbot_session" in client.cookies
    return client


async def test_the_department_officer_opens_and_works_the_ticket(
    site: tuple[str, SqlTicketStore],
) -> None:
    url, store = site
    policy = await _routed(store, "support_policy")
    department = await _signed_in(url, "sonoivu")
    page = await department.get(f"/dashboard/tickets/{policy}")
    assert page.status_code == 200 and "Xử lý phiếu" in page.text
    listed = await department.get("/dashboard/")
    assert f"/dashboard/tickets/{policy}" in listed.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    note = await department.post(
        f"/dashboard/tickets/{policy}/notes",
        data={"csrf_token": token.group(1), "text": "Đã tra cứu hồ sơ trợ cấp"},
    )
    assert note.status_code == 303
    other = await _signed_in(url, "quan5")
    assert (await other.get(f"/dashboard/tickets/{policy}")).status_code == 404
    await department.aclose()
    await other.aclose()
