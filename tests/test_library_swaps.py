"""Where a maintained library replaced code written by hand (issue 16, docs/dependencies.md):
the recordings' byte ranges (Starlette's FileResponse), percentiles (numpy) and the load
report's axis ticks. Each test pins the behaviour the project relied on before the swap."""

from __future__ import annotations

import asyncio
import math
import re
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from browser import PASSWORD, live_server
except ImportError:
    from tests.browser import PASSWORD, live_server

from callbot.call.metrics import percentile
from callbot.loadtest import plots
from callbot.tickets.model import CallRecord, Channel
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.migrations import Migration, all_migrations
from callbot.web.dashboard.recordings import recording_response

pytest_plugins = ["conftest_store"]

# --- recordings: byte ranges ------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, str, bytes]]:
    """A signed-in supervisor, the URL of a seeded call's recording, and its bytes."""
    with live_server(tmp_path_factory.mktemp("library-swaps")) as server:
        client = httpx.Client(base_url=server.url)
        form = client.get("/dashboard/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        client.post(
            "/dashboard/login",
            data={"csrf_token": token.group(1), "login": "giamsat", "password": PASSWORD},
        )
        url = f"/dashboard/tickets/{server.seeded.ids['quan3']}/recording"
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content[:4] == b"RIFF"
        yield client, url, whole.content
        client.close()


def _private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_whole_file_keeps_the_personal_data_headers(recording: Any) -> None:
    client, url, body = recording
    response = client.get(url)
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == len(body)
    assert "content-disposition" not in response.headers  # played inline, not downloaded
    _private(response)


def test_suffix_open_and_bounded_ranges(recording: Any) -> None:
    client, url, body = recording
    size = len(body)
    suffix = client.get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206 and suffix.content == body[-100:]
    assert suffix.headers["content-range"] == f"bytes {size - 100}-{size - 1}/{size}"
    _private(suffix)
    longer = client.get(url, headers={"Range": f"bytes=-{size * 3}"})  # more than there is
    assert longer.status_code == 206 and longer.content == body
    opened = client.get(url, headers={"Range": "bytes=1000-"})
    assert opened.status_code == 206 and opened.content == body[1000:]
    assert opened.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    past_end = client.get(url, headers={"Range": f"bytes={size - 5}-{size + 500}"})
    assert past_end.status_code == 206 and past_end.content == body[-5:]
    last = client.get(url, headers={"Range": f"bytes={size - 1}-{size - 1}"})
    assert last.status_code == 206 and last.content == body[-1:]


def test_unsatisfiable_ranges_are_416_with_the_size(recording: Any) -> None:
    client, url, body = recording
    size = len(body)
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}"
        assert response.content == b""


def test_malformed_ranges_are_4xx_not_500(recording: Any) -> None:
    client, url, _ = recording
    for header in ("bytes=20-10", "items=0-5", "bytes", "bytes=-", "bytes=abc-def"):
        assert client.get(url, headers={"Range": header}).status_code == 400, header


def test_several_ranges_are_one_multipart_answer(recording: Any) -> None:
    client, url, body = recording
    response = client.get(url, headers={"Range": "bytes=0-3,100-109"})
    assert response.status_code == 206
    boundary = response.headers["content-type"].split("boundary=")[1]
    parts = response.content.split(f"--{boundary}".encode())
    assert b"Content-Range: bytes 0-3/" in parts[1] and parts[1].endswith(b"RIFF\r\n")
    assert parts[2].endswith(body[100:110] + b"\r\n")
    assert int(response.headers["content-length"]) == len(response.content)


def test_if_range_resumes_only_the_same_file(recording: Any) -> None:
    client, url, body = recording
    etag = client.get(url).headers["etag"]
    same = client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert same.status_code == 206 and same.content == body[10:20]
    changed = client.get(url, headers={"Range": "bytes=10-19", "If-Range": '"another"'})
    assert changed.status_code == 200 and changed.content == body  # the whole new file


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.one_of(st.none(), st.integers(0, 200_000)),
    last=st.one_of(st.none(), st.integers(0, 200_000)),
)
def test_any_single_range_is_answered_exactly(
    recording: Any, first: int | None, last: int | None
) -> None:
    """Outside input: whatever single range comes, the answer is 206 with exactly those bytes,
    416, or 400, never 5xx (RFC 9110 §14)."""
    client, url, body = recording
    size = len(body)
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    response = client.get(url, headers={"Range": header})
    if first is None and last is None:
        assert response.status_code == 400
    elif first is None:
        assert last is not None
        assert response.status_code == (416 if last == 0 else 206)
        if last:
            assert response.content == body[-last:]
    elif first >= size:
        assert response.status_code == 416
    elif last is not None and last < first:
        assert response.status_code == 400
    else:
        end = size if last is None else min(last + 1, size)
        assert response.status_code == 206 and response.content == body[first:end]
        assert response.headers["content-range"] == f"bytes {first}-{end - 1}/{size}"


def test_a_directory_or_missing_file_is_not_served(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        recording_response(tmp_path)  # the route answers 404
    with pytest.raises(FileNotFoundError):
        recording_response(tmp_path / "gone.wav")


# --- percentiles: numpy -----------------------------------------------------------------

samples = st.lists(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)


def test_percentile_by_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([0.4], 99) == 0.4
    thirteen = [float(n) for n in range(1, 14)]
    assert percentile(thirteen, 95) == 13.0  # the rounded index said 12: only 92 % ≤ 12
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0  # lower median: 2 of 4 are ≤ 2
    assert percentile([4.0, 1.0, 3.0, 2.0], 0) == 1.0 and percentile([1.0, 9.0], 100) == 9.0
    assert type(percentile([1, 2, 3], 50)) is float  # JSON and Prometheus take it as it is


@settings(max_examples=300, deadline=None)
@given(values=samples, q=st.integers(0, 100))
def test_percentile_is_numpys_nearest_rank(values: list[float], q: int) -> None:
    result = percentile(values, q)
    assert result == float(np.percentile(values, q, method="inverted_cdf"))
    assert result in values  # a delay some turn really had, never an interpolation
    n = len(values)
    # At least q % of the samples are at or under it (exact arithmetic; q and n are
    # integers so numpy's float rounding cannot cross a rank boundary the wrong way)…
    assert sum(v <= result for v in values) * 100 >= q * n
    # …and no smaller sample would do (at most q % lie strictly under it).
    assert sum(v < result for v in values) * 100 <= q * n


@settings(max_examples=300, deadline=None)
@given(values=samples, q1=st.floats(0, 100), q2=st.floats(0, 100))
def test_percentile_is_monotone_in_q(values: list[float], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    lower, upper = percentile(values, low), percentile(values, high)
    assert lower is not None and upper is not None
    assert min(values) <= lower <= upper <= max(values)


def test_percentile_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], 101)


# --- the load report's axes: matplotlib's tick locator ----------------------------------


def _assert_nice(ticks: list[float], low: float, high: float, tight: bool = True) -> None:
    assert 2 <= len(ticks) <= 10, ticks
    step = ticks[1] - ticks[0]
    assert step > 0
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10)), ticks
    for i, tick in enumerate(ticks):
        assert math.isclose(tick, ticks[0] + i * step, rel_tol=1e-9, abs_tol=step * 1e-9)
        assert math.isclose(tick / step, round(tick / step), abs_tol=1e-6), ticks  # multiples
    # The data lies inside the axis (to a billionth of a step: the locator's own tolerance
    # for float noise, invisible on a plot)…
    slack = step * 1e-9
    assert ticks[0] <= low + slack and ticks[-1] >= high - slack
    if tight:  # …and the axis goes no tick further
        assert ticks[1] > low - slack and ticks[-2] < high + slack


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 1050, [0, 250, 500, 750, 1000, 1250]),  # the histogram: was 0, 262.5, 525…
        (0, 7, [0, 2, 4, 6, 8]),
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (0, 0.3, [0, 0.1, 0.2, 0.3]),
    ],
)
def test_nice_ticks_on_the_report_ranges(low: float, high: float, expected: list[float]) -> None:
    ticks = plots.nice_ticks(low, high)
    assert ticks == pytest.approx(expected)
    assert [plots.tick_label(t) for t in ticks][:3] == [plots.tick_label(e) for e in expected][:3]


def test_nice_ticks_edge_cases() -> None:
    assert plots.nice_ticks(0, 0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1])  # idle run
    single = plots.nice_ticks(42.0, 42.0)  # one point
    _assert_nice(single, 42.0, 42.0, tight=False)
    assert single[0] < 42.0 < single[-1]  # mid-axis, not on its edge
    huge = plots.nice_ticks(0, 3.7e12)
    _assert_nice(huge, 0, 3.7e12)
    assert plots.tick_label(huge[1]) == "1e+12"
    counts = plots.nice_ticks(0, 3, integer=True)  # turns per bin: no 0.5 turns
    assert all(t == int(t) for t in counts) and counts[-1] >= 3
    assert plots.tick_label(0.1 + 0.2) == "0.3"
    with pytest.raises(ValueError):
        plots.nice_ticks(0, math.inf)


@settings(max_examples=300, deadline=None)
@given(
    low=st.floats(-1e9, 1e9, allow_nan=False),
    width=st.floats(1e-3, 1e9, allow_nan=False),
)
def test_nice_ticks_are_nice_and_cover_the_data(low: float, width: float) -> None:
    high = low + width
    if high - low < abs(high) * 1e-6:
        return  # a width lost in the float's precision: the zero-range case above
    _assert_nice(plots.nice_ticks(low, high), low, high)


def test_the_report_plots_carry_the_nice_ticks() -> None:
    series = {
        "active_calls": [[0.0, 0], [12.5, 7], [61.0, 3]],
        "server_calls": [[0.0, 0], [12.5, 6]],
        "turns": [[1.0, 420.0, True], [30.0, 1900.0, False]],
    }
    svg = plots.concurrency_svg(series)
    x_ticks = [float(t) for t in re.findall(r'class="x-tick"[^>]*>([^<]+)<', svg)]
    y_ticks = [float(t) for t in re.findall(r'class="y-tick"[^>]*>([^<]+)<', svg)]
    _assert_nice(x_ticks, 0, 61.0)
    _assert_nice(y_ticks, 0, 7)
    histogram = plots.latency_histogram_svg([420.0, 1900.0, 5000.0])
    x_ticks = [float(t) for t in re.findall(r'class="x-tick"[^>]*>([^<]+)<', histogram)]
    # 61 bins of 50 ms up to 3 s (the last: "and above"), so the axis ends at 3050 ms.
    assert x_ticks == [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]
    dots = plots.latency_over_time_svg(series)
    assert dots.count("<circle") == 2 and "y-tick" in dots
    assert plots.latency_histogram_svg([]).count("no turns") == 1


def test_the_report_is_written_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from callbot.loadtest import report

    monkeypatch.setitem(sys.modules, "matplotlib.ticker", None)  # import → ImportError
    assert not plots.available()
    with pytest.raises(plots.PlotsUnavailable):
        plots.nice_ticks(0, 1)
    figures = report.Figures(
        label="no plots", wall_s=1.0, behaviours={}, asr={}, mean_call_s=None,
        calls=dict.fromkeys(("offered", "answered", "completed", "incomplete", "failed"), 0),
        tickets={"checked": 0, "match_script": 0},
        turn_latency_client_ms={}, turn_latency_server_ms={},
        late_audio={"client_gaps_over_40ms": 0, "client_calls_with_gaps": 0},
        cost=dict.fromkeys(("server_cpu_s", "server_cores_used", "cpu_s_per_completed_call",
                            "peak_rss_mib", "load_average_at_end")),
        concurrency={"max": 0, "mean": 0},
        series={"turns": [[1.0, 420.0, True]]},
    )  # fmt: skip
    with caplog.at_level("WARNING"):
        _, html_path = report.write_reports([figures], tmp_path)
    page = html_path.read_text()
    assert "<svg" not in page and "callbot-1022[loadtest]" in page
    assert "callbot-1022[loadtest]" in caplog.text


# --- the schema: the project's own migration runner (docs/store.md: why not a tool) -----


_OPEN_AT = """
import asyncio, logging, sys, time
from callbot.tickets.store.factory import open_store
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
async def main() -> None:
    while time.time() < float(sys.argv[2]):  # both processes open the store at once
        await asyncio.sleep(0.002)
    async with open_store(sys.argv[1]) as store:
        async with store._transaction("test", write=False) as tx:
            rows = await tx.fetch("SELECT version FROM schema_migrations ORDER BY version")
    print(",".join(str(row["version"]) for row in rows))
asyncio.run(main())
"""


async def test_two_processes_opening_a_new_store_at_once_migrate_once(store_url: str) -> None:
    """What PostgreSQL's advisory lock and SQLite's BEGIN IMMEDIATE are for: two machines
    (or two workers) starting together on an empty database."""
    start_at = f"{time.time() + 4:.3f}"  # after both interpreters have imported the store
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_AT,
            store_url,
            start_at,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 60) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    expected = ",".join(str(step.version) for step in all_migrations())
    assert [out.decode().strip() for out, _ in outputs] == [expected, expected]
    applied = [
        line
        for _, err in outputs
        for line in err.decode().splitlines()
        if "applied migration" in line
    ]
    assert len(applied) == len(all_migrations())  # every step once, by one of the two


def _steps(monkeypatch: pytest.MonkeyPatch, steps: list[Migration]) -> None:
    for engine in ("sqlite", "postgres"):
        monkeypatch.setattr(f"callbot.tickets.store.{engine}.all_migrations", lambda: steps)


async def test_an_old_schema_with_rows_is_brought_up_to_date(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that stopped at 0001 with a ticket in it: every later step applies on top
    of the row, which then reads with the later columns' defaults."""
    _steps(monkeypatch, all_migrations()[:1])
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    async with (
        open_store(store_url) as old,
        old._transaction("test", write=True) as tx,  # type: ignore[attr-defined]
    ):
        rows = await tx.fetch(
                "INSERT INTO tickets (channel, description, requested_datetime,"
                " updated_datetime) VALUES (?, ?, ?, ?) RETURNING id",
                "web", "đèn đường hỏng", old._dt_in(now), old._dt_in(now),  # type: ignore[attr-defined]
            )  # fmt: skip
    ticket_id = int(rows[0]["id"])
    monkeypatch.undo()
    async with open_store(store_url) as current:
        ticket = await current.get_ticket(ticket_id)
        async with current._transaction("test", write=False) as tx:  # type: ignore[attr-defined]
            versions = [
                r["version"] for r in await tx.fetch("SELECT version FROM schema_migrations")
            ]
    assert ticket is not None and ticket.description == "đèn đường hỏng"
    assert ticket.channel == Channel.WEB and ticket.requested_datetime == now
    assert sorted(versions) == [step.version for step in all_migrations()]


async def test_a_failing_step_leaves_nothing_behind(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_store(store_url) as first:
        ticket = await first.begin_call(CallRecord(str(uuid.uuid4()), datetime.now(UTC)))
    broken = Migration(
        9999,
        "broken",
        "CREATE TABLE probe_9999 (x INTEGER);\nSELECT no_such_column FROM probe_9999;",
        "CREATE TABLE probe_9999 (x integer); SELECT no_such_column FROM probe_9999;",
    )
    _steps(monkeypatch, [*all_migrations(), broken])
    with pytest.raises(Exception, match="no_such_column"):
        await open_store(store_url)
    monkeypatch.undo()
    async with open_store(store_url) as again:  # the real steps: nothing left to apply
        assert await again.get_ticket(ticket.id) == ticket
        async with again._transaction("test", write=False) as tx:  # type: ignore[attr-defined]
            versions = [
                r["version"] for r in await tx.fetch("SELECT version FROM schema_migrations")
            ]
            with pytest.raises(Exception, match="probe_9999"):
                await tx.fetch("SELECT x FROM probe_9999")  # the step's first half rolled back
    assert 9999 not in versions
