"""The overview page's figures, computed in SQL over one period (the last day by default).

Tickets come from several channels (``voice``: the callbot's calls; ``web``: Open311
requests; ``chat``; others may be added). Counting them all as calls overstated the calls
and mixed a web form's completeness into the bot's (issue 16), so the totals are kept per
channel and the call figures (calls, completeness, hand-backs) are over voice tickets only.
A channel without a label is still counted and shown under its own code.

Grouping by hour is done in SQL on UTC hours (SQLite: the first 13 characters of the
fixed-width ISO text; PostgreSQL: ``date_trunc``), then shifted to local time in Python, so
one query serves every time zone and at most 24 × 31 rows cross the wire.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callbot.tickets.model import Channel
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.dashboard.queries import is_postgres
from callbot.web.dashboard.roles import User, agency_scope

AGE_BUCKETS = (  # (label, younger than)
    ("Dưới 1 ngày", timedelta(days=1)),
    ("1–3 ngày", timedelta(days=3)),
    ("3–7 ngày", timedelta(days=7)),
    ("Trên 7 ngày", None),
)
TOP = 15


VOICE = str(Channel.VOICE)


@dataclass
class Overview:
    since: datetime
    calls: int = 0  # voice tickets only: one per call the bot answered
    ended: int = 0  # of those, calls that ended
    complete: int = 0  # of those, calls whose ticket is complete
    handed_back: int = 0
    # every channel's ticket count, voice first, then by count (unknown channels included)
    per_channel: list[tuple[str, int]] = field(default_factory=list)
    per_hour: list[tuple[datetime, int]] = field(default_factory=list)
    by_admin_unit: list[tuple[str | None, int]] = field(default_factory=list)
    by_case_type: list[tuple[str | None, int]] = field(default_factory=list)
    # per age bucket: (within SLA, overdue, no SLA set)
    open_by_age: list[tuple[str, int, int, int]] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        return self.complete / self.ended if self.ended else None

    @property
    def tickets(self) -> int:
        return sum(n for _, n in self.per_channel)


async def compute(store: SqlTicketStore, user: User, since: datetime, now: datetime) -> Overview:
    scope, scope_args = agency_scope(user)
    scope = f" AND {scope}" if scope else ""
    dt = store._dt_in
    hour = (
        "date_trunc('hour', requested_datetime AT TIME ZONE 'UTC')"
        if is_postgres(store)
        else "substr(requested_datetime, 1, 13)"
    )
    result = Overview(since=since)
    async with store._transaction("dashboard_overview", write=False) as tx:
        totals = await tx.fetch(
            f"""
            SELECT channel, count(*) AS tickets,
                   sum(CASE WHEN end_reason IS NOT NULL THEN 1 ELSE 0 END) AS ended,
                   sum(CASE WHEN complete THEN 1 ELSE 0 END) AS complete,
                   sum(CASE WHEN end_reason = 'handed_back' THEN 1 ELSE 0 END) AS handed_back
            FROM tickets
            WHERE requested_datetime >= ?{scope}
            GROUP BY channel
            """,
            dt(since),
            *scope_args,
        )
        for row in totals:
            channel, count = str(row["channel"]), int(row["tickets"] or 0)
            result.per_channel.append((channel, count))
            if channel == VOICE:
                result.calls = count
                result.ended = int(row["ended"] or 0)
                result.complete = int(row["complete"] or 0)
                result.handed_back = int(row["handed_back"] or 0)
        result.per_channel.sort(key=lambda item: (item[0] != VOICE, -item[1], item[0]))

        hours = await tx.fetch(
            f"""
            SELECT {hour} AS hour, count(*) AS n FROM tickets
            WHERE requested_datetime >= ? AND channel = ?{scope}
            GROUP BY 1 ORDER BY 1
            """,
            dt(since),
            VOICE,
            *scope_args,
        )
        result.per_hour = [(_hour(row["hour"]), int(row["n"])) for row in hours]

        for column, target in (
            ("admin_unit", result.by_admin_unit),
            ("service_code", result.by_case_type),
        ):
            rows = await tx.fetch(
                f"""
                SELECT {column} AS value, count(*) AS n FROM tickets
                WHERE requested_datetime >= ?{scope}
                GROUP BY {column} ORDER BY n DESC, {column} LIMIT {TOP}
                """,
                dt(since),
                *scope_args,
            )
            target.extend((row["value"], int(row["n"])) for row in rows)

        result.open_by_age = await _open_by_age(store, tx, now, scope, scope_args)
    return result


async def _open_by_age(
    store: SqlTicketStore, tx: Any, now: datetime, scope: str, scope_args: list[Any]
) -> list[tuple[str, int, int, int]]:
    cases, args = [], []
    for index, (_, younger_than) in enumerate(AGE_BUCKETS):
        if younger_than is not None:
            cases.append(f"WHEN requested_datetime >= ? THEN {index}")
            args.append(store._dt_in(now - younger_than))
    bucket = f"CASE {' '.join(cases)} ELSE {len(AGE_BUCKETS) - 1} END"
    rows = await tx.fetch(
        f"""
        SELECT {bucket} AS bucket,
               CASE WHEN expected_datetime IS NULL THEN 2
                    WHEN expected_datetime < ? THEN 1 ELSE 0 END AS sla,
               count(*) AS n
        FROM tickets
        WHERE status NOT IN ('resolved', 'closed', 'rejected'){scope}
        GROUP BY 1, 2
        """,
        *args,
        store._dt_in(now),
        *scope_args,
    )
    counts: Counter[tuple[int, int]] = Counter()
    for row in rows:
        counts[int(row["bucket"]), int(row["sla"])] += int(row["n"])
    return [
        (label, counts[index, 0], counts[index, 1], counts[index, 2])
        for index, (label, _) in enumerate(AGE_BUCKETS)
    ]


def _hour(value: Any) -> datetime:
    if isinstance(value, datetime):  # PostgreSQL: a naive UTC timestamp
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(f"{value}:00:00+00:00")


@dataclass(frozen=True)
class QueueView:
    name: str
    logged_in: int
    available: int
    paused: int
    waiting: int
    longest_wait_s: float


def queue_views(watcher: Any) -> list[QueueView] | None:
    """Live queue state from the AMI watcher, or None when there is no watcher."""
    if watcher is None:
        return None
    now = watcher.now()
    views = []
    for name in watcher.queues():
        state = watcher.state(name)
        views.append(
            QueueView(
                name=name,
                logged_in=state.logged_in,
                available=state.available,
                paused=state.paused,
                waiting=state.waiting,
                longest_wait_s=round(state.longest_wait_s(now), 1),
            )
        )
    return views


def overflow_share(watcher: Any, bot_calls: int, since: datetime) -> float | None:
    """Share of the line's calls the bot answered: needs the number human operators
    answered in the period, which an AMI watcher may offer as
    ``operator_answered_since(since) -> int | None``. None (shown as "no AMI figures")
    when it does not."""
    counter = getattr(watcher, "operator_answered_since", None)
    if counter is None:
        return None
    humans = counter(since)
    if humans is None or humans + bot_calls == 0:
        return None
    return bot_calls / (humans + bot_calls)
