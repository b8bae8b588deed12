"""Open311 service requests: tickets filed by other channels (web form, chat) and the
filtered lists the Open311 read endpoints serve.

Issue 5 (callbot/web/open311.py calls these; docs/tickets.md). A filed request is a ticket
with no call behind it, so it shares the ticket helpers of sql_base.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callbot.tickets.model import (
    SLOT_TICKET_FIELDS,
    Channel,
    EventKind,
    SlotValue,
    Ticket,
    TicketStatus,
    utcnow,
)
from callbot.tickets.store.sql_base import SqlStoreBase, _fetchrow, _slot_data, to_utc

log = logging.getLogger(__name__)


class Open311Mixin(SqlStoreBase):
    """File a request without a call; list requests by id, service, status and date."""

    # --- Open311: requests filed by other channels (web form, chat) ---------------------

    async def file_request(
        self,
        *,
        channel: Channel,
        service_code: str,
        description: str,
        slots: Sequence[SlotValue],
        complete: bool,
        actor: str,
    ) -> Ticket:
        """A ticket with no call behind it (``call_id`` is NULL), its slots set at once."""
        now = utcnow()
        async with self._transaction("file_request", write=True) as tx:
            row = await _fetchrow(
                tx,
                """
                INSERT INTO tickets (call_id, channel, status, complete, needs_callback,
                                     service_code, description, requested_datetime,
                                     updated_datetime)
                VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING id
                """,
                str(channel),
                str(TicketStatus.NEW),
                complete,
                False,
                service_code,
                description,
                self._dt_in(now),
                self._dt_in(now),
            )
            assert row is not None
            ticket_id = int(row["id"])
            await self._add_event(
                tx, ticket_id, actor, EventKind.CREATED, {"channel": str(channel)}, at=now
            )
            for slot in slots:
                await tx.fetch(
                    """
                    INSERT INTO ticket_slots (ticket_id, name, value, source, confidence,
                                              heard, set_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    ticket_id,
                    slot.name,
                    slot.value,
                    str(slot.source),
                    slot.confidence,
                    slot.heard,
                    self._dt_in(now),
                )
                column = SLOT_TICKET_FIELDS.get(slot.name)  # never from the request
                if column:
                    await tx.fetch(
                        f"UPDATE tickets SET {column} = ? WHERE id = ?", slot.value, ticket_id
                    )
                data = {**_slot_data(slot), "old": None}
                await self._add_event(tx, ticket_id, actor, EventKind.SLOT_SET, data, at=now)
            ticket = await self._reload(tx, ticket_id)
        log.info("ticket %d filed on the %s channel", ticket.id, channel)
        return ticket

    async def list_requests(
        self,
        *,
        ids: Sequence[int] = (),
        service_codes: Sequence[str] = (),
        statuses: Sequence[TicketStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Ticket]:
        """Tickets matching every filter given (a list matches any of its values), newest
        first, without their slots: the Open311 read endpoints need only ticket fields."""
        clauses: list[str] = []
        args: list[Any] = []
        for column, values in (
            ("id", list(ids)),
            ("service_code", list(service_codes)),
            ("status", [str(s) for s in statuses]),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        if since is not None:
            clauses.append("requested_datetime >= ?")
            args.append(self._dt_in(to_utc(since)))
        if until is not None:
            clauses.append("requested_datetime < ?")
            args.append(self._dt_in(to_utc(until)))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        async with self._transaction("list_requests", write=False) as tx:
            rows = await tx.fetch(
                f"""
                SELECT * FROM tickets {where}
                ORDER BY requested_datetime DESC, id DESC LIMIT ?
                """,
                *args,
                limit,
            )
        return [self._ticket(row, {}) for row in rows]
