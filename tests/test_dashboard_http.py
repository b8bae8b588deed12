"""The dashboard over HTTP without a browser: sign-in rules, cookies, CSRF, Range answers,
the replay log, CSV export; plus the pure pieces (path resolution) and the ``callbot users``
command. Starlette parses the ranges: its edge cases are in tests/test_library_swaps.py."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

try:
    from browser import PASSWORD, live_server
except ImportError:
    from tests.browser import PASSWORD, live_server

from callbot.web.dashboard.recordings import RecordingPathError, resolve_recording
from callbot.web.dashboard.routes_list import _cell


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("dashboard-http")) as running:
        yield running


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF field"
    return match.group(1)


def _sign_in(base: str, login: str, password: str = PASSWORD, ip: str = "") -> httpx.Client:
    client = httpx.Client(base_url=base)
    form = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": _csrf(form.text), "login": login, "password": password},
    )
    client.last = response  # type: ignore[attr-defined]
    return client


def test_sign_in_sets_a_hardened_session_cookie(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    assert client.last.status_code == 303  # type: ignore[attr-defined]
    cookie = client.last.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "callbot_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # secure_cookies is off in this server
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_secure_cookies_when_configured(tmp_path: Path) -> None:
    with live_server(tmp_path, secure_cookies=True) as secure:
        form = httpx.get(f"{secure.url}/dashboard/login")
        assert "Secure" in form.headers["set-cookie"]
        assert "HttpOnly" in form.headers["set-cookie"]


def test_wrong_password_then_rate_limit(server: Any) -> None:
    for _ in range(5):
        client = _sign_in(server.url, "thanhtra", "sai-mat-khau")
        assert client.last.status_code == 401  # type: ignore[attr-defined]
    # The sixth try is refused even with the right password, for this account and address.
    client = _sign_in(server.url, "thanhtra")
    assert client.last.status_code == 429  # type: ignore[attr-defined]
    assert "callbot_session" not in client.cookies
    # Another account from the same address is not locked.
    assert _sign_in(server.url, "quan5").last.status_code == 303  # type: ignore[attr-defined]


def test_login_form_needs_its_csrf_token(server: Any) -> None:
    client = httpx.Client(base_url=server.url)
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"login": "giamsat", "password": PASSWORD})
    assert response.status_code == 403


def test_sign_in_redirects_only_inside_the_dashboard(server: Any) -> None:
    client = httpx.Client(base_url=server.url)
    form = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={
            "csrf_token": _csrf(form.text),
            "login": "giamsat",
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/dashboard/"


def test_logout_ends_the_session_server_side(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    stolen = client.cookies["callbot_session"]
    page = client.get("/dashboard/")
    response = client.post("/dashboard/logout", data={"csrf_token": _csrf(page.text)})
    assert response.status_code == 303
    replay = httpx.Client(base_url=server.url, cookies={"callbot_session": stolen})
    assert replay.get("/dashboard/").status_code == 303  # the old cookie opens nothing


def test_a_forged_cookie_is_refused(server: Any) -> None:
    client = httpx.Client(base_url=server.url, cookies={"callbot_session": "abc.def"})
    assert client.get("/dashboard/").status_code == 303


def test_range_requests_and_the_replay_log(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    ticket_id = server.seeded.ids["quan3"]
    url = f"/dashboard/tickets/{ticket_id}/recording"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    assert whole.content[:4] == b"RIFF"
    part = client.get(url, headers={"Range": "bytes=44-143"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 44-143/{size}"
    assert part.content == whole.content[44:144]
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    beyond = client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"

    log = client.get("/dashboard/replays")
    assert log.status_code == 403  # supervisors do not read the replay log
    page = client.get(f"/dashboard/tickets/{ticket_id}")
    assert "Mỗi lần nghe lại đều được ghi nhật ký" in page.text


def test_csv_export_follows_the_filter_and_scope(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    response = client.get("/dashboard/export.csv", params={"q": "quan ba"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == "id" and len(rows) == 2
    assert rows[1][0] == str(server.seeded.ids["quan3"])
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[1][1])  # Vietnamese date format

    officer = _sign_in(server.url, "quan5")
    rows = list(csv.reader(io.StringIO(officer.get("/dashboard/export.csv").text.lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == [str(server.seeded.ids["quan5_script"])]


def test_csv_cells_cannot_become_formulas() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("@SUM") == "'@SUM"
    assert _cell("-cmd") == "'-cmd"
    assert _cell("+84 903 456 789") == "+84 903 456 789"
    assert _cell(None) == ""


def test_resolve_recording_stays_inside(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    (root / "2026").mkdir(parents=True)
    (root / "2026" / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "outside.wav").write_bytes(b"RIFF")
    (root / "link.wav").symlink_to(tmp_path / "outside.wav")
    assert resolve_recording(root, "2026/a.wav") == (root / "2026" / "a.wav").resolve()
    for bad in ("../outside.wav", "/etc/passwd", "2026/../../outside.wav", "", "link.wav", "."):
        with pytest.raises(RecordingPathError):
            resolve_recording(root, bad)


def test_users_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from callbot.cli import main

    monkeypatch.setenv("CALLBOT_STORE_URL", f"sqlite:///{tmp_path / 'users.db'}")

    def users(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(["users", *args])

    assert (
        users(
            "add", "giamsat", "--role", "supervisor", "--password-stdin", stdin="mat-khau-dai-1\n"
        )
        == 0
    )
    assert (
        users(
            "add", "giamsat", "--role", "supervisor", "--password-stdin", stdin="mat-khau-dai-1\n"
        )
        == 1
    )
    assert (
        users("add", "quan3", "--role", "agency", "--password-stdin", stdin="mat-khau-dai-2\n") == 2
    )
    assert users("add", "ngan", "--role", "oversight", "--password-stdin", stdin="ngan\n") == 2

    def officer(agency: str) -> int:
        return users(
            "add", "quan3", "--role", "agency", "--agency", agency, "--password-stdin",
            stdin="mat-khau-dai-2\n",
        )  # fmt: skip

    # Only agencies the routing rules can send a ticket to; an id becomes the agency's name.
    assert officer("UBND Quận 3") == 2  # matches nothing routing writes
    assert "no agency 'UBND Quận 3'" in capsys.readouterr().err
    assert officer("ubnd-770") == 0
    assert users("set-password", "quan3", "--password-stdin", stdin="mat-khau-moi-3\n") == 0
    assert users("disable", "quan3") == 0
    assert users("disable", "khong-co") == 1
    capsys.readouterr()
    assert users("list") == 0
    listing = capsys.readouterr().out
    assert re.search(r"giamsat\s+supervisor\s+active", listing)
    assert re.search(r"quan3\s+agency\s+disabled\s+agency=Ủy ban nhân dân Quận 3", listing)
    assert "mat-khau" not in listing


class _FakeWatcher:
    """What the overview reads from telephony.queue_watcher.QueueWatcher."""

    def __init__(self) -> None:
        from telephony.queue_watcher import (
            STATUS_INUSE,
            STATUS_NOT_INUSE,
            QueueMemberState,
            QueueState,
            WaitingCaller,
        )

        self.queue = QueueState("support")
        self.queue.members = {
            "PJSIP/101": QueueMemberState("PJSIP/101", status=STATUS_NOT_INUSE),
            "PJSIP/102": QueueMemberState("PJSIP/102", status=STATUS_INUSE),
            "PJSIP/103": QueueMemberState("PJSIP/103", paused=True),
        }
        self.queue.callers = {"PJSIP/x": WaitingCaller("PJSIP/x", joined_at=100.0)}

    def queues(self) -> list[str]:
        return ["support"]

    def state(self, name: str) -> Any:
        return self.queue

    def now(self) -> float:
        return 142.0

    def operator_answered_since(self, since: Any) -> int:
        return 12  # with the 4 seeded bot calls: 4 / 16 = 25 %


def test_overview_shows_live_queue_and_overflow_share(server: Any) -> None:
    client = _sign_in(server.url, "giamsat")
    page = client.get("/dashboard/overview")
    assert "Chưa kết nối AMI" in page.text and "chưa có số liệu AMI" in page.text
    server.app.state.queue_watcher = _FakeWatcher()
    try:
        page = client.get("/dashboard/overview")
    finally:
        server.app.state.queue_watcher = None
    assert page.status_code == 200
    row = re.search(r"<td>support</td>(.*?)</tr>", page.text)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group(1)) == [
        "3",
        "1",
        "1",
        "1",
        "42.0 giây",
    ]
    assert "25,0 %" in page.text
