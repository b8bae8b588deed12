"""Zalo's OAuth token refresh, shared by the OA chat channel (callbot/channels/) and ZNS
messages (callbot/tickets/notify/zalo_zns.py): the same app, the same token pair.

Sans-IO: the form to POST to ``{oauth}/v4/oa/access_token`` (header ``secret_key``) and the
reading of its answer. Each refresh token works once, so the answer's new pair must be
kept (``ChannelToken``, stored by sql_conversations.py) before the next refresh.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from callbot.tickets.store.sql_conversations import ChannelToken

DEFAULT_LIFETIME_S = 3600  # when the answer does not say (Zalo's access tokens last 1 h)


class TokenError(Exception):
    """Zalo refused to refresh the access token (the message says why; no token in it)."""


def refresh_form(app_id: str, refresh_token: str) -> dict[str, str]:
    return {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}


def parse_token(status: int, body: bytes, now: datetime) -> ChannelToken:
    """The new pair from the refresh answer, or ``TokenError`` (status, Zalo's reason)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise TokenError(f"HTTP {status}: not JSON") from None
    if not isinstance(data, dict):
        raise TokenError(f"HTTP {status}: not a JSON object")
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if status != 200 or not isinstance(access, str) or not isinstance(refresh, str):
        reason = data.get("error_name") or data.get("message") or data.get("error")
        raise TokenError(f"HTTP {status}: {str(reason)[:200]}")
    try:
        lifetime = int(data.get("expires_in", DEFAULT_LIFETIME_S))
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_S
    return ChannelToken(access, refresh, now + timedelta(seconds=max(lifetime, 0)))
