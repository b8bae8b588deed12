"""The Open311 GeoReport v2 API over real HTTP (uvicorn on a loopback port), both stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from ticket_helpers import CALLER_SLOTS, call_ticket

from callbot.config import Settings
from callbot.server import WebServer
from callbot.tickets.deliveries import DeliveryStatus
from callbot.tickets.model import Channel, TicketStatus
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.open311 import router

pytest_plugins = ["conftest_store"]

KEYS_ENV = "TEST_OPEN311_KEYS"
WEB_KEY, CHAT_KEY = "web-key-123", "chat-key-456"
FORM = {
    "api_key": WEB_KEY,
    "service_code": "essentials",
    "description": "Nhà tôi hết gạo, có bà cụ 80 tuổi",
    "address_string": "12 Lê Lợi, Phường Bến Thành, TP.HCM",
    "first_name": "Trần",
    "last_name": "Thị Bình",
    "phone": "0912 345 678",
    "email": "binh@example.vn",
}
PERSONAL = ("12 Lê Lợi", "Trần", "Thị Bình", "0912", "binh@example", "hết gạo", "0903456789")


@pytest.fixture
async def api(store: SqlTicketStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator:
    monkeypatch.setenv(KEYS_ENV, f"{WEB_KEY}, chat:{CHAT_KEY}")
    settings = Settings()
    settings.open311.api_keys_env = KEYS_ENV
    settings.open311.max_body_bytes = 4096
    app = FastAPI()  # what create_app does for this router, without the other routers
    app.state.store, app.state.settings = store, settings
    app.include_router(router)
    server = WebServer(app, "127.0.0.1", 0)
    port = await server.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/open311/v2") as client:
        yield client
    await server.stop()


def spec_error(response: httpx.Response, code: int, words: str) -> None:
    assert response.status_code == code, response.text
    [error] = response.json()
    assert error["code"] == code and words in error["description"]


async def test_create_app_serves_the_api() -> None:
    from callbot.web.app import create_app

    app = create_app(None, Settings())  # type: ignore[arg-type]  # services.json reads no store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callbot") as client:
        response = await client.get("/open311/v2/services.json")
    assert response.status_code == 200 and len(response.json()) == 4


async def test_services_are_the_four_case_types(api: httpx.AsyncClient) -> None:
    services = (await api.get("/services.json")).json()
    assert [s["service_code"] for s in services] == [
        "essentials",
        "support_policy",
        "vulnerable",
        "other",
    ]
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)


async def test_a_form_post_files_a_routed_web_ticket(
    api: httpx.AsyncClient, store: SqlTicketStore
) -> None:
    response = await api.post("/requests.json", data=FORM)
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert "Phường Bến Thành" in created["service_notice"]
    ticket = await store.get_ticket(int(created["service_request_id"]))
    assert ticket is not None and ticket.call_id is None
    assert ticket.channel is Channel.WEB and ticket.complete and not ticket.needs_callback
    assert ticket.status is TicketStatus.ROUTED
    assert ticket.agency_responsible == "Ủy ban nhân dân Phường Bến Thành"
    assert ticket.callback_number == "0912345678" and ticket.admin_unit == "Phường Bến Thành"
    assert ticket.slots["name"].value == "Trần Thị Bình"
    assert ticket.slots["address"].value == FORM["address_string"]
    [delivery] = await store.list_deliveries(ticket_id=ticket.id)
    assert delivery.status is DeliveryStatus.LOCAL  # the default rules have no webhooks

    [public] = (await api.get(f"/requests/{ticket.id}.json")).json()
    assert public["service_request_id"] == str(ticket.id) and public["status"] == "open"
    assert public["address"] == "Phường Bến Thành"
    assert public["agency_responsible"] == "Ủy ban nhân dân Phường Bến Thành"
    assert public["expected_datetime"] is not None
    text = json.dumps(public, ensure_ascii=False)
    assert not [word for word in PERSONAL if word in text]


async def test_json_is_accepted_and_chat_keys_file_on_the_chat_channel(
    api: httpx.AsyncClient, store: SqlTicketStore
) -> None:
    body = {**FORM, "api_key": CHAT_KEY, "address_string": "", "lat": "10.77", "long": "106.7"}
    response = await api.post("/requests.json", json=body)
    assert response.status_code == 201, response.text
    ticket = await store.get_ticket(int(response.json()[0]["service_request_id"]))
    assert ticket is not None and ticket.channel is Channel.CHAT
    # No unit named: filed, incomplete, left for a person to place and route.
    assert not ticket.complete and ticket.status is TicketStatus.NEW
    assert ticket.slots["lat"].value == "10.77"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "guess"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"service_code": "pizza"}, 400, "unknown service_code"),
        ({"description": None, "address_string": None}, 400, "description or a location"),
        ({"lat": "north"}, 400, "decimal degrees"),
    ],
)
async def test_bad_posts_get_spec_errors(
    api: httpx.AsyncClient, store: SqlTicketStore, change: dict, code: int, words: str
) -> None:
    form = {k: v for k, v in {**FORM, **change}.items() if v is not None}
    spec_error(await api.post("/requests.json", data=form), code, words)
    assert await store.list_requests() == []  # nothing filed


async def test_oversize_bodies_are_refused(api: httpx.AsyncClient) -> None:
    big = {**FORM, "description": "x" * 5000}
    spec_error(await api.post("/requests.json", data=big), 413, "over 4096 bytes")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(10):
            yield b"description=" + b"x" * 1000 + b"&"

    spec_error(await api.post("/requests.json", content=chunks()), 413, "over 4096 bytes")


async def test_listing_filters_by_code_status_dates_and_ids(
    api: httpx.AsyncClient, store: SqlTicketStore
) -> None:
    food = await call_ticket(store, case_type="essentials")
    policy = await call_ticket(store, case_type="support_policy")
    closed = await call_ticket(store, case_type="other")
    await store.change_status(closed.id, TicketStatus.REJECTED, "officer", reason="duplicate")
    await store.change_status(closed.id, TicketStatus.CLOSED, "officer")
    window = {"start_date": "2026-11-28T00:00:00+07:00", "end_date": "2026-11-29T00:00:00+07:00"}

    async def ids(**params: str) -> list[str]:
        response = await api.get("/requests.json", params={**window, **params})
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    everything = await ids()
    assert everything == [str(closed.id), str(policy.id), str(food.id)]  # newest first
    assert await ids(service_code="essentials,support_policy") == [str(policy.id), str(food.id)]
    assert await ids(status="closed") == [str(closed.id)]
    assert await ids(status="open", service_code="other") == []
    assert await ids(start_date="2026-11-29T00:00:00+07:00", end_date="") == []
    # service_request_id wins over every other filter, as the spec says.
    assert await ids(service_request_id=f"{food.id},{closed.id}", status="open") == [
        str(closed.id),
        str(food.id),
    ]
    text = (await api.get("/requests.json", params=window)).text
    personal = [w for w in (*PERSONAL, *CALLER_SLOTS.values()) if len(w) > 3]
    assert not [word for word in personal if word in text]


async def test_listing_and_lookup_errors(api: httpx.AsyncClient) -> None:
    spec_error(await api.get("/requests.json?service_code=pizza"), 400, "unknown service_code")
    spec_error(await api.get("/requests.json?status=lost"), 400, "unknown status")
    spec_error(await api.get("/requests.json?start_date=yesterday"), 400, "W3C")
    spec_error(await api.get("/requests.json?service_request_id=abc"), 400, "numbers")
    spec_error(await api.get("/requests/999999.json"), 404, "no service request")
    spec_error(await api.get("/requests/abc.json"), 404, "no service request")
    # Without dates: the last 90 days, which a POST just now is in.
    assert (await api.get("/requests.json")).json() == []
