"""Dashboard tables in the ticket store: accounts, sessions, sign-in limits, the replay log
and internal notes (migrations ``0006_dashboard``, ``0008_web_hardening``).

Written against the shared store's transaction helper, so the same readable SQL (``?``
placeholders) runs on SQLite and PostgreSQL, in the store's own connections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbot.tickets.store.sql_store import Row, SqlTicketStore, Tx, to_utc
from callbot.web.dashboard.roles import Role, User


class DuplicateLoginError(ValueError):
    """An account with this login already exists."""


class _OverLimit(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class SessionInfo:
    user: User
    csrf_token: str
    seen_at: datetime


@dataclass(frozen=True)
class Replay:
    id: int
    at: datetime
    login: str
    role: str
    ticket_id: int
    call_id: str | None


@dataclass(frozen=True)
class Note:
    id: int
    ticket_id: int
    at: datetime
    actor: str
    text: str


class AccountStore:
    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store

    def _dt(self, moment: datetime) -> Any:
        return self._store._dt_in(to_utc(moment))

    def _user(self, row: Row) -> User:
        return User(
            id=int(row["id"]),
            login=row["login"],
            role=Role(row["role"]),
            agency=row["agency"],
            disabled=bool(row["disabled"]),
            created_at=self._store._dt_out(row["created_at"]),
        )

    # --- Accounts --------------------------------------------------------------------

    async def add_user(
        self, login: str, role: Role, agency: str | None, password_hash: str, now: datetime
    ) -> User:
        async with self._store._transaction("add_user", write=True) as tx:
            if await tx.fetch("SELECT id FROM dashboard_users WHERE login = ?", login):
                raise DuplicateLoginError(login)
            rows = await tx.fetch(
                """
                INSERT INTO dashboard_users (login, role, agency, password_hash, disabled,
                                             created_at, password_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                RETURNING *
                """,
                login,
                str(role),
                agency,
                password_hash,
                False,
                self._dt(now),
                self._dt(now),
            )
        return self._user(rows[0])

    async def find_login(self, login: str) -> tuple[User, str] | None:
        """The account and its password hash."""
        async with self._store._transaction("find_login", write=False) as tx:
            rows = await tx.fetch("SELECT * FROM dashboard_users WHERE login = ?", login)
        return (self._user(rows[0]), rows[0]["password_hash"]) if rows else None

    async def list_users(self) -> list[User]:
        async with self._store._transaction("list_users", write=False) as tx:
            rows = await tx.fetch("SELECT * FROM dashboard_users ORDER BY login")
        return [self._user(row) for row in rows]

    async def set_password(self, login: str, password_hash: str, now: datetime) -> bool:
        """New password; every open session of the account ends (a stolen one too)."""
        async with self._store._transaction("set_password", write=True) as tx:
            rows = await tx.fetch(
                """
                UPDATE dashboard_users SET password_hash = ?, password_changed_at = ?
                WHERE login = ? RETURNING id
                """,
                password_hash,
                self._dt(now),
                login,
            )
            if rows:
                await self._end_sessions_of(tx, int(rows[0]["id"]), now)
        return bool(rows)

    async def set_disabled(self, login: str, disabled: bool, now: datetime) -> bool:
        async with self._store._transaction("set_disabled", write=True) as tx:
            rows = await tx.fetch(
                "UPDATE dashboard_users SET disabled = ? WHERE login = ? RETURNING id",
                disabled,
                login,
            )
            if rows and disabled:
                await self._end_sessions_of(tx, int(rows[0]["id"]), now)
        return bool(rows)

    async def _end_sessions_of(self, tx: Tx, user_id: int, now: datetime) -> None:
        await tx.fetch(
            "UPDATE dashboard_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
            self._dt(now),
            user_id,
        )

    # --- Sessions --------------------------------------------------------------------

    async def start_session(
        self, user_id: int, token_hash: str, csrf_token: str, now: datetime, expires: datetime
    ) -> None:
        async with self._store._transaction("start_session", write=True) as tx:
            await tx.fetch(
                """
                INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_at,
                                                seen_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                token_hash,
                user_id,
                csrf_token,
                self._dt(now),
                self._dt(now),
                self._dt(expires),
            )

    async def live_session(self, token_hash: str, now: datetime) -> SessionInfo | None:
        """The session if it is open, unexpired and its account enabled."""
        async with self._store._transaction("live_session", write=False) as tx:
            rows = await tx.fetch(
                """
                SELECT dashboard_users.*, dashboard_sessions.csrf_token,
                       dashboard_sessions.seen_at AS session_seen_at
                FROM dashboard_sessions
                JOIN dashboard_users ON dashboard_users.id = dashboard_sessions.user_id
                WHERE dashboard_sessions.token_hash = ?
                  AND dashboard_sessions.ended_at IS NULL
                  AND dashboard_sessions.expires_at > ?
                  AND NOT dashboard_users.disabled
                """,
                token_hash,
                self._dt(now),
            )
        if not rows:
            return None
        row = rows[0]
        return SessionInfo(
            self._user(row), row["csrf_token"], self._store._dt_out(row["session_seen_at"])
        )

    async def extend_session(self, token_hash: str, now: datetime, expires: datetime) -> None:
        async with self._store._transaction("extend_session", write=True) as tx:
            await tx.fetch(
                "UPDATE dashboard_sessions SET seen_at = ?, expires_at = ? WHERE token_hash = ?",
                self._dt(now),
                self._dt(expires),
                token_hash,
            )

    async def end_session(self, token_hash: str, now: datetime) -> None:
        async with self._store._transaction("end_session", write=True) as tx:
            await tx.fetch(
                "UPDATE dashboard_sessions SET ended_at = ? WHERE token_hash = ?",
                self._dt(now),
                token_hash,
            )

    # --- Sign-in limits (migration 0008) ---------------------------------------------

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: datetime, window_start_after: datetime
    ) -> str | None:
        """Count one sign-in attempt against every ``(key, limit)`` at once, before the
        password is checked; None when all are within their limit, else the first key over
        it, and then nothing is counted (a refused attempt costs no one else's budget).

        Each key's row is bumped by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, a
        single atomic statement on both engines; the transaction holds those rows (the
        PostgreSQL row locks, the SQLite write lock) until it ends, so parallel attempts
        are counted one after another and exactly ``limit`` of them get through. A key's
        window starts at its first attempt and restarts once it is older than the window.
        """
        try:
            async with self._store._transaction("reserve_sign_in", write=True) as tx:
                for key, limit in sorted(limits):  # one order: no PostgreSQL deadlock
                    rows = await tx.fetch(
                        """
                        INSERT INTO dashboard_sign_in_limits (key, window_start, attempts)
                        VALUES (?, ?, 1)
                        ON CONFLICT (key) DO UPDATE SET
                            attempts = CASE
                                WHEN dashboard_sign_in_limits.window_start < ? THEN 1
                                ELSE dashboard_sign_in_limits.attempts + 1 END,
                            window_start = CASE
                                WHEN dashboard_sign_in_limits.window_start < ?
                                THEN excluded.window_start
                                ELSE dashboard_sign_in_limits.window_start END
                        RETURNING attempts
                        """,
                        key,
                        self._dt(now),
                        self._dt(window_start_after),
                        self._dt(window_start_after),
                    )
                    if int(rows[0]["attempts"]) > limit:
                        raise _OverLimit(key)  # rolls the whole reservation back
        except _OverLimit as over:
            return over.key
        return None

    async def release_attempt(self, keys: Sequence[str], clear: Sequence[str]) -> None:
        """A successful sign-in: its reserved attempt is given back on ``keys``, and the
        ``clear`` keys (the account from this address) start afresh."""
        async with self._store._transaction("release_sign_in", write=True) as tx:
            for key in sorted(keys):
                await tx.fetch(
                    """
                    UPDATE dashboard_sign_in_limits SET attempts = attempts - 1
                    WHERE key = ? AND attempts > 0
                    """,
                    key,
                )
            for key in clear:
                await tx.fetch("DELETE FROM dashboard_sign_in_limits WHERE key = ?", key)

    async def forget_attempts(self, before: datetime) -> int:
        """Drop rows whose window ended (they count nothing), so the table stays the size
        of the current attack."""
        async with self._store._transaction("forget_sign_in", write=True) as tx:
            rows = await tx.fetch(
                "DELETE FROM dashboard_sign_in_limits WHERE window_start < ? RETURNING key",
                self._dt(before),
            )
        return len(rows)

    # --- Replay log ------------------------------------------------------------------

    async def log_replay(
        self, user: User, ticket_id: int, call_id: str | None, now: datetime, since: datetime
    ) -> bool:
        """Log a replay unless this user replayed this call after ``since`` (one playback
        makes several range requests); True when a row was written."""
        async with self._store._transaction("log_replay", write=True) as tx:
            recent = await tx.fetch(
                """
                SELECT id FROM recording_replays
                WHERE ticket_id = ? AND login = ? AND at >= ?
                """,
                ticket_id,
                user.login,
                self._dt(since),
            )
            if recent:
                return False
            await tx.fetch(
                """
                INSERT INTO recording_replays (at, login, role, ticket_id, call_id)
                VALUES (?, ?, ?, ?, ?)
                """,
                self._dt(now),
                user.login,
                str(user.role),
                ticket_id,
                call_id,
            )
        return True

    async def list_replays(
        self, *, before_id: int | None = None, ticket_id: int | None = None, limit: int = 100
    ) -> list[Replay]:
        clauses, args = [], []
        if before_id is not None:
            clauses.append("id < ?")
            args.append(before_id)
        if ticket_id is not None:
            clauses.append("ticket_id = ?")
            args.append(ticket_id)
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        async with self._store._transaction("list_replays", write=False) as tx:
            rows = await tx.fetch(
                f"SELECT * FROM recording_replays {where} ORDER BY id DESC LIMIT ?",
                *args,
                limit,
            )
        return [
            Replay(
                id=int(row["id"]),
                at=self._store._dt_out(row["at"]),
                login=row["login"],
                role=row["role"],
                ticket_id=int(row["ticket_id"]),
                call_id=row["call_id"],
            )
            for row in rows
        ]

    # --- Internal notes --------------------------------------------------------------

    async def add_note(self, ticket_id: int, actor: str, text: str, now: datetime) -> None:
        async with self._store._transaction("add_note", write=True) as tx:
            await tx.fetch(
                "INSERT INTO ticket_notes (ticket_id, at, actor, text) VALUES (?, ?, ?, ?)",
                ticket_id,
                self._dt(now),
                actor,
                text,
            )

    async def list_notes(self, ticket_id: int) -> list[Note]:
        async with self._store._transaction("list_notes", write=False) as tx:
            rows = await tx.fetch(
                "SELECT * FROM ticket_notes WHERE ticket_id = ? ORDER BY id", ticket_id
            )
        return [
            Note(
                id=int(row["id"]),
                ticket_id=int(row["ticket_id"]),
                at=self._store._dt_out(row["at"]),
                actor=row["actor"],
                text=row["text"],
            )
            for row in rows
        ]
