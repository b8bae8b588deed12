"""Dashboard list page: server time at 100,000 tickets, with and without filters and search.

Seeds a temporary SQLite store through its migrations (so the dashboard's indexes, FTS
table and triggers are the real ones) with ``executemany`` SQL: 100,000 calls and tickets
over the last 60 days, 6 transcript turns and 3 slots each. Then requests each page N
times through the ASGI app in-process (httpx's ASGITransport: no sockets, so the figure is
the server's own time: routing, session check, SQL, template) and prints median and p95.

    .venv/bin/python bench/bench_dashboard.py                  # 100,000 tickets, N=50
    .venv/bin/python bench/bench_dashboard.py --tickets 20000 --requests 20
    .venv/bin/python bench/bench_dashboard.py --write-docs     # also docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from callbot.config import Settings
from callbot.tickets.model import utcnow
from callbot.tickets.store.factory import open_store
from callbot.web.app import create_app
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import hash_password
from callbot.web.dashboard.roles import Role

PLACES = [
    "Quận 1", "Quận 3", "Quận 4", "Quận 5", "Quận 6", "Quận 7", "Quận 8", "Quận 10",
    "Quận 11", "Quận 12", "Gò Vấp", "Bình Thạnh", "Tân Bình", "Tân Phú", "Phú Nhuận",
    "Bình Tân", "TP. Thủ Đức", "Củ Chi", "Hóc Môn", "Bình Chánh", "Nhà Bè", "Cần Giờ",
]  # fmt: skip
CASES = ["essentials", "essentials", "essentials", "support_policy", "vulnerable", "other"]
STATUSES = ["new", "routed", "routed", "accepted", "in_progress", "resolved", "closed"]
REASONS = ["completed"] * 7 + ["caller_hangup", "handed_back", "no_input"]
NEEDS = ["gạo", "mì gói", "sữa cho con", "thuốc", "tiền thuê nhà", "rau", "dầu ăn", "trứng"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em"]
PASSWORD = "bench-password-123"


def _dt(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def seed(path: Path, count: int) -> float:
    """Rows straight into the tables in one transaction; seconds taken."""
    rng = random.Random(1022)
    started_all = time.perf_counter()
    now = datetime.now(UTC)
    calls, tickets, turns, slots = [], [], [], []
    for n in range(1, count + 1):
        call_id = f"{n:08d}-0000-4000-8000-000000000000"
        started = now - timedelta(seconds=(count - n) * 60 * 24 * 60 * 60 / count)
        place, case = rng.choice(PLACES), rng.choice(CASES)
        status, reason = rng.choice(STATUSES), rng.choice(REASONS)
        complete = reason == "completed"
        phone = f"09{rng.randrange(10**8):08d}"
        routed = status != "new"
        due = started + timedelta(hours=rng.choice([24, 72, 168])) if routed else None
        calls.append(
            (
                call_id,
                "voice",
                _dt(started),
                _dt(started + timedelta(minutes=2)),
                reason,
                phone,
                f"rec/{call_id}.wav",
            )
        )
        tickets.append(
            (
                n,
                call_id,
                "voice",
                status,
                int(complete),
                int(not complete),
                case,
                phone,
                phone,
                place,
                f"UBND {place}" if routed else None,
                _dt(started),
                _dt(started),
                _dt(due) if due else None,
                reason,
                f"rec/{call_id}.wav",
            )
        )
        need, name = rng.choice(NEEDS), rng.choice(NAMES)
        texts = [
            ("bot", "prompt", "Xin chào, đây là tổng đài 1022. Bạn cần hỗ trợ gì?", None),
            ("caller", "speech", f"tôi cần {need} cho gia đình", 0.8),
            ("bot", "prompt", "Bạn đang ở quận, huyện nào?", None),
            ("caller", "speech", place.lower(), 0.7),
            ("bot", "prompt", f"Xin nhắc lại thông tin: {need}, {place}.", None),
            ("caller", "speech", f"đúng rồi, tôi là {name}", 0.9),
        ]
        for seq, (speaker, kind, text, confidence) in enumerate(texts):
            turns.append(
                (
                    call_id,
                    seq,
                    _dt(started),
                    speaker,
                    kind,
                    text,
                    confidence,
                    seq * 3000,
                    seq * 3000 + 2500,
                )
            )
        for name_, value in (("case_type", case), ("place", place), ("callback_number", phone)):
            slots.append((n, name_, value, "speech", 0.8, value, _dt(started)))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO calls (call_id, channel, started_at, ended_at, end_reason,"
        " caller_number, recording_path) VALUES (?, ?, ?, ?, ?, ?, ?)",
        calls,
    )
    conn.executemany(
        "INSERT INTO tickets (id, call_id, channel, status, complete, needs_callback,"
        " service_code, caller_number, callback_number, admin_unit, agency_responsible,"
        " requested_datetime, updated_datetime, expected_datetime, end_reason, recording_path)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tickets,
    )
    # The search triggers fire as in production (one FTS update per turn and per slot).
    conn.executemany(
        "INSERT INTO turns (call_id, seq, at, speaker, kind, text, confidence,"
        " start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        turns,
    )
    conn.executemany(
        "INSERT INTO ticket_slots (ticket_id, name, value, source, confidence,"
        " heard, set_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        slots,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started_all


async def measure(url: str, requests: int) -> tuple[list[tuple[str, str, float, float, int]], str]:
    store = await open_store(url)
    settings = Settings()
    settings.web.secret_key = "bench"
    app = create_app(store, settings)
    accounts = AccountStore(store)  # type: ignore[arg-type]
    await accounts.add_user("bench", Role.SUPERVISOR, None, hash_password(PASSWORD), utcnow())
    await accounts.add_user(
        "officer", Role.AGENCY, "UBND Quận 3", hash_password(PASSWORD), utcnow()
    )
    transport = httpx.ASGITransport(app=app)
    results = []
    try:
        clients = {}
        for login in ("bench", "officer"):
            client = httpx.AsyncClient(transport=transport, base_url="http://bench")
            form = await client.get("/dashboard/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token
            signed = await client.post(
                "/dashboard/login",
                data={"csrf_token": token.group(1), "login": login, "password": PASSWORD},
            )
            assert signed.status_code == 303, signed.status_code
            clients[login] = client
        first = await clients["bench"].get("/dashboard/")
        deep_anchor = re.findall(r'/dashboard/tickets/(\d+)"', first.text)[-1]
        cases = [
            ("newest page, no filter", "bench", "/dashboard/"),
            ("page after ~50,000 (keyset)", "bench", f"/dashboard/?before={int(deep_anchor) // 2}"),
            ("status = in progress", "bench", "/dashboard/?status=in_progress"),
            (
                "case type + admin unit",
                "bench",
                "/dashboard/?case_type=vulnerable&admin_unit=C%E1%BA%A7n+Gi%E1%BB%9D",
            ),
            ("date range (one day)", "bench", "/dashboard/?date_from={d}&date_to={d}"),
            ("handed back", "bench", "/dashboard/?handed_back=1"),
            ("overdue", "bench", "/dashboard/?overdue=1"),
            ("incomplete", "bench", "/dashboard/?complete=no"),
            (
                "search: four words (sữa cho con Cần Giờ)",
                "bench",
                "/dashboard/?q=s%E1%BB%AFa+cho+con+c%E1%BA%A7n+gi%E1%BB%9D",
            ),
            ("search: common word (gạo, 1 in 8)", "bench", "/dashboard/?q=g%E1%BA%A1o"),
            ("search: phone prefix (0903)", "bench", "/dashboard/?q=0903"),
            ("agency officer's list", "officer", "/dashboard/"),
            (
                "search + status + admin unit",
                "bench",
                "/dashboard/?q=thuoc&status=routed&admin_unit=Qu%E1%BA%ADn+8",
            ),
            ("call page", "bench", f"/dashboard/tickets/{deep_anchor}"),
            ("overview (24 h)", "bench", "/dashboard/overview"),
            ("overview (30 days)", "bench", "/dashboard/overview?days=30"),
        ]
        day = (datetime.now(UTC) - timedelta(days=10)).astimezone().date().isoformat()
        for label, login, path in cases:
            path = path.replace("{d}", day)
            client = clients[login]
            await client.get(path)  # warm the page cache and the facet cache
            times = []
            rows = 0
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                rows = response.text.count('<a href="/dashboard/tickets/')
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            listed = str(rows) if path.startswith("/dashboard/?") or path == "/dashboard/" else "—"
            results.append((label, path, statistics.median(times), p95, listed))
        for client in clients.values():
            await client.aclose()
    finally:
        await store.close()
    return results, sqlite3.sqlite_version


def report(count: int, requests: int, seconds: float, results: list, version: str) -> str:
    lines = [
        "## Dashboard",
        "",
        f"`bench/bench_dashboard.py`: list page server time at {count:,} tickets (SQLite "
        f"{version}, one file, WAL), {requests} requests per row after one warm-up, through the "
        "ASGI app in-process (session check + SQL + template; no network). Seeded in "
        f"{seconds:.0f} s with the search triggers on. Python {platform.python_version()}, "
        f"{platform.machine()}, measured {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| page | median ms | p95 ms | tickets listed |",
        "|---|---:|---:|---:|",
    ]
    for label, _path, median, p95, rows in results:
        lines.append(f"| {label} | {median:.1f} | {p95:.1f} | {rows} |")
    lines += [
        "",
        "Every list query is an index range scan in list order (keyset pagination, an index "
        "per filter ending in `requested_datetime, id`), so a deep page costs what the first "
        "does. Search goes through FTS5: the matching ticket ids come from the index, then "
        "SQLite sorts those tickets by time, so a word found in 1 ticket in 8 (12,500 here) "
        "is the slowest list. The overview's cost is the open-tickets-by-age count over "
        "every open ticket (70 % of this synthetic store; far fewer in a real one), read "
        "from the covering partial index `tickets_open_by_sla`.",
        "",
    ]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    text = path.read_text()
    pattern = re.compile(r"^## Dashboard\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"

        async def migrate() -> None:
            store = await open_store(f"sqlite:///{path}")
            await store.close()

        asyncio.run(migrate())
        seconds = seed(path, args.tickets)
        print(f"seeded {args.tickets:,} tickets in {seconds:.1f} s", flush=True)
        results, version = asyncio.run(measure(f"sqlite:///{path}", args.requests))
    if args.json:
        print(
            json.dumps(
                [
                    dict(zip(("page", "path", "median_ms", "p95_ms", "rows"), r, strict=True))
                    for r in results
                ],
                indent=2,
            )
        )
    section = report(args.tickets, args.requests, seconds, results, version)
    print(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
