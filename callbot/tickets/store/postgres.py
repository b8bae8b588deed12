"""The shared ticket store: PostgreSQL through an asyncpg connection pool.

Several callbot machines write to one database; every method is one short transaction on a
pooled connection. ``schema`` keeps the callbot's tables in their own PostgreSQL schema
(created if missing), which is also how the tests give each run a private, droppable copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import asyncpg

from callbot.tickets.store.base import StoreError, TransientStoreError
from callbot.tickets.store.migrations import all_migrations
from callbot.tickets.store.sql_store import ConstraintError, Row, SqlTicketStore, Tx

log = logging.getLogger(__name__)

# What a lost connection, a server restart or a refused login raise. InternalClientError is
# what asyncpg raises on a connection the server killed between two queries.
_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)

# What a retry on a fresh connection can cure: the connection was cut (08…, or the socket),
# the server is shutting down or restarting (57…: pg_terminate_backend is AdminShutdown),
# a serialisation failure or deadlock (40…). Anything else (a constraint, bad SQL) is not.
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)

CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 10.0


@lru_cache(maxsize=256)
def dollar_placeholders(sql: str) -> str:
    """``?, ?`` → ``$1, $2``: the shared SQL uses qmark style and never a literal '?'."""
    pieces = sql.split("?")
    out = [pieces[0]]
    for number, piece in enumerate(pieces[1:], start=1):
        out.append(f"${number}{piece}")
    return "".join(out)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _PgTx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return await self._conn.fetch(dollar_placeholders(sql), *args)


class PostgresTicketStore(SqlTicketStore):
    # Two officers changing one ticket at once: the second waits for the first's commit.
    _lock_row = " FOR UPDATE"

    def __init__(
        self, dsn: str, *, schema: str | None = None, pool_min: int = 2, pool_max: int = 20
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.pool_min = pool_min
        self.pool_max = pool_max
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        # The DSN may hold a password: show where it points, not how it logs in.
        return f"PostgresTicketStore(schema={self.schema!r})"

    async def open(self) -> None:
        if self._pool is not None:
            return
        settings = {"search_path": quote_ident(self.schema)} if self.schema else {}
        try:
            if self.schema:
                await self._create_schema()
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.pool_min,
                max_size=self.pool_max,
                timeout=CONNECT_TIMEOUT_S,
                server_settings=settings,
            )
            async with self._pool.acquire() as conn:
                await self._migrate(conn)
        except _DRIVER_ERRORS as error:
            await self.close()
            raise StoreError(f"cannot open PostgreSQL ticket store: {error}") from error
        log.info("PostgreSQL ticket store open (schema %s)", self.schema or "default")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_S)
        except (TimeoutError, *_DRIVER_ERRORS) as error:
            log.warning("PostgreSQL pool did not close cleanly (%s); terminating", error)
            pool.terminate()

    async def _create_schema(self) -> None:
        assert self.schema is not None
        conn = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
        except asyncpg.UniqueViolationError:
            pass  # another process created it between the check and the create
        finally:
            await conn.close()

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            # Serialise machines starting at once; DDL is transactional in PostgreSQL, so a
            # failed step leaves nothing behind and none of the later ones run.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('callbot.schema_migrations'),"
                " hashtext(current_schema()))"
            )
            await conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            applied = {
                row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")
            }
            for step in all_migrations():
                if step.version in applied:
                    continue
                await conn.execute(step.postgres)  # several statements: simple query protocol
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    step.version,
                    step.name,
                )
                log.info(
                    "PostgreSQL ticket store: applied migration %04d_%s", step.version, step.name
                )

    def _require_pool(self, op: str) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError(f"{op}: the PostgreSQL ticket store is not open")
        return self._pool

    @asynccontextmanager
    async def _transaction(self, op: str, *, write: bool) -> AsyncIterator[Tx]:
        pool = self._require_pool(op)
        try:
            async with pool.acquire() as conn:
                # Reads see one snapshot, so a ticket and its slots agree.
                isolation = "read_committed" if write else "repeatable_read"
                async with conn.transaction(isolation=isolation, readonly=not write):
                    yield _PgTx(conn)
        except _DRIVER_ERRORS as error:
            raise self._error(op, error) from error

    async def _execute_one(self, op: str, sql: str, *args: Any) -> Sequence[Row]:
        pool = self._require_pool(op)
        try:
            return await pool.fetch(dollar_placeholders(sql), *args)
        except _DRIVER_ERRORS as error:
            raise self._error(op, error) from error

    def _error(self, op: str, error: BaseException) -> StoreError:
        # str() of an asyncpg error is its message; the row values are only in .detail.
        if isinstance(error, asyncpg.IntegrityConstraintViolationError):
            return ConstraintError(f"{op} failed on PostgreSQL ticket store: {error}")
        kind = type(error).__name__
        cut = isinstance(error, _CONNECTION_LOST)
        return (TransientStoreError if cut else StoreError)(
            f"{op} failed on PostgreSQL ticket store ({kind}): {error}"
        )

    def _dt_in(self, moment: datetime) -> datetime:
        return moment

    def _dt_out(self, value: Any) -> datetime:
        return value.astimezone(UTC)
