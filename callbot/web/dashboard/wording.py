"""Vietnamese sentences for what the store writes in English: history events, the system's
turns of a transcript, and the routing rule's one-line explanation.

The store keeps codes and English explanations (they are read by logs, Open311 and tests);
supervisors read Vietnamese (issue 16: "reason: no_input; complete: False", "slot address
missing: not understood", "place Quận 3 (2021 district…)" reached the page). Each function
knows the shapes the call path writes today; anything else is shown as it is rather than
hidden, so a new event still says something (and tests/test_dashboard_ux.py names the
shapes a real call produces, so a new English one fails there first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from callbot.web.dashboard import labels

Details = list[tuple[str, str]]  # (what, value) pairs; an empty "what" is a sentence
Moment = Callable[[datetime | None], str]


def _confidence(value: Any) -> str:
    return f"{float(value):.2f}".replace(".", ",") if isinstance(value, int | float) else ""


def _moment(value: Any, dt: Moment) -> str:
    if not value:
        return "—"
    try:
        return dt(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _slot_set(data: dict[str, Any], dt: Moment) -> Details:
    name = str(data.get("name", ""))
    lines = [(labels.label(labels.SLOT, name), labels.slot_value(name, data.get("value")))]
    how = [labels.label(labels.SLOT_SOURCE, data.get("source"))]
    if data.get("confidence") is not None:
        how.append(f"độ tin cậy {_confidence(data.get('confidence'))}")
    lines.append(("Nguồn", ", ".join(how)))
    if data.get("heard"):
        lines.append(("Nghe được", str(data["heard"])))
    old = data.get("old")
    if isinstance(old, dict):
        lines.append(("Giá trị trước", labels.slot_value(name, old.get("value"))))
    if data.get("purged"):
        lines.append(("", "dữ liệu cá nhân đã được xoá"))
    return lines


def _call_ended(data: dict[str, Any], dt: Moment) -> Details:
    lines = [
        ("Lý do", labels.label(labels.END_REASON, data.get("reason"))),
        ("Phiếu", "đầy đủ" if data.get("complete") else "chưa đầy đủ"),
    ]
    if data.get("needs_callback"):
        lines.append(("", "cần gọi lại cho người dân"))
    return lines


def _status_changed(data: dict[str, Any], dt: Moment) -> Details:
    change = (
        f"{labels.label(labels.STATUS, data.get('from'))}"
        f" → {labels.label(labels.STATUS, data.get('to'))}"
    )
    lines = [("Trạng thái", change)]
    if data.get("note"):
        lines.append(("Ghi chú công khai", str(data["note"])))
    return lines


def _routed(data: dict[str, Any], dt: Moment) -> Details:
    lines = [("Cơ quan", str(data.get("agency") or "—"))]
    if data.get("rule"):
        lines.append(("Căn cứ", routing_rule(str(data["rule"]))))
    lines.append(("Hạn xử lý", _moment(data.get("expected_datetime"), dt)))
    return lines


def _call_info(data: dict[str, Any], dt: Moment) -> Details:
    lines = []
    if data.get("caller_number"):
        lines.append(("Số gọi đến", str(data["caller_number"])))
    if data.get("channel_name"):
        lines.append(("Kênh tổng đài", str(data["channel_name"])))
    if data.get("purged"):
        lines.append(("", "dữ liệu cá nhân đã được xoá"))
    return lines


def _created(data: dict[str, Any], dt: Moment) -> Details:
    if data.get("channel"):
        return [("Kênh", labels.channel(data["channel"]))]
    return [("Mã cuộc gọi", str(data["call_id"]))] if data.get("call_id") else []


def _callback_done(data: dict[str, Any], dt: Moment) -> Details:
    lines = [("Phiếu", "đầy đủ" if data.get("complete") else "chưa đầy đủ")]
    if data.get("note"):
        lines.append(("Ghi chú", str(data["note"])))
    return lines


def _delivery(data: dict[str, Any], dt: Moment) -> Details:
    outcome = labels.label(labels.DELIVERY_OUTCOME, data.get("outcome"))
    lines = [("Cơ quan", str(data.get("agency") or "—")), ("Kết quả", outcome)]
    if data.get("attempts"):
        lines.append(("Số lần gửi", str(data["attempts"])))
    if data.get("status_code"):
        lines.append(("Mã trả lời HTTP", str(data["status_code"])))
    return lines


PURGED_PARTS = {
    "slots": "thông tin cá nhân",
    "turn_texts": "lượt lời thoại",
    "events_redacted": "mục lịch sử",
    "notes": "ghi chú nội bộ",
}


def _purged(data: dict[str, Any], dt: Moment) -> Details:
    removed = data.get("removed")
    if not isinstance(removed, dict):
        return []
    parts = [f"{removed[key]} {what}" for key, what in PURGED_PARTS.items() if removed.get(key)]
    return [("Đã xoá", ", ".join(parts) or "không có gì")]


def _note(data: dict[str, Any], dt: Moment) -> Details:
    return [("", str(data.get("text", "")))]


def _case(data: dict[str, Any], dt: Moment) -> Details:
    lines = [("Hồ sơ", f"#{data.get('case')}"), ("Phiếu", f"#{data.get('ticket')}")]
    if data.get("by"):
        lines.append(("Căn cứ", labels.label(labels.CASE_MATCH, data["by"])))
    return lines


DESCRIBE: dict[str, Callable[[dict[str, Any], Moment], Details]] = {
    "created": _created,
    "call_info": _call_info,
    "slot_set": _slot_set,
    "call_ended": _call_ended,
    "status_changed": _status_changed,
    "routed": _routed,
    "callback_done": _callback_done,
    "delivery": _delivery,
    "purged": _purged,
    "note": _note,
    "case_linked": _case,
    "case_split": _case,
    "recording_archived": lambda data, dt: [("Định dạng", str(data.get("recording_format", "")))],
}


def event_details(kind: str, data: dict[str, Any], dt: Moment) -> Details:
    """What one history event says, in Vietnamese, with local times."""
    describe = DESCRIBE.get(kind)
    if describe is not None:
        return [(what, value) for what, value in describe(data, dt) if value != ""]
    # An event this module does not know yet: its values, never a crash.
    return [(key, str(value)) for key, value in data.items() if value not in (None, "", {})]


def actor(login: str) -> str:
    return labels.ACTOR.get(login, login)


# --- System turns of a transcript (callbot/call/session.py, call_ending.py, chat.py) -----

MISSING_WHY = {
    "not understood": "không hiểu câu trả lời",
    "no answer": "người gọi không trả lời",
}
HANDBACK_WHY = {
    "no AMI link": "chưa kết nối được tổng đài (AMI)",
    "channel unknown or AMI refused": "không xác định được kênh hoặc tổng đài từ chối",
    "hand-back hook failed": "lỗi khi chuyển máy",
}
_SYSTEM_TURNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^slot (\w+) missing: (.+)$"),
        lambda m: (
            f"Thiếu thông tin «{labels.label(labels.SLOT, m[1])}»: {MISSING_WHY.get(m[2], m[2])}"
        ),
    ),
    (re.compile(r"^handed back to operators$"), lambda m: "Đã chuyển lại tổng đài viên"),
    (
        re.compile(r"^hand-back failed: (.+)$"),
        lambda m: f"Không chuyển lại được tổng đài viên: {HANDBACK_WHY.get(m[1], m[1])}",
    ),
    # The error's own text is for the logs (English, technical); the page says what happened.
    (re.compile(r"^protocol error: "), lambda m: "Lỗi giao thức từ tổng đài, cuộc gọi kết thúc"),
    (re.compile(r"^recording failed: "), lambda m: "Ghi âm bị lỗi (xem nhật ký máy chủ)"),
]


def system_turn(text: str) -> str:
    for pattern, say in _SYSTEM_TURNS:
        match = pattern.match(text)
        if match:
            return say(match)
    return text


# --- The routing rule (callbot/tickets/routing.py, RoutingDecision.rule) ----------------

_RULE_PARTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^place (.+?) \(2021 district; 2025 wards: (.*)\) → (.+)$"),
        lambda m: (
            f"địa bàn {m[1]} (quận/huyện cũ; phường/xã từ 2025:"
            f" {'không có' if m[2] == 'none' else m[2]}) → {m[3]}"
        ),
    ),
    (
        re.compile(r"^place (.+?) \(2025 ward\) → (.+)$"),
        lambda m: f"địa bàn {m[1]} (phường/xã từ 2025) → {m[2]}",
    ),
    (
        re.compile(r"^case (\w+) → also (.+)$"),
        lambda m: f"loại yêu cầu «{labels.label(labels.CASE_TYPE, m[1])}» → thêm {m[2]}",
    ),
    (
        re.compile(r"^SLA (\w+) ([0-9.]+) h$"),
        lambda m: (
            f"hạn xử lý cho «{labels.label(labels.CASE_TYPE, m[1])}»: {m[2].replace('.', ',')} giờ"
        ),
    ),
]
RULE_NAMES = {
    "dashboard": "giám sát viên chuyển trên trang giám sát",
    "place": "theo địa bàn",
    "manual": "chuyển thủ công",
}


def _parts(rule: str) -> list[str]:
    """The rule's parts: split at "; " outside brackets (a place part has one inside)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(rule):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and rule.startswith("; ", index):
            parts.append(rule[start:index])
            start = index + 2
    return [*parts, rule[start:]]


def routing_rule(rule: str | None) -> str:
    """The router's explanation, part by part ("; " between parts), in Vietnamese."""
    if not rule:
        return "—"
    if rule in RULE_NAMES:
        return RULE_NAMES[rule]
    said = []
    for part in _parts(rule):
        for pattern, say in _RULE_PARTS:
            match = pattern.match(part)
            if match:
                said.append(say(match))
                break
        else:
            said.append(part)
    return "; ".join(said)
