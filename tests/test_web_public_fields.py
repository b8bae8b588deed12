"""Internal notes stay internal, and nothing personal reaches a public response (issue 15).

Over real HTTP (uvicorn, a SQLite file). The property test files requests with generated
names, phone numbers, street addresses, e-mails and descriptions, moves each one through the
dashboard's status form with a generated internal note, and then reads *every* route the
app has, without signing in (Open311, the dashboard's pages and redirects, static files,
/metrics, /healthz, the API docs), with every ticket id: none of those values, the seeded
callers' numbers, transcripts or recording paths, appears in any body or header.

Measured before: a supervisor's status note with a caller's name, phone and address was in
the unauthenticated /open311/v2/requests.json.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from secrets import token_hex
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount

try:
    from browser import PASSWORD, live_server
except ImportError:
    from tests.browser import PASSWORD, live_server

KEYS_ENV = "TEST_WEB_PUBLIC_KEYS"
API_KEY = "public-fields-key"
# What the seed (tests/browser.py) stored about its callers: never public either.
SEEDED_PERSONAL = (
    "0281234567",
    "0903456789",
    "quan3.wav",
    "/etc/passwd",
    "secret.wav",
    "lương thực cho gia đình",
    "window.__xss",
)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF field"
    return match.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    os.environ[KEYS_ENV] = API_KEY
    with live_server(tmp_path_factory.mktemp("public")) as running:
        running.settings.open311.api_keys_env = KEYS_ENV
        yield running


@pytest.fixture(scope="module")
def supervisor(server: Any) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=server.url)
    form = client.get("/dashboard/login")
    client.post(
        "/dashboard/login",
        data={"csrf_token": _csrf(form.text), "login": "giamsat", "password": PASSWORD},
    )
    assert "callbot_session" in client.cookies
    yield client
    client.close()


def _change_status(client: httpx.Client, ticket: int, **fields: str) -> httpx.Response:
    page = client.get(f"/dashboard/tickets/{ticket}")
    assert page.status_code == 200
    return client.post(
        f"/dashboard/tickets/{ticket}/status", data={"csrf_token": _csrf(page.text), **fields}
    )


def test_the_status_form_says_which_note_is_public(server: Any, supervisor: httpx.Client) -> None:
    page = supervisor.get(f"/dashboard/tickets/{server.seeded.ids['quan3']}").text
    form = page[page.index('action="/dashboard/tickets/') : page.index("Cập nhật trạng thái")]
    assert 'name="note"' in form and "Ghi chú nội bộ" in form  # the first field: internal
    assert 'name="public_note"' in form and "Open311" in form
    assert form.index('name="note"') < form.index('name="public_note"')


def test_internal_by_default_public_only_when_said(server: Any, supervisor: httpx.Client) -> None:
    ticket = server.seeded.ids["quan3"]
    # An old-style form (one "note" field): the note is internal.
    moved = _change_status(supervisor, ticket, status="accepted", note="Bà Lan, 0912 345 678")
    assert moved.status_code == 303 and "error" not in moved.headers["location"]
    public = httpx.get(f"{server.url}/open311/v2/requests/{ticket}.json").json()[0]
    assert public["status_notes"] is None
    assert "Bà Lan" in supervisor.get(f"/dashboard/tickets/{ticket}").text  # staff see it
    # A public note containing a phone number, or the caller's own number, is refused.
    for leak in ("gọi lại 0912.345.678", "đã liên hệ 0903456789"):
        refused = _change_status(supervisor, ticket, status="in_progress", public_note=leak)
        assert "error=" in refused.headers["location"]
    assert httpx.get(f"{server.url}/open311/v2/requests/{ticket}.json").json()[0]["status"]
    again = server.call(server.app.state.store.get_ticket(ticket))
    assert again.status.value == "accepted" and again.status_notes == ""  # nothing changed
    said = _change_status(supervisor, ticket, status="in_progress", public_note="Đang xác minh")
    assert "error" not in said.headers["location"]
    public = httpx.get(f"{server.url}/open311/v2/requests/{ticket}.json").json()[0]
    assert public["status_notes"] == "Đang xác minh"


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    phone: str
    street: str
    email: str
    description: str
    internal_note: str

    def secrets(self) -> list[str]:
        """Each value, and its unique tag alone (a part of a value must not leak either)."""
        values = [self.first, self.last, self.street, self.email, self.description]
        values += [self.internal_note, self.phone]
        return values + [re.sub(r"\W", "", v)[-10:] for v in values if "Zq" in v]


def _tagged(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Generated text plus a tag that cannot occur in a public answer by chance.
    return text.map(lambda value: f"{' '.join(value.split())} Zq{token_hex(4)}".strip())


WORDS = st.text(st.characters(categories=["L", "Zs", "Nd"], exclude_characters="\x00"), max_size=20)
PEOPLE = st.builds(
    Person,
    first=_tagged(WORDS),
    last=_tagged(WORDS),
    phone=st.from_regex(r"\A09[0-9]{8}\Z"),
    street=_tagged(WORDS.map(lambda w: f"{w} Lê Lợi")),
    email=st.from_regex(r"\A[a-z]{3,8}@example\.vn\Z").map(lambda e: f"zq{token_hex(3)}{e}"),
    description=_tagged(WORDS),
    internal_note=_tagged(WORDS),
)


def _every_public_url(server: Any, ids: list[int]) -> list[str]:
    """Each GET route of the app, its path parameters filled with every ticket id."""
    urls = [
        "/open311/v2/requests.json?start_date=2000-01-01T00:00:00Z",
        "/open311/v2/requests.json?status=open,closed&start_date=2000-01-01T00:00:00Z",
        "/open311/v2/requests.json?service_request_id=" + ",".join(map(str, ids)),
    ]
    for route in iter_route_contexts(server.app.routes):  # included routers flattened
        if isinstance(route.route, Mount):
            urls += [f"{route.path}/dashboard.css", f"{route.path}/dashboard.js"]
            continue
        if "GET" not in (route.methods or ()):
            continue
        if "{" in route.path:
            urls += [re.sub(r"\{\w+\}", str(i), route.path) for i in ids]
        else:
            urls.append(route.path)
    return urls


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is ~30 requests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(person=PEOPLE)
def test_no_personal_field_reaches_a_public_response(
    server: Any, supervisor: httpx.Client, person: Person
) -> None:
    filed = httpx.post(
        f"{server.url}/open311/v2/requests.json",
        data={
            "api_key": API_KEY,
            "service_code": "support_policy",  # two agencies: the committee and Sở Nội vụ
            "first_name": person.first,
            "last_name": person.last,
            "phone": person.phone,
            "email": person.email,
            "address_string": f"{person.street}, Phường Bến Thành",
            "description": person.description,
        },
    )
    assert filed.status_code == 201, filed.text
    answers = [("POST /open311/v2/requests.json", filed)]
    ticket = int(filed.json()[0]["service_request_id"])
    # The caller's street typed into the public note is refused; the internal note is kept.
    refused = _change_status(supervisor, ticket, status="rejected", public_note=person.street)
    assert "error=" in refused.headers["location"]
    routed = server.call(server.app.state.store.get_ticket(ticket)).status.value == "routed"
    status = "accepted" if routed else "routed"  # "new" when the generated words hid the unit
    moved = _change_status(supervisor, ticket, status=status, note=person.internal_note)
    assert "error" not in moved.headers["location"]
    assert person.internal_note in supervisor.get(f"/dashboard/tickets/{ticket}").text

    ids = [*server.seeded.ids.values(), ticket]
    with httpx.Client(base_url=server.url) as anonymous:  # no cookie: the public
        for url in _every_public_url(server, ids):
            answers.append((url, anonymous.get(url)))
    assert any(url.startswith("/open311/v2/requests/") for url, _ in answers)
    assert any(url == "/metrics" for url, _ in answers)
    forbidden = [*person.secrets(), *SEEDED_PERSONAL]
    for url, response in answers:  # (statuses are test_web_hostile_input's concern)
        text = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        leaked = [value for value in forbidden if value and value in text]
        assert not leaked, (url, leaked)
