"""The ``[notify]`` settings (issue 18: messages to the caller; docs/tickets.md, "Messages to
the caller"), beside config.py, which holds the rest and re-exports this class."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


@dataclass(config=STRICT)
class NotifySettings:
    enabled: bool = False
    """`callbot serve` texts callers who agreed: a receipt once the ticket is routed, a notice
    when it is resolved or closed (retried as [outbox] says). Secrets from the environment
    only: CALLBOT_NOTIFY_SMS_API_KEY and CALLBOT_NOTIFY_SMS_SECRET_KEY (eSMS); ZNS uses the
    [zalo] app and its CALLBOT_ZALO_APP_SECRET_KEY / CALLBOT_ZALO_REFRESH_TOKEN"""
    sms_url: str = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
    """eSMS.vn's send API"""
    sms_brandname: str = ""
    """the registered sender name (empty: the gateway's default number)"""
    sms_type: Literal["2", "8"] = "2"
    """2: customer care (brandname, registered template), 8: fixed number"""
    sms_sandbox: bool = False
    """eSMS checks the request but sends and charges nothing"""
    zns_url: str = "https://business.openapi.zalo.me/message/template"
    """Zalo ZNS's template message API"""
    zns_receipt_template: str = ""
    """the approved ZNS template for the receipt (params ticket_number, case_type, place,
    callback_by); empty: the zns channel is off"""
    zns_resolution_template: str = ""
    """the approved ZNS template for the resolution notice (params ticket_number, outcome)"""
