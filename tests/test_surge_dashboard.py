"""The supervisor's surge switch on the dashboard (issue 17 item 4), over real HTTP against
a real server and SQLite file: supervisors and administrators set it with the form's CSRF
token; a forged form is refused (403), other roles are refused (403), a bad value is a
400, and every setting is kept in the store, where the call server reads it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

try:
    from browser import PASSWORD, live_server
except ImportError:  # tests imported as a package
    from tests.browser import PASSWORD, live_server

from callbot.tickets.store.sql_surge import SurgeStore


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("surge-dashboard")) as running:
        yield running


def _sign_in(base: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    form = client.get("/dashboard/login")
    client.post(
        "/dashboard/login",
        data={"csrf_token": _csrf(form.text), "login": login, "password": PASSWORD},
    )
    return client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF field"
    return match.group(1)


def _switch(server: Any) -> Any:
    return server.call(SurgeStore(server.app.state.store).switch())


def test_a_supervisor_sets_the_switch_and_it_is_kept(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    page = client.get("/dashboard/surge")
    assert page.status_code == 200 and "Chế độ cao điểm" in page.text
    assert 'href="/dashboard/surge"' in page.text  # in the menu
    response = client.post("/dashboard/surge", data={"csrf_token": _csrf(page.text), "value": "on"})
    assert response.status_code == 303
    stored = _switch(server)
    assert (stored.value, stored.set_by) == ("on", "giamsat")
    page = client.get("/dashboard/surge")
    assert "supervisor giamsat: on" in page.text  # the change log
    assert re.search(r'value="on"\s+checked', page.text)
    client.post("/dashboard/surge", data={"csrf_token": _csrf(page.text), "value": "auto"})
    assert _switch(server).value == "auto"


def test_a_forged_or_bad_form_is_refused(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    before = _switch(server)
    forged = client.post("/dashboard/surge", data={"csrf_token": "guess", "value": "off"})
    assert forged.status_code == 403
    token = _csrf(client.get("/dashboard/surge").text)
    for value in ("maybe", "", "on\x00"):
        bad = client.post("/dashboard/surge", data={"csrf_token": token, "value": value})
        assert bad.status_code == 400, value
    missing = client.post("/dashboard/surge", data={"csrf_token": token})
    assert missing.status_code == 400
    assert _switch(server) == before


@pytest.mark.parametrize("login", ["thanhtra", "quan3"])
def test_other_roles_cannot_see_or_set_it(server: Any, login: str) -> None:
    client = _sign_in(server.url, login)
    page = client.get("/dashboard/surge")
    assert page.status_code == 403
    assert 'href="/dashboard/surge"' not in client.get("/dashboard/").text
    token = _csrf(client.get("/dashboard/").text)
    refused = client.post("/dashboard/surge", data={"csrf_token": token, "value": "on"})
    assert refused.status_code == 403
    stored = _switch(server)
    assert stored is None or stored.set_by != login


def test_signed_out_is_sent_to_sign_in(server: Any) -> None:
    response = httpx.get(f"{server.url}/dashboard/surge")
    assert response.status_code == 303 and "/dashboard/login" in response.headers["location"]
    post = httpx.post(f"{server.url}/dashboard/surge", data={"value": "on"})
    assert post.status_code in (303, 403)
