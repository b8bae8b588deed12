"""The overview (figures and charts) and the replay log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from callbot.tickets.model import utcnow
from callbot.web.dashboard import charts, labels, overview
from callbot.web.dashboard.accounts_store import AccountStore
from callbot.web.dashboard.auth import Session, current_session
from callbot.web.dashboard.errors import DashboardError
from callbot.web.dashboard.queries import page_anchor
from callbot.web.dashboard.templating import render

router = APIRouter()

PERIODS = {"1": "24 giờ qua", "7": "7 ngày qua", "30": "30 ngày qua"}


@router.get("/overview")
async def overview_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    days = request.query_params.get("days", "1")
    days = days if days in PERIODS else "1"
    now = utcnow()
    since = now - timedelta(days=int(days))
    figures = await overview.compute(request.app.state.store, session.user, since, now)
    clock = labels.Clock(request.app.state.settings.web.timezone)
    watcher = getattr(request.app.state, "queue_watcher", None)

    per_time, label_every = _time_buckets(figures.per_hour, clock, since, now, hourly=days == "1")
    open_rows = [
        (
            label,
            [
                charts.Segment("trong hạn", within, "ok"),
                charts.Segment("quá hạn", overdue, "late"),
                charts.Segment("chưa có hạn", no_sla, "none"),
            ],
        )
        for label, within, overdue, no_sla in figures.open_by_age
    ]
    return render(
        request,
        "overview.html",
        {
            "session": session,
            "days": days,
            "periods": PERIODS,
            "figures": figures,
            "overflow_share": overview.overflow_share(watcher, figures.calls, since),
            "queues": overview.queue_views(watcher),
            "chart_time": charts.chart_pair(
                charts.columns, "Cuộc gọi theo thời gian", per_time, label_every=label_every
            ),
            "chart_units": charts.chart_pair(
                charts.horizontal_bars,
                "Phiếu theo địa bàn",
                [(unit or "Chưa rõ", n) for unit, n in figures.by_admin_unit],
            ),
            "chart_cases": charts.chart_pair(
                charts.horizontal_bars,
                "Phiếu theo loại yêu cầu",
                [
                    (labels.label(labels.CASE_TYPE, code) if code else "Chưa rõ", n)
                    for code, n in figures.by_case_type
                ],
            ),
            "chart_open": charts.chart_pair(
                charts.stacked_bars, "Phiếu đang mở theo tuổi", open_rows
            ),
        },
    )


def _time_buckets(
    per_hour: list[tuple[datetime, int]],
    clock: labels.Clock,
    since: datetime,
    now: datetime,
    *,
    hourly: bool,
) -> tuple[list[tuple[str, int]], int]:
    """Every hour (or local day) of the period, empty ones included, so the chart's axis
    is time and a quiet hour shows as a gap rather than disappearing."""

    def bucket(moment: datetime) -> datetime:
        local = clock.local(moment).replace(minute=0, second=0, microsecond=0)
        return local if hourly else local.replace(hour=0)

    step = timedelta(hours=1) if hourly else timedelta(days=1)
    counts: dict[datetime, int] = {}
    cursor = bucket(since)
    while cursor <= bucket(now):
        counts[cursor] = 0
        cursor = bucket(cursor + step)  # re-bucketed: a DST change cannot shift the grid
    for hour, n in per_hour:
        key = bucket(hour)
        counts[key] = counts.get(key, 0) + n
    fmt = "%H" if hourly else "%d/%m"
    items = [(key.strftime(fmt), n) for key, n in sorted(counts.items())]
    return items, 3 if hourly else max(1, len(items) // 10)


@router.get("/replays")
async def replays_page(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    if not session.user.sees_replays:
        raise DashboardError(403, "Chỉ quản trị và giám sát độc lập xem được nhật ký nghe lại.")
    before = page_anchor(request.query_params)
    limit = 100
    replays = await AccountStore(request.app.state.store).list_replays(
        before_id=before, limit=limit + 1
    )
    next_before = replays[limit - 1].id if len(replays) > limit else None
    return render(
        request,
        "replays.html",
        {"session": session, "replays": replays[:limit], "next_before": next_before},
    )
