"""The embedded ticket store: one SQLite file, WAL mode, through aiosqlite.

One connection writes and another reads. WAL lets the reader (dashboard lists, replays) see
the last committed state while a write is in progress, and SQLite allows one writer at a time
anyway, so the writer's transactions are simply queued on an asyncio lock: statements of
two calls' transactions must never interleave on one connection.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from callbot.tickets.store.base import StoreError
from callbot.tickets.store.migrations import all_migrations
from callbot.tickets.store.sql_store import ConstraintError, Row, SqlTicketStore, Tx

log = logging.getLogger(__name__)

# How long a writer waits for another process's write lock before "database is locked".
BUSY_TIMEOUT_MS = 5000


class _SqliteTx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        # execute_fetchall is one trip to aiosqlite's thread, where execute + fetch are three.
        return list(await self._conn.execute_fetchall(sql, args))


class SqliteTicketStore(SqlTicketStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqliteTicketStore({str(self.path)!r})"

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode = WAL")
            await self._migrate(self._writer)
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only = ON")
        except (sqlite3.Error, OSError) as error:
            await self.close()
            raise StoreError(f"cannot open SQLite ticket store {self.path}: {error}") from error
        log.info("SQLite ticket store open: %s", self.path)

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                try:
                    await conn.close()
                except sqlite3.Error as error:
                    log.warning("closing %s: %s", self.path, error)
        self._reader = self._writer = None

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: no implicit transactions; we say BEGIN and COMMIT ourselves.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # synchronous=NORMAL is durable against a process crash in WAL mode; only an OS crash
        # or power cut can lose the last transactions, and it cuts each commit's fsync.
        try:
            for pragma in (
                f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON",
            ):
                await conn.execute(pragma)
        except BaseException:
            await conn.close()  # its thread would keep the process alive (not a database…)
            raise
        return conn

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        # IMMEDIATE takes the write lock first, so two processes opening the same file at
        # once apply each step once: the second waits, then finds it recorded.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """
            )
            applied = {
                row[0]
                for row in await conn.execute_fetchall("SELECT version FROM schema_migrations")
            }
            for step in all_migrations():
                if step.version in applied:
                    continue
                # Statement by statement: executescript() would COMMIT first and break
                # the all-or-nothing step.
                for statement in split_statements(step.sqlite):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (step.version, step.name, self._dt_in(datetime.now(UTC))),
                )
                log.info("SQLite ticket store: applied migration %04d_%s", step.version, step.name)
            await conn.execute("COMMIT")
        except BaseException:
            await _rollback(conn)
            raise

    @asynccontextmanager
    async def _transaction(self, op: str, *, write: bool) -> AsyncIterator[Tx]:
        conn, lock = (self._writer, self._write_lock) if write else (self._reader, self._read_lock)
        if conn is None:
            raise StoreError(f"{op}: the SQLite ticket store {self.path} is not open")
        async with lock:
            try:
                # Reads also run in a transaction so a ticket and its slots are one snapshot.
                await conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield _SqliteTx(conn)
                await conn.execute("COMMIT")
            except sqlite3.Error as error:
                await _rollback(conn)
                raise self._error(op, error) from error
            except BaseException:
                await _rollback(conn)
                raise

    async def _execute_one(self, op: str, sql: str, *args: Any) -> Sequence[Row]:
        if self._writer is None:
            raise StoreError(f"{op}: the SQLite ticket store {self.path} is not open")
        async with self._write_lock:
            try:
                # Autocommit: a single statement is its own transaction.
                return list(await self._writer.execute_fetchall(sql, args))
            except sqlite3.Error as error:
                raise self._error(op, error) from error

    def _error(self, op: str, error: sqlite3.Error) -> StoreError:
        # sqlite3 messages name constraints and conditions, never the values written.
        kind = ConstraintError if isinstance(error, sqlite3.IntegrityError) else StoreError
        return kind(f"{op} failed on SQLite ticket store {self.path}: {error}")

    def _dt_in(self, moment: datetime) -> str:
        # Fixed width (microseconds, +00:00) so that text order is time order in SQL.
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    def _dt_out(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)


async def _rollback(conn: aiosqlite.Connection) -> None:
    # Unconditional: after a cancellation the BEGIN may still be queued in aiosqlite's thread
    # (in_transaction would say False too early); the ROLLBACK is queued behind it. When
    # there is nothing to roll back (SQLite already did after "disk full") it fails: fine.
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.Error as error:
        log.debug("rollback after a failed transaction: %s", error)


def split_statements(script: str) -> list[str]:
    """The statements of a SQL script, using SQLite's own idea of where one ends."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"unterminated SQL statement: {pending.strip()[:80]}")
    return statements
