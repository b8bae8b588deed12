"""The Zalo OA webhook: ``POST /channels/zalo/webhook``.

Order of checks, so that nothing is stored for a request Zalo did not send: the body's size
(413), its JSON (400), the signature over it (401), then the event. A text message goes
to the conversation service with its ``msg_id``, so a delivery Zalo repeats is handled
once; the answer (200) is given as soon as the message is stored, and the bot's reply is
sent in the background (Zalo wants its answer within 2 s; the send API may need retries).
A follow gets the greeting and first question (no ticket until the user writes); an
unfollow ends an open request for a callback.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse

from callbot.channels.conversation import MAX_TEXT_CHARS, Reply, event_from_text
from callbot.channels.web_chat import service
from callbot.channels.zalo_client import ZaloClient, ZaloSecrets
from callbot.channels.zalo_oa import (
    SIGNATURE_HEADER,
    Follow,
    TextMessage,
    Unfollow,
    ZaloEventError,
    event_id,
    parse_event,
    read_body,
    verify,
)
from callbot.tickets.model import Channel, utcnow
from callbot.tickets.store.sql_conversations import ConversationConflict

log = logging.getLogger(__name__)

PATH = "/channels/zalo/webhook"
MAX_BODY_BYTES = 65_536

router = APIRouter(include_in_schema=False)


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": status, "message": message}, status_code=status)


def client(request: Request) -> ZaloClient:
    app = request.app
    if getattr(app.state, "zalo", None) is None:
        app.state.zalo = ZaloClient(
            app.state.settings.zalo, ZaloSecrets.from_environment(), service(request).conversations
        )
    return app.state.zalo


@router.post(PATH)
async def webhook(request: Request) -> JSONResponse:
    settings = request.app.state.settings.zalo
    if not settings.enabled:
        return _answer(404, "the Zalo channel is not enabled")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return _answer(413, "event too large")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, "event too large")
    try:
        data = read_body(body)
    except ZaloEventError as error:
        return _answer(400, f"not a Zalo event: {error}")
    zalo = client(request)
    if not verify(
        request.headers.get(SIGNATURE_HEADER),
        settings.app_id,
        body,
        data,
        zalo.secrets.oa_secret_key,
    ):
        log.warning("Zalo webhook: bad signature refused")
        return _answer(401, "bad signature")
    try:
        event = parse_event(data)
    except ZaloEventError as error:
        return _answer(400, f"not a Zalo event: {error}")
    talk = service(request)
    match event:
        case TextMessage(user_id, text, _, _):
            text = text.strip()[:MAX_TEXT_CHARS]
            try:
                reply = await talk.receive(
                    Channel.ZALO, user_id, event_from_text(text), event_id=event_id(event)
                )
            except ConversationConflict:
                # Another process is answering this user: Zalo will deliver it again.
                return _answer(409, "busy with this user's previous message")
            if reply.duplicate:
                return JSONResponse({"error": 0, "message": "already handled"})
            _send_later(request.app, zalo, user_id, reply)
        case Follow(user_id, _):
            if await talk.conversations.record_event(str(Channel.ZALO), event_id(event), utcnow()):
                _send_later(request.app, zalo, user_id, talk.opening())
        case Unfollow(user_id, _):
            await talk.hang_up(Channel.ZALO, user_id, "unfollowed the OA")
    return JSONResponse({"error": 0, "message": "ok"})


def _send_later(app: FastAPI, zalo: ZaloClient, user_id: str, reply: Reply) -> None:
    if not reply.messages:
        return
    task = asyncio.create_task(zalo.send_reply(user_id, reply.messages, reply.buttons))
    app.state.zalo_sends.add(task)  # kept until done: a task only weakly referenced may vanish
    task.add_done_callback(app.state.zalo_sends.discard)


def install(app: FastAPI) -> None:
    app.state.zalo = None
    app.state.zalo_sends = set()
    app.include_router(router)
    settings = app.state.settings.zalo
    if settings.enabled:
        secrets = ZaloSecrets.from_environment()
        missing = [
            name
            for name, value in (
                ("zalo.app_id", settings.app_id),
                ("CALLBOT_ZALO_OA_SECRET_KEY", secrets.oa_secret_key),
                ("CALLBOT_ZALO_APP_SECRET_KEY", secrets.app_secret_key),
            )
            if not value
        ]
        if missing:  # every event would be refused (401) or no reply could be sent
            log.error("the Zalo channel is enabled but %s is not set", ", ".join(missing))
