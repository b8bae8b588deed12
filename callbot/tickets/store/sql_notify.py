"""Messages to the caller (issue 18): consent on the ticket and the ``notifications`` queue.

The same shape as the agency outbox (sql_outbox.py): one row per (ticket, event) under a
unique key, claimed under a lease that counts the attempt, finished with the attempt count
as the claim token. Rows are enqueued inside the transaction that changes the ticket
(``enqueue_notification``, called by ``set_routing``/``change_status``), so a status change
and its message are stored together or not at all. Drives callbot/tickets/notify/worker.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from callbot.tickets.model import EventKind, Ticket, TicketStatus, utcnow
from callbot.tickets.notify.base import (
    Notification,
    NotificationStatus,
    NotifyChannel,
    NotifyEvent,
    notification_key,
)
from callbot.tickets.store.sql_base import Row, SqlStoreBase, Tx, _fetchrow, to_utc
from callbot.tickets.store.sql_leased import LeasedQueueMixin

NOTIFY_ACTOR = "notify"
# A receipt is worth sending while the request is still being handled.
RECEIPT_STATUSES = frozenset({TicketStatus.ROUTED, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})
RESOLUTION_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


async def enqueue_notification(
    store: SqlStoreBase, tx: Tx, ticket_id: int, event: NotifyEvent, now: datetime
) -> bool:
    """Queue the event's message if the caller consented; True when a row was added.

    ``ON CONFLICT DO NOTHING`` on the key: resolved then closed, or a change retried, is
    still one message."""
    row = await _fetchrow(
        tx,
        "SELECT notify_consent, notify_channel, purged_at FROM tickets WHERE id = ?",
        ticket_id,
    )
    if row is None or not row["notify_consent"] or row["purged_at"] is not None:
        return False
    channel = NotifyChannel(row["notify_channel"] or NotifyChannel.SMS)
    at = store._dt_in(now)
    added = await tx.fetch(
        """
        INSERT INTO notifications (idempotency_key, ticket_id, event, channel, status,
                                   next_attempt_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
        """,
        notification_key(ticket_id, event),
        ticket_id,
        str(event),
        str(channel),
        str(NotificationStatus.PENDING),
        at,
        at,
        at,
    )
    return bool(added)


async def purge_notifications(store: SqlStoreBase, tx: Tx, ticket_id: int) -> int:
    """Retention: forget the consent, cancel what is unsent, drop the provider's ids and
    errors. Returns how many rows were touched."""
    await tx.fetch(
        "UPDATE tickets SET notify_consent = NULL, notify_channel = NULL WHERE id = ?",
        ticket_id,
    )
    rows = await tx.fetch(
        """
        UPDATE notifications
        SET status = CASE WHEN status = ? THEN ? ELSE status END,
            provider_message_id = NULL, last_error = NULL, updated_at = ?
        WHERE ticket_id = ?
        RETURNING id
        """,
        str(NotificationStatus.PENDING),
        str(NotificationStatus.CANCELLED),
        store._dt_in(utcnow()),
        ticket_id,
    )
    return len(rows)


class NotifyMixin(LeasedQueueMixin):
    """Consent, and enqueue/claim/finish the caller's messages."""

    async def set_notify_consent(
        self,
        ticket_id: int,
        consent: bool,
        channel: NotifyChannel = NotifyChannel.SMS,
        *,
        actor: str,
    ) -> Ticket:
        """What the caller answered (the dialog at readback; a supervisor; Open311).

        Yes on a ticket already routed queues its receipt now; no cancels what is unsent."""
        now = utcnow()
        channel = NotifyChannel(channel)
        async with self._transaction("set_notify_consent", write=True) as tx:
            status = await self._require_ticket(tx, ticket_id)
            await tx.fetch(
                "UPDATE tickets SET notify_consent = ?, notify_channel = ? WHERE id = ?",
                consent,
                str(channel),
                ticket_id,
            )
            data = {"consent": consent, "channel": str(channel)}
            await self._add_event(tx, ticket_id, actor, EventKind.NOTIFY_CONSENT, data, at=now)
            if consent and status in RECEIPT_STATUSES:
                await enqueue_notification(self, tx, ticket_id, NotifyEvent.RECEIPT, now)
            if not consent:
                await tx.fetch(
                    "UPDATE notifications SET status = ?, updated_at = ? "
                    "WHERE ticket_id = ? AND status = ?",
                    str(NotificationStatus.CANCELLED),
                    self._dt_in(now),
                    ticket_id,
                    str(NotificationStatus.PENDING),
                )
            return await self._reload(tx, ticket_id)

    async def claim_notifications(self, *, limit: int, lease_s: float) -> list[Notification]:
        """As ``claim_deliveries``: count the attempt, push the row a lease ahead."""
        rows = await self._claim_due(
            "notifications", str(NotificationStatus.PENDING), limit, lease_s
        )
        return sorted((self._notification(row) for row in rows), key=lambda n: n.id)

    async def next_notification_due(self) -> datetime | None:
        return await self._earliest_due("notifications", str(NotificationStatus.PENDING))

    async def finish_notification(
        self,
        notification: Notification,
        status: NotificationStatus,
        *,
        code: str | None,
        error: str | None = None,
        message_id: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Record one attempt's outcome; False when another worker re-claimed the row."""
        now = utcnow()
        sent = status is NotificationStatus.SENT
        # A sent message is recorded even if our lease ran out: the provider has it.
        claim = "" if sent else " AND status = ? AND attempts = ?"
        claim_args = () if sent else (str(NotificationStatus.PENDING), notification.attempts)
        async with self._transaction("finish_notification", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE notifications
                SET status = ?, last_code = ?, last_error = ?,
                    provider_message_id = COALESCE(?, provider_message_id),
                    next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ?,
                    sent_at = CASE WHEN ? THEN ? ELSE sent_at END
                WHERE id = ? AND status <> ?{claim}
                RETURNING id
                """,
                str(status),
                code,
                error,
                message_id,
                self._dt_in(to_utc(next_attempt_at)) if next_attempt_at else None,
                self._dt_in(now),
                sent,
                self._dt_in(now),
                notification.id,
                str(NotificationStatus.SENT),
                *claim_args,
            )
            if rows and status in (NotificationStatus.SENT, NotificationStatus.FAILED):
                data = {
                    "event": str(notification.event),
                    "channel": str(notification.channel),
                    "outcome": str(status),
                    "attempts": notification.attempts,
                    "code": code,
                }
                await self._add_event(
                    tx, notification.ticket_id, NOTIFY_ACTOR, EventKind.NOTIFICATION, data, at=now
                )
        return bool(rows)

    async def list_notifications(
        self,
        status: NotificationStatus | None = None,
        *,
        ticket_id: int | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        clauses, args = [], []
        if status is not None:
            clauses.append("status = ?")
            args.append(str(NotificationStatus(status)))
        if ticket_id is not None:
            clauses.append("ticket_id = ?")
            args.append(ticket_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._transaction("list_notifications", write=False) as tx:
            rows = await tx.fetch(
                f"SELECT * FROM notifications {where} ORDER BY id DESC LIMIT ?", *args, limit
            )
        return [self._notification(row) for row in rows]

    async def retry_notifications(self, ids: Sequence[int]) -> int:
        """Failed messages back in the queue, due now, with a fresh attempt count."""
        if not ids:
            return 0
        now = self._dt_in(utcnow())
        marks = ", ".join("?" * len(ids))
        async with self._transaction("retry_notifications", write=True) as tx:
            rows = await tx.fetch(
                f"""
                UPDATE notifications SET status = ?, attempts = 0, next_attempt_at = ?,
                                         updated_at = ?
                WHERE id IN ({marks}) AND status = ?
                RETURNING id
                """,
                str(NotificationStatus.PENDING),
                now,
                now,
                *ids,
                str(NotificationStatus.FAILED),
            )
        return len(rows)

    def _notification(self, row: Row) -> Notification:
        def moment(column: str) -> datetime | None:
            return self._dt_out(row[column]) if row[column] is not None else None

        return Notification(
            id=int(row["id"]),
            idempotency_key=row["idempotency_key"],
            ticket_id=int(row["ticket_id"]),
            event=NotifyEvent(row["event"]),
            channel=NotifyChannel(row["channel"]),
            status=NotificationStatus(row["status"]),
            attempts=int(row["attempts"]),
            next_attempt_at=self._dt_out(row["next_attempt_at"]),
            last_code=row["last_code"],
            last_error=row["last_error"],
            provider_message_id=row["provider_message_id"],
            created_at=self._dt_out(row["created_at"]),
            updated_at=self._dt_out(row["updated_at"]),
            sent_at=moment("sent_at"),
        )
