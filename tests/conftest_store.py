"""Fixtures for the ticket store tests: every test runs against a real SQLite file and a real
PostgreSQL schema of its own.

PostgreSQL: ``CALLBOT_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Each test gets a uniquely named schema, dropped afterwards, so parallel runs never collide.
When that server cannot be reached the PostgreSQL cases are skipped with the reason, unless
``CALLBOT_TEST_REQUIRE_PG=1`` or ``CI=true`` (then they fail: CI always has PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore

PG_URL = os.environ.get("CALLBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = ["sqlite", "postgres"]

StoreMaker = Callable[[], SqlTicketStore]


async def _pg_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at {PG_URL} unreachable: {error}"
    await conn.close()
    return None


@asynccontextmanager
async def private_pg_schema() -> AsyncIterator[str]:
    """A store URL for a fresh PostgreSQL schema of this test's own, dropped afterwards."""
    problem = await _pg_reachable()
    if problem:
        if os.environ.get("CALLBOT_TEST_REQUIRE_PG") == "1" or os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"test_store_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    # application_name lets a test find (and kill) exactly this store's connections.
    yield f"{PG_URL}?schema={schema}&pool_min=1&pool_max=20&application_name={schema}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(params=ENGINES)
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL for an empty store of each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tickets.db'}"
        return
    async with private_pg_schema() as url:
        yield url


@pytest.fixture
async def pg_store_url() -> AsyncIterator[str]:
    async with private_pg_schema() as url:
        yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlTicketStore]:
    opened = await open_store(store_url)
    try:
        yield opened  # type: ignore[misc]
    finally:
        await opened.close()
