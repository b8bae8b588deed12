"""Open the ticket store a URL names (``CALLBOT_STORE_URL``).

- ``sqlite:///var/callbot.db`` — a file relative to the working directory (the default);
  ``sqlite:////srv/callbot/tickets.db`` — an absolute path (four slashes).
- ``postgresql://user[:password]@host[:port]/database`` — several callbot machines share it.
  Extra query parameters: ``schema=NAME`` (created if missing; default ``public``),
  ``pool_min=N`` and ``pool_max=N`` (connections per callbot process). Anything else in the
  query is passed to asyncpg (for example ``sslmode=require``).
"""

from __future__ import annotations

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
