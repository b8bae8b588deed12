"""Agency deliveries: the outbox that hands routed tickets to the agencies' webhooks.

Issue 5 (callbot/tickets/outbox.py drives these queries; docs/tickets.md). One row per
agency and routing version, claimed under a lease so several workers on several machines
can share the queue, and finished with the attempt count as the claim token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from callbot.tickets.deliveries import AgencyTarget, Delivery, DeliveryStatus, idempotency_key
from callbot.tickets.model import EventKind, TicketStatus, utcnow
from callbot.tickets.store.sql_base import Row, Tx, _fetchrow, to_utc
from callbot.tickets.store.sql_leased import LeasedQueueMixin

OUTBOX_ACTOR = "outbox"  # issue 5


class OutboxMixin(LeasedQueueMixin):
    """Enqueue, claim and finish agency deliveries; list and retry them."""

    # --- Outbox -------------------------------------------------------------------------

    async def enqueue_deliveries(
        self, ticket_id: int, targets: Sequence[AgencyTarget]
    ) -> list[Delivery]:
        """One delivery per agency for the ticket's current routing; returns them.

        The routing version is the number of ``routed`` events, so a re-route gets new
        idempotency keys and the undelivered rows of older versions become ``superseded``.
        Enqueueing the same routing again inserts nothing (the keys are unique).
        """
        now = utcnow()
        async with self._transaction("enqueue_deliveries", write=True) as tx:
            await self._require_ticket(tx, ticket_id)
            version = await self._routing_version(tx, ticket_id)
            await tx.fetch(
                """
                UPDATE outbox SET status = ?, updated_at = ?
                WHERE ticket_id = ? AND routing_version < ? AND status = ?
                """,
                str(DeliveryStatus.SUPERSEDED),
                self._dt_in(now),
                ticket_id,
                version,
                str(DeliveryStatus.PENDING),
            )
            for target in targets:
                status = DeliveryStatus.PENDING if target.has_webhook else DeliveryStatus.LOCAL
                await tx.fetch(
                    """
                    INSERT INTO outbox (idempotency_key, ticket_id, routing_version, agency_id,
                                        agency_name, status, next_attempt_at, created_at,
                                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """,
                    idempotency_key(ticket_id, target.agency_id, version),
                    ticket_id,
                    version,
                    target.agency_id,
                    target.agency_name,
                    str(status),
                    self._dt_in(now),
                    self._dt_in(now),
                    self._dt_in(now),
                )
            rows = await tx.fetch(
                "SELECT * FROM outbox WHERE ticket_id = ? AND routing_version = ? ORDER BY id",
                ticket_id,
                version,
            )
        return [self._delivery(row) for row in rows]

    async def claim_deliveries(self, *, limit: int, lease_s: float) -> list[Delivery]:
        """Take up to ``limit`` due deliveries for one attempt each.

        Claiming counts the attempt and pushes ``next_attempt_at`` a lease ahead, so other
        workers (this machine's or another's) skip the row, and a worker that dies mid-POST
        leaves it to be retried when the lease runs out. The outer WHERE repeats the
        condition so that on PostgreSQL a second worker blocked on the same rows re-checks
        them after the first commits and claims none of them twice.
        """
        rows = await self._claim_due("outbox", str(DeliveryStatus.PENDING), limit, lease_s)
        return sorted((self._delivery(row) for row in rows), key=lambda d: d.id)

    async def next_delivery_due(self) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing pending)."""
        return await self._earliest_due("outbox", str(DeliveryStatus.PENDING))

    async def mark_delivered(self, delivery: Delivery, *, status_code: int) -> None:
        # Unconditional: even if this worker's lease ran out meanwhile, the agency has it.
        await self._finish_delivery(
            delivery, DeliveryStatus.DELIVERED, status_code, None, None, require_claim=False
        )

    async def mark_retry(
        self,
        delivery: Delivery,
        *,
        next_attempt_at: datetime,
        status_code: int | None,
        error: str,
    ) -> None:
        await self._finish_delivery(
            delivery, DeliveryStatus.PENDING, status_code, error, next_attempt_at
        )

    async def mark_failed(self, delivery: Delivery, *, status_code: int | None, error: str) -> None:
        await self._finish_delivery(delivery, DeliveryStatus.FAILED, status_code, error, None)

    async def list_deliveries(
        self,
        status: DeliveryStatus | None = None,
        *,
        ticket_id: int | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Newest first; ``status=failed`` is what an operator must look at."""
        clauses, args = [], []
        if status is not None:
            clauses.append("status = ?")
            args.append(str(DeliveryStatus(status)))
        if ticket_id is not None:
            clauses.append("ticket_id = ?")
            args.append(ticket_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._transaction("list_deliveries", write=False) as tx:
            rows = await tx.fetch(
                f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", *args, limit
            )
        return [self._delivery(row) for row in rows]

    async def retry_deliveries(self, delivery_ids: Sequence[int]) -> int:
        """Put failed deliveries back in the queue, due now, with a fresh attempt count."""
        if not delivery_ids:
            return 0
        now = self._dt_in(utcnow())
        marks = ", ".join("?" * len(delivery_ids))
        async with self._transaction("retry_deliveries", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE outbox
                SET status = ?, attempts = 0, next_attempt_at = ?, updated_at = ?
                WHERE id IN ({marks}) AND status = ?
                RETURNING id
                """,
                str(DeliveryStatus.PENDING),
                now,
                now,
                *delivery_ids,
                str(DeliveryStatus.FAILED),
            )
        return len(rows)

    async def tickets_to_route(self, *, limit: int = 100) -> list[int]:
        """Complete tickets still ``new`` with a place: the process that should have routed
        them died between ``end_call`` and routing (or a callback completed them). A ticket
        linked to a household's case is never routed (sql_cases.py)."""
        async with self._transaction("tickets_to_route", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT id FROM tickets
                WHERE status = ? AND complete = ? AND admin_unit IS NOT NULL
                  AND case_id IS NULL
                ORDER BY id LIMIT ?
                """,
                str(TicketStatus.NEW),
                True,
                limit,
            )
        return [int(row["id"]) for row in rows]

    async def routed_without_deliveries(self, *, limit: int = 100) -> list[int]:
        """Routed tickets whose current routing has no outbox rows (died after routing)."""
        async with self._transaction("routed_without_deliveries", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT t.id FROM tickets t
                WHERE t.status = ?
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox o
                      WHERE o.ticket_id = t.id
                        AND o.routing_version = (SELECT COUNT(*) FROM ticket_events e
                                                 WHERE e.ticket_id = t.id AND e.kind = ?))
                ORDER BY t.id LIMIT ?
                """,
                str(TicketStatus.ROUTED),
                str(EventKind.ROUTED),
                limit,
            )
        return [int(row["id"]) for row in rows]

    async def _finish_delivery(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        *,
        require_claim: bool = True,
    ) -> None:
        now = utcnow()
        # The attempt count is the claim token: a worker whose lease ran out and whose row
        # another worker re-claimed must not overwrite that worker's outcome.
        claim = " AND status = ? AND attempts = ?" if require_claim else ""
        claim_args = (str(DeliveryStatus.PENDING), delivery.attempts) if require_claim else ()
        async with self._transaction("finish_delivery", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE outbox
                SET status = ?, last_status = ?, last_error = ?,
                    next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ?,
                    delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END
                WHERE id = ?{claim}
                RETURNING id
                """,
                str(status),
                status_code,
                error,
                self._dt_in(to_utc(next_attempt_at)) if next_attempt_at else None,
                self._dt_in(now),
                status is DeliveryStatus.DELIVERED,
                self._dt_in(now),
                delivery.id,
                *claim_args,
            )
            if rows and status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
                data = {
                    "agency": delivery.agency_name,
                    "agency_id": delivery.agency_id,
                    "outcome": str(status),
                    "attempts": delivery.attempts,
                    "status_code": status_code,
                    "routing_version": delivery.routing_version,
                }
                await self._add_event(
                    tx, delivery.ticket_id, OUTBOX_ACTOR, EventKind.DELIVERY, data, at=now
                )

    async def _routing_version(self, tx: Tx, ticket_id: int) -> int:
        row = await _fetchrow(
            tx,
            "SELECT COUNT(*) AS n FROM ticket_events WHERE ticket_id = ? AND kind = ?",
            ticket_id,
            str(EventKind.ROUTED),
        )
        return int(row["n"]) if row is not None else 0

    def _delivery(self, row: Row) -> Delivery:
        def moment(column: str) -> datetime | None:
            return self._dt_out(row[column]) if row[column] is not None else None

        return Delivery(
            id=int(row["id"]),
            idempotency_key=row["idempotency_key"],
            ticket_id=int(row["ticket_id"]),
            routing_version=int(row["routing_version"]),
            agency_id=row["agency_id"],
            agency_name=row["agency_name"],
            status=DeliveryStatus(row["status"]),
            attempts=int(row["attempts"]),
            next_attempt_at=self._dt_out(row["next_attempt_at"]),
            last_status=row["last_status"],
            last_error=row["last_error"],
            created_at=self._dt_out(row["created_at"]),
            updated_at=self._dt_out(row["updated_at"]),
            delivered_at=moment("delivered_at"),
        )
