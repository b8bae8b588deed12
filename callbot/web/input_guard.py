"""Hostile input gets a clear 4xx, never a 500 (issue 15): one set of checks for every
query parameter, id, date, form field and JSON body the web app reads.

Why each check exists:
- ids: ``str.isdigit()`` is true for "²" and "٣", which ``int()`` refuses or reads as 3, and
  an id past 2**63 - 1 overflows SQLite's INTEGER and PostgreSQL's bigint; so ids are ASCII
  digits, at most 19 of them, and at most ``MAX_ID``.
- dates: a date of year 1 or 9999 moved to UTC or one day on leaves ``datetime``'s range;
  dates are kept to ``FIRST_DAY``..``LAST_DAY``, years no ticket can fall outside.
- text: PostgreSQL's ``text`` cannot hold NUL, and neither engine can encode a lone
  surrogate (JSON's ``"\\ud800"``); such text is refused before it reaches a query.
- JSON: 30,000 nested brackets exhaust Python's recursion and a 5,000-digit integer passes
  the int-conversion limit; both raise errors ``json.loads`` does not call decode errors,
  so depth is counted before parsing and numbers are bounded while parsing.
- the path and query string are checked for NUL and invalid UTF-8 by ``InputGuard``, an ASGI
  middleware in front of every route, so no handler ever sees them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_ID = 2**63 - 1
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
FIRST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(2200, 1, 1, tzinfo=UTC)
MAX_JSON_DEPTH = 8
MAX_NUMBER_CHARS = 40


class InputError(ValueError):
    """Input refused; the message says what was wrong, for the 400 answer."""


def ascii_int(value: str, name: str, *, low: int = 0, high: int = MAX_ID) -> int:
    """A number written in ASCII digits, within ``low``..``high``."""
    text = value.strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        raise InputError(f"{name} must be a number")
    number = int(text)
    if not low <= number <= high:
        raise InputError(f"{name} must be between {low} and {high}")
    return number


def optional_id(value: str | None, name: str) -> int | None:
    """An id from a query parameter: absent or empty is None, anything else must be an id."""
    return ascii_int(value, name, low=1) if value else None


def ticket_id(value: str | int) -> int | None:
    """A ticket id from a path, or None when it cannot name a ticket (a 404, not a 400)."""
    try:
        return ascii_int(str(value), "id", low=1)
    except InputError:
        return None


def day(value: str, name: str) -> date:
    """A ``yyyy-mm-dd`` day within the years any ticket can have."""
    text = value.strip()
    if not (text.isascii() and len(text) == 10):
        raise InputError(f"{name} must be a date, yyyy-mm-dd")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} must be a date, yyyy-mm-dd") from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise InputError(f"{name} must be between {FIRST_DAY} and {LAST_DAY}")
    return parsed


def moment_in_range(moment: datetime, name: str) -> datetime:
    """An aware datetime within ``FIRST_MOMENT``..``LAST_MOMENT`` (checked in UTC)."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InputError(f"{name} is out of range") from None
    if not FIRST_MOMENT <= utc <= LAST_MOMENT:
        raise InputError(f"{name} must be between {FIRST_MOMENT.year} and {LAST_MOMENT.year}")
    return moment


def clean_text(value: str, name: str) -> str:
    """The text unchanged, if a database can store it: no NUL, no lone surrogate."""
    if "\x00" in value:
        raise InputError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{name} is not valid Unicode text") from None
    return value


def clean_fields(items: Iterable[tuple[str, Any]]) -> None:
    """Every string name and value of a form or JSON object, checked by ``clean_text``."""
    for key, value in items:
        clean_text(str(key), "a field name")
        if isinstance(value, str):
            clean_text(value, str(key)[:40])


def _depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _number(kind: type) -> Any:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise InputError(f"a number longer than {MAX_NUMBER_CHARS} characters")
        return kind(text)

    return parse


def parse_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON with bounded nesting and number size, all of its strings ``clean_text``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8") from None
    if _depth(text) > max_depth:
        raise InputError(f"JSON nested deeper than {max_depth} levels")
    try:
        data = json.loads(text, parse_int=_number(int), parse_float=_number(float))
    except json.JSONDecodeError as error:
        raise InputError(f"unreadable JSON: {error}") from None
    _check_strings(data)
    return data


def _check_strings(data: Any) -> None:
    if isinstance(data, str):
        clean_text(data, "a JSON string")
    elif isinstance(data, dict):
        clean_fields(data.items())
        for value in data.values():
            _check_strings(value)
    elif isinstance(data, list):
        for value in data:
            _check_strings(value)


def _url_part_problem(raw: bytes, plus_is_space: bool) -> str | None:
    decoded = unquote_to_bytes(raw.replace(b"+", b" ") if plus_is_space else raw)
    if b"\x00" in decoded:
        return "contains a NUL character"
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return None


class InputGuard:
    """ASGI middleware: a request whose path or query string decodes to NUL or to invalid
    UTF-8 is answered 400 before routing (Open311 in the spec's error shape)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
            problem = _url_part_problem(raw_path, False)
            where = "the path"
            if problem is None:
                problem = _url_part_problem(scope.get("query_string", b""), True)
                where = "the query string"
            if problem is not None:
                await _refuse(scope, send, f"{where} {problem}")
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    if scope["path"].startswith("/open311/"):
        body = json.dumps([{"code": 400, "description": message}]).encode()
        kind = b"application/json"
    else:
        body, kind = f"400 Bad Request: {message}\n".encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
