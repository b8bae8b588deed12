"""Text conversations in the ticket store (migration ``0009_conversations``): the dialog
state of each (channel, user), the event ids a channel already delivered, and a channel's
API tokens.

Written against the shared store's transaction helper (as the dashboard's ``AccountStore``
is), so the same SQL runs on SQLite and PostgreSQL in the store's own connections, and the
store classes need no new mixin. The conversation's turns, slots and ticket are written by
the ordinary call-path methods (``begin_call``, ``append_turn``, ``set_slot``, ``end_call``);
this module keeps only what a text channel adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbot.tickets.store.base import StoreError
from callbot.tickets.store.sql_store import ConstraintError, Row, SqlTicketStore, Tx, to_utc


class ConversationConflict(StoreError):
    """Another process saved this conversation since it was loaded: reload and redo."""


@dataclass(frozen=True)
class StoredConversation:
    channel: str
    user_id: str
    call_id: str
    ticket_id: int
    state: str  # the dialog state as JSON (callbot.channels.state_codec)
    version: int
    done: bool
    updated_at: datetime


@dataclass(frozen=True)
class ChannelToken:
    access_token: str
    refresh_token: str
    expires_at: datetime


class ConversationStore:
    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store

    def _dt(self, moment: datetime) -> Any:
        return self._store._dt_in(to_utc(moment))

    def _conversation(self, row: Row) -> StoredConversation:
        return StoredConversation(
            channel=row["channel"],
            user_id=row["user_id"],
            call_id=row["call_id"],
            ticket_id=int(row["ticket_id"]),
            state=row["state"],
            version=int(row["version"]),
            done=bool(row["done"]),
            updated_at=self._store._dt_out(row["updated_at"]),
        )

    async def load(self, channel: str, user_id: str) -> StoredConversation | None:
        async def body(tx: Tx, _retried: bool) -> StoredConversation | None:
            rows = await tx.fetch(
                "SELECT * FROM conversations WHERE channel = ? AND user_id = ?", channel, user_id
            )
            return self._conversation(rows[0]) if rows else None

        return await self._store._write("load_conversation", body, write=False)

    async def save(
        self,
        conversation: StoredConversation,
        *,
        expected_version: int | None,
        event_id: str | None = None,
    ) -> None:
        """Write the conversation if nobody saved it since ``expected_version`` was read
        (None: there was no row); with ``event_id``, record that event in the same
        transaction, so "handled" and "state saved" are one fact."""

        async def body(tx: Tx, retried: bool) -> None:
            rows = await tx.fetch(
                "SELECT version, call_id FROM conversations WHERE channel = ? AND user_id = ?",
                conversation.channel,
                conversation.user_id,
            )
            found = int(rows[0]["version"]) if rows else None
            if (
                retried
                and found == conversation.version
                and rows[0]["call_id"] == (conversation.call_id)
            ):
                return  # the attempt before committed; its answer was lost
            if found != expected_version:
                raise ConversationConflict(
                    f"conversation on {conversation.channel} changed (version {found})"
                )
            args = (
                conversation.call_id,
                conversation.ticket_id,
                conversation.state,
                conversation.version,
                conversation.done,
                self._dt(conversation.updated_at),
            )
            if found is None:
                await tx.fetch(
                    """
                    INSERT INTO conversations (channel, user_id, call_id, ticket_id, state,
                                               version, done, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    conversation.channel,
                    conversation.user_id,
                    *args,
                )
            else:
                await tx.fetch(
                    """
                    UPDATE conversations
                    SET call_id = ?, ticket_id = ?, state = ?, version = ?, done = ?,
                        updated_at = ?
                    WHERE channel = ? AND user_id = ?
                    """,
                    *args,
                    conversation.channel,
                    conversation.user_id,
                )
            if event_id is not None:
                await tx.fetch(
                    "INSERT INTO channel_events (channel, event_id, received_at) VALUES (?, ?, ?)",
                    conversation.channel,
                    event_id,
                    self._dt(conversation.updated_at),
                )

        try:
            await self._store._write("save_conversation", body)
        except ConstraintError as error:  # the event id was recorded by a concurrent save
            raise ConversationConflict(str(error)) from error

    async def seen_event(self, channel: str, event_id: str) -> bool:
        async def body(tx: Tx, _retried: bool) -> bool:
            rows = await tx.fetch(
                "SELECT 1 FROM channel_events WHERE channel = ? AND event_id = ?",
                channel,
                event_id,
            )
            return bool(rows)

        return await self._store._write("seen_channel_event", body, write=False)

    async def record_event(self, channel: str, event_id: str, at: datetime) -> bool:
        """Record an event that changes no conversation (a follow); False if seen before."""
        rows = await self._store._write_one(
            "record_channel_event",
            """
            INSERT INTO channel_events (channel, event_id, received_at) VALUES (?, ?, ?)
            ON CONFLICT (channel, event_id) DO NOTHING
            RETURNING event_id
            """,
            channel,
            event_id,
            self._dt(at),
        )
        return bool(rows)

    async def idle(self, updated_before: datetime, *, limit: int = 100) -> list[StoredConversation]:
        """Open conversations nobody wrote to since ``updated_before``, oldest first."""

        async def body(tx: Tx, _retried: bool) -> list[StoredConversation]:
            rows = await tx.fetch(
                """
                SELECT * FROM conversations WHERE done = ? AND updated_at < ?
                ORDER BY updated_at LIMIT ?
                """,
                False,
                self._dt(updated_before),
                limit,
            )
            return [self._conversation(row) for row in rows]

        return await self._store._write("idle_conversations", body, write=False)

    async def forget_events(self, received_before: datetime) -> int:
        rows = await self._store._write_one(
            "forget_channel_events",
            "DELETE FROM channel_events WHERE received_at < ? RETURNING event_id",
            self._dt(received_before),
        )
        return len(rows)

    # --- A channel's API tokens ------------------------------------------------------

    async def load_token(self, channel: str) -> ChannelToken | None:
        async def body(tx: Tx, _retried: bool) -> ChannelToken | None:
            rows = await tx.fetch("SELECT * FROM channel_tokens WHERE channel = ?", channel)
            if not rows:
                return None
            row = rows[0]
            return ChannelToken(
                row["access_token"], row["refresh_token"], self._store._dt_out(row["expires_at"])
            )

        return await self._store._write("load_channel_token", body, write=False)

    async def save_token(self, channel: str, token: ChannelToken) -> None:
        await self._store._write_one(
            "save_channel_token",
            """
            INSERT INTO channel_tokens (channel, access_token, refresh_token, expires_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (channel) DO UPDATE SET access_token = excluded.access_token,
                refresh_token = excluded.refresh_token, expires_at = excluded.expires_at
            """,
            channel,
            token.access_token,
            token.refresh_token,
            self._dt(token.expires_at),
        )
