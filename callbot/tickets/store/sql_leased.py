"""The claim under a lease that the agency outbox (sql_outbox.py) and the callers'
notifications (sql_notify.py) share.

Claiming counts the attempt and pushes ``next_attempt_at`` a lease ahead, so other workers
(this machine's or another's) skip the row, and a worker that dies mid-send leaves it to be
retried when the lease runs out. The outer WHERE repeats the condition so that on
PostgreSQL a second worker blocked on the same rows re-checks them after the first commits
and claims none of them twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callbot.tickets.model import utcnow
from callbot.tickets.store.sql_base import Row, SqlStoreBase, _fetchrow


class LeasedQueueMixin(SqlStoreBase):
    async def _claim_due(self, table: str, pending: str, limit: int, lease_s: float) -> list[Row]:
        """Claim up to ``limit`` due rows of a leased queue (``table`` is one of ours, never
        input): count the attempt and push ``next_attempt_at`` a lease ahead."""
        now = utcnow()
        due = self._dt_in(now)
        async with self._transaction(f"claim_{table}", write=True) as tx:
            return await tx.fetch(
                f"""
                UPDATE {table}
                SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
                WHERE id IN (SELECT id FROM {table}
                             WHERE status = ? AND next_attempt_at <= ?
                             ORDER BY next_attempt_at, id
                             LIMIT ?)
                  AND status = ? AND next_attempt_at <= ?
                RETURNING *
                """,
                self._dt_in(now + timedelta(seconds=lease_s)),
                due,
                pending,
                due,
                limit,
                pending,
                due,
            )

    async def _earliest_due(self, table: str, pending: str) -> datetime | None:
        async with self._transaction(f"next_{table}_due", write=False) as tx:
            row = await _fetchrow(
                tx, f"SELECT MIN(next_attempt_at) AS due FROM {table} WHERE status = ?", pending
            )
        return self._dt_out(row["due"]) if row is not None and row["due"] is not None else None
