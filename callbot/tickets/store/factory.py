"""Open the ticket store a URL names (``CALLBOT_STORE_URL``).

- ``sqlite:///var/callbot.db`` — a file relative to the working directory (the default);
  ``sqlite:////srv/callbot/tickets.db`` — an absolute path (four slashes).
- ``postgresql://user[:password]@host[:port]/database`` — several callbot machines share it.
  Extra query parameters: ``schema=NAME`` (created if missing; default ``public``),
  ``pool_min=N`` and ``pool_max=N`` (connections per callbot process). Anything else in the
  query is passed to asyncpg (for example ``sslmode=require``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from callbot.tickets.store.base import DEFAULT_STORE_URL, StoreError, TicketStore


def open_store(url: str = DEFAULT_STORE_URL) -> TicketStore:
    """The store ``url`` names, not yet connected.

    Connect it either way: ``store = await open_store(url)`` (awaiting a store opens it and
    gives it back), ``async with open_store(url) as store:`` (closed on exit), or
    ``store = open_store(url); await store.open()``. Opening twice is harmless.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from callbot.tickets.store.sqlite import SqliteTicketStore

        # sqlite:///rel/path → "/rel/path" → "rel/path"; sqlite:////abs/path → "//abs/path".
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise StoreError(f"bad SQLite store URL {url!r}: use sqlite:///path/to/file.db")
        return SqliteTicketStore(path)
    if parts.scheme in ("postgresql", "postgres"):
        from callbot.tickets.store.postgres import PostgresTicketStore

        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        try:
            pool_min = int(query.pop("pool_min", 2))
            pool_max = int(query.pop("pool_max", 20))
        except ValueError as error:
            raise StoreError(f"bad pool size in store URL: {error}") from error
        dsn = urlunsplit(parts._replace(query=urlencode(query)))
        return PostgresTicketStore(dsn, schema=schema, pool_min=pool_min, pool_max=pool_max)
    raise StoreError(f"unknown ticket store URL scheme {parts.scheme!r} (sqlite or postgresql)")


class StoreMissingError(StoreError):
    """A command that only reads or changes an existing store found none: it never makes one
    (a typo in ``store.url`` would otherwise leave an empty database behind, and the command
    would report "nothing" instead of the mistake)."""


def safe_url(url: str) -> str:
    """A store URL without its password, for logs and messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


async def open_existing_store(url: str, *, hint: str = "") -> TicketStore:
    """The store ``url`` names, opened, if it already exists; ``StoreMissingError`` (naming
    the file or database, and ``hint``) if not. ``callbot serve`` is what creates a store."""
    from callbot.tickets.store.sqlite import SqliteTicketStore

    store = open_store(url)
    if isinstance(store, SqliteTicketStore):
        if not Path(store.path).is_file():
            raise StoreMissingError(
                f"no ticket store at {store.path} (store.url); `callbot serve` creates it{hint}"
            )
    elif not await _has_tickets_table(store):
        raise StoreMissingError(f"no ticket store in {safe_url(url)}: `callbot serve` creates it")
    await store.open()
    return store


async def _has_tickets_table(store: TicketStore) -> bool:
    """PostgreSQL: does the schema hold a ticket store? (Opening it would create one.)"""
    import asyncpg

    from callbot.tickets.store.postgres import PostgresTicketStore, quote_ident

    assert isinstance(store, PostgresTicketStore)
    table = f"{quote_ident(store.schema)}.tickets" if store.schema else "tickets"
    try:
        conn = await asyncpg.connect(store.dsn, timeout=10)
        try:
            return await conn.fetchval("SELECT to_regclass($1)", table) is not None
        finally:
            await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise StoreError(f"cannot reach the PostgreSQL ticket store: {error}") from None
