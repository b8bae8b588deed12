"""Open311 GeoReport v2 over JSON: other channels (a web form, a chat bot, a city app) file
requests into the same ticket store, and anyone can follow them.

- ``GET  /open311/v2/services.json`` — the four case types;
- ``GET  /open311/v2/requests.json`` — filters ``service_request_id`` (comma list; the others
  are then ignored, as the spec says), ``service_code`` (comma list), ``status`` (``open``,
  ``closed``, or our own statuses), ``start_date``/``end_date`` (W3C datetimes; without
  either, the last ``[open311] default_days``); at most ``max_results``, newest first;
- ``GET  /open311/v2/requests/{id}.json``;
- ``POST /open311/v2/requests.json`` — form-encoded as the spec says, or JSON; ``api_key``
  required. Creates a ticket on the web (or chat) channel; when the address names a known
  unit the ticket is complete and routed at once like a finished call.

Errors are the spec's list: ``[{"code": 400, "description": "…"}]`` with that HTTP status.
Reads are public and show no personal data (``callbot.tickets.service_requests.public_request``).
XML is not offered.
"""

from __future__ import annotations

import hmac
import logging
import os
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from callbot.config import Settings
from callbot.nlu.place import extract_place
from callbot.tickets.model import Channel, SlotSource, SlotValue, TicketStatus, utcnow
from callbot.tickets.routing import TicketPipeline, load_rules
from callbot.tickets.service_requests import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SERVICES,
    SERVICES_BY_CODE,
    public_request,
    service_notice,
)
from callbot.tickets.store.sql_store import SqlTicketStore
from callbot.web.input_guard import (
    InputError,
    ascii_int,
    clean_fields,
    moment_in_range,
    parse_json,
    ticket_id,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/open311/v2", tags=["open311"])
OPEN311_ACTOR = "open311"


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> SqlTicketStore:
    return request.app.state.store


def ticket_pipeline(request: Request) -> TicketPipeline:
    """The pipeline that routes tickets filed by the web (Open311, the dashboard)."""
    # The server may share its own pipeline (whose notify wakes the outbox worker) as
    # app.state.ticket_pipeline; otherwise one is made from the rules file on first use.
    state = request.app.state
    pipeline = getattr(state, "ticket_pipeline", None)
    if pipeline is None:
        rules = load_rules(_settings(request).routing.rules_file)
        pipeline = state.ticket_pipeline = TicketPipeline(_store(request), rules)
    return pipeline


# --- Reads (public) ------------------------------------------------------------------------


@router.get("/services.json")
async def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(s.keywords),
            "group": s.group,
        }
        for s in SERVICES
    ]


def _param(description: str) -> Any:
    # Declared so the OpenAPI document (and the schemathesis fuzz run) knows them; each is
    # validated by hand below, so a bad value gets the spec's error, not FastAPI's 422.
    return Query(description=description)


@router.get("/requests.json")
async def list_requests(
    request: Request,
    service_request_id: Annotated[str | None, _param("ids, comma-separated")] = None,
    service_code: Annotated[str | None, _param("service codes, comma-separated")] = None,
    status: Annotated[str | None, _param("open, closed, or our statuses")] = None,
    start_date: Annotated[str | None, _param("W3C datetime")] = None,
    end_date: Annotated[str | None, _param("W3C datetime")] = None,
) -> JSONResponse:
    settings = _settings(request).open311
    try:
        ids = _ints(service_request_id or "")
        if ids:
            tickets = await _store(request).list_requests(ids=ids, limit=settings.max_results)
        else:
            codes = _list(service_code or "")
            unknown = [code[:40] for code in codes if code not in SERVICES_BY_CODE]
            if unknown:
                raise Open311Error(400, f"unknown service_code {', '.join(unknown)[:200]}")
            statuses = _statuses(status or "")
            tz = ZoneInfo(_settings(request).web.timezone)
            since = _date(start_date, "start_date", tz)
            until = _date(end_date, "end_date", tz)
            if since is None and until is None:
                since = utcnow() - timedelta(days=settings.default_days)
            tickets = await _store(request).list_requests(
                service_codes=codes,
                statuses=statuses,
                since=since,
                until=until,
                limit=settings.max_results,
            )
    except Open311Error as error:
        return _error(error.code, error.description)
    except InputError as error:
        return _error(400, str(error))
    return JSONResponse([public_request(t) for t in tickets])


@router.get("/requests/{request_id}.json")
async def get_request(request: Request, request_id: str) -> JSONResponse:
    ticket = None
    number = ticket_id(request_id)  # "²", "-1" or 2**64 name no ticket: 404, like a gap
    if number is not None:
        ticket = await _store(request).get_ticket(number)
    if ticket is None:
        return _error(404, f"no service request {request_id[:40]!a}")
    return JSONResponse([public_request(ticket)])


# --- Filing a request ----------------------------------------------------------------------


_FIELDS = ("api_key", "service_code", "description", "address_string", "lat", "long")
_PERSON = ("first_name", "last_name", "phone", "email")
_BODY = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in (*_FIELDS, *_PERSON)},
    "required": ["api_key", "service_code"],
}
# The body is read by hand (size cap, form or JSON); this tells OpenAPI what it may hold.
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _BODY},
            "application/json": {"schema": _BODY},
        },
    }
}


@router.post("/requests.json", openapi_extra=_POST_BODY)
async def post_request(request: Request) -> JSONResponse:
    settings = _settings(request).open311
    try:
        fields = await _read_fields(request, settings.max_body_bytes)
        channel = _channel_for_key(
            fields.get("api_key") or request.query_params.get("api_key", ""),
            os.environ.get(settings.api_keys_env, ""),
        )
        service_code = fields.get("service_code", "").strip()
        if not service_code:
            raise Open311Error(400, "service_code is required")
        if service_code not in SERVICES_BY_CODE:
            raise Open311Error(400, f"unknown service_code {service_code[:40]}")
        slots, complete = _slots_of(fields, service_code)
    except Open311Error as error:
        return _error(error.code, error.description)
    except InputError as error:
        return _error(400, str(error))
    ticket = await _store(request).file_request(
        channel=channel,
        service_code=service_code,
        description=fields.get("description", "").strip(),
        slots=slots,
        complete=complete,
        actor=OPEN311_ACTOR,
    )
    routed = await ticket_pipeline(request).after_call(ticket) if complete else None
    if routed is not None:
        ticket = routed.ticket
    log.info("open311: ticket %d filed (%s, routed=%s)", ticket.id, channel, routed is not None)
    notice = service_notice(ticket)
    if not complete:
        notice = "Tổng đài 1022 đã tiếp nhận; cán bộ sẽ xác định địa bàn."  # place unclear
    return JSONResponse(
        [{"service_request_id": str(ticket.id), "service_notice": notice, "account_id": None}],
        status_code=201,
    )


async def _read_fields(request: Request, limit: int) -> dict[str, str]:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise Open311Error(413, f"request body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():  # also caps bodies sent without a length
        body += chunk
        if len(body) > limit:
            raise Open311Error(413, f"request body over {limit} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            data = parse_json(bytes(body))  # depth, number size, NUL and surrogates bounded
            if not isinstance(data, dict):
                raise Open311Error(400, "the JSON body must be an object")
            fields = {str(k): "" if v is None else str(v) for k, v in data.items()}
            clean_fields(fields.items())
            return fields
        if kind in ("application/x-www-form-urlencoded", ""):
            pairs = parse_qsl(body.decode(), keep_blank_values=True)
            clean_fields(pairs)
            return dict(pairs)
    except UnicodeDecodeError as error:
        raise Open311Error(400, f"unreadable body: {error}") from None
    raise Open311Error(400, f"send application/x-www-form-urlencoded or JSON, not {kind[:60]}")


def _channel_for_key(given: str, configured: str) -> Channel:
    """``configured`` is "KEY1,chat:KEY2": a bare key files on the web channel."""
    for entry in (part.strip() for part in configured.split(",")):
        if not entry:
            continue
        prefix, _, key = entry.rpartition(":")
        channel = Channel.CHAT if prefix == "chat" else Channel.WEB
        key = key if prefix in ("chat", "web") else entry
        if given and hmac.compare_digest(given.encode(), key.encode()):
            return channel
    raise Open311Error(403, "api_key is missing or not valid")


def _slots_of(fields: dict[str, str], service_code: str) -> tuple[list[SlotValue], bool]:
    def given(name: str) -> str:
        return " ".join(fields.get(name, "").split())

    def slot(name: str, value: str, confidence: float = 1.0, heard: str = "") -> SlotValue:
        # NETWORK: given by the filing system, not heard or keyed on a call.
        return SlotValue(name, value, SlotSource.NETWORK, confidence, heard or value)

    description, address = given("description"), given("address_string")
    lat, long = given("lat"), given("long")
    if lat or long:
        try:
            if not (-90 <= float(lat) <= 90 and -180 <= float(long) <= 180):
                raise ValueError
        except ValueError:
            raise Open311Error(
                400, "lat and long must be decimal degrees, given together"
            ) from None
    if not (description or address or lat):
        raise Open311Error(400, "description or a location (address_string, lat/long) is required")
    slots = [slot("case_type", service_code)]
    place = extract_place(address) if address else None
    if place is not None:
        slots.append(slot("place", place.value, place.confidence, place.heard))
    if address:
        slots.append(slot("address", address))
    if lat:
        slots += [slot("lat", lat), slot("long", long)]
    name = " ".join(p for p in (given("first_name"), given("last_name")) if p)
    if name:
        slots.append(slot("name", name))
    phone = "".join(c for c in given("phone") if c.isdigit() or c == "+")
    if phone:
        slots.append(slot("callback_number", phone))
    if given("email"):
        slots.append(slot("email", given("email")))
    if description:
        slots.append(slot("description", description))
    return slots, place is not None


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _ints(value: str) -> list[int]:
    parts = _list(value)
    if len(parts) > 1000:
        raise Open311Error(400, "at most 1000 service_request_id values")
    try:
        return [ascii_int(part, "service_request_id", low=1) for part in parts]
    except InputError:
        raise Open311Error(400, "service_request_id must be numbers, comma-separated") from None


def _statuses(value: str) -> list[TicketStatus]:
    wanted: set[TicketStatus] = set()
    for part in _list(value):
        if part == "open":
            wanted |= OPEN_STATUSES
        elif part == "closed":
            wanted |= CLOSED_STATUSES
        elif part in TicketStatus.__members__.values():
            wanted.add(TicketStatus(part))
        else:
            raise Open311Error(400, f"unknown status {part[:40]} (open or closed)")
    return sorted(wanted)


def _date(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C datetime") from None
    # Without an offset the city's local time is meant.
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    return moment_in_range(moment, name)  # year 1 or 9999 would overflow in UTC
