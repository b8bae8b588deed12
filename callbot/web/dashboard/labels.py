"""The dashboard's Vietnamese words for the store's codes, and how times are written.

Codes stay English in the database and in Open311; people read Vietnamese. A code without
a label here is shown as it is, so a new status or slot never breaks a page. Sentences
built from codes (history events, system turns, routing rules) are in ``wording.py``.
Times are shown in the city's time zone as dd/mm/yyyy HH:MM: never UTC, never ISO.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

STATUS = {
    "new": "Mới",
    "routed": "Đã chuyển",
    "accepted": "Đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "resolved": "Đã giải quyết",
    "rejected": "Từ chối",
    "closed": "Đã đóng",
}

CASE_TYPE = {
    "essentials": "Lương thực, nhu yếu phẩm",
    "support_policy": "Chính sách hỗ trợ chưa nhận",
    "vulnerable": "Hoàn cảnh đặc biệt",
    "other": "Khác",
}

END_REASON = {
    "completed": "Hoàn tất",
    "caller_hangup": "Người gọi gác máy",
    "handed_back": "Chuyển lại tổng đài viên",
    "no_input": "Không trả lời",
    "protocol_error": "Lỗi giao thức",
    "server_error": "Lỗi máy chủ",
    "shutdown": "Máy chủ dừng",
}

SLOT = {
    "case_type": "Loại yêu cầu",
    "subject": "Người cần hỗ trợ",
    "place": "Địa bàn",
    "address": "Địa chỉ",
    "household_size": "Số người trong hộ",
    "name": "Họ tên",
    "callback_number": "Số gọi lại",
    "description": "Mô tả",
}

# Slots whose values are codes (the NLU's answers to closed questions). Other slots hold
# what the caller said (an address, a name) and are shown as they are.
SUBJECT = {
    "self": "Bản thân người gọi",
    "family": "Gia đình người gọi",
    "neighbour": "Hàng xóm",
    "other": "Người khác",
}

SLOT_VALUE = {"case_type": CASE_TYPE, "subject": SUBJECT}

SLOT_SOURCE = {
    "speech": "giọng nói",
    "keypad": "bàn phím",
    "network": "tổng đài",
    "supervisor": "giám sát viên",
}

# Ticket channels (callbot.tickets.model.Channel). Another channel may be added without a
# label here: label() then shows its code, and the overview still counts it.
CHANNEL = {
    "voice": "Cuộc gọi điện thoại (callbot)",
    "web": "Biểu mẫu trực tuyến / Open311",
    "chat": "Nhắn tin trực tuyến",
    "web_chat": "Hộp trò chuyện trên trang mạng",
    "zalo": "Zalo OA",
}

SPEAKER = {"caller": "Người gọi", "bot": "Callbot", "system": "Hệ thống"}

ROLE = {
    "administrator": "Quản trị",
    "supervisor": "Giám sát viên",
    "oversight": "Giám sát độc lập",
    "agency": "Cán bộ cơ quan",
}

EVENT = {
    "created": "Tạo phiếu",
    "call_info": "Thông tin cuộc gọi",
    "slot_set": "Ghi thông tin",
    "call_ended": "Kết thúc cuộc gọi",
    "status_changed": "Đổi trạng thái",
    "routed": "Chuyển cơ quan",
    "callback_done": "Đã gọi lại",
    "note": "Ghi chú nội bộ",
    "delivery": "Gửi cơ quan",
    "purged": "Xoá dữ liệu cá nhân",
    "handback_requested": "Giám sát viên yêu cầu chuyển tổng đài viên",
    "notify_consent": "Đồng ý nhận tin nhắn",
    "notification": "Tin nhắn cho người gọi",
    "case_linked": "Gộp vào hồ sơ của hộ",
    "case_split": "Tách khỏi hồ sơ",
    "recording_archived": "Nén ghi âm để lưu trữ",
}
# Issue 18: why a ticket was linked to its household's case (callbot/tickets/household.py).
CASE_MATCH = {
    "number": "cùng số điện thoại",
    "address": "cùng địa chỉ",
    "supervisor": "giám sát viên gộp",
}

# Issue 17: how soon a ticket needs a person (callbot/nlu/urgency.py, docs/triage.md).
PRIORITY = {"normal": "Bình thường", "urgent": "Khẩn", "emergency": "Khẩn cấp"}
# The live view's "hand back now" request, as the supervisor sees it.
HANDBACK_STATE = {
    "pending": "đang chuyển…",
    "done": "đã chuyển",
    "failed": "chuyển không được",
}

# Who wrote a history event: the store's own actors; people appear by their login.
ACTOR = {
    "callbot": "Callbot",
    "router": "Định tuyến tự động",
    "outbox": "Hộp thư gửi cơ quan",
    "retention": "Tự động xoá theo hạn lưu trữ",
    "recovery": "Khôi phục sau sự cố",
    "open311": "Open311",
    "operator": "Người vận hành",
}

DELIVERY_OUTCOME = {"delivered": "đã gửi", "failed": "gửi thất bại", "pending": "đang chờ gửi"}


def label(table: dict[str, str], code: object) -> str:
    if code is None:
        return "—"
    return table.get(str(code), str(code))


def slot_value(name: str, value: object) -> str:
    """A slot's value as a person reads it: a code's label, or the value itself."""
    if value is None or value == "":
        return "—"
    return label(SLOT_VALUE.get(name, {}), value)


def channel(code: object) -> str:
    if code is not None and str(code) not in CHANNEL:
        return f"Kênh khác ({code})"  # a channel added after these labels: still counted
    return label(CHANNEL, code)


def yes_no(value: object) -> str:
    return "có" if value else "không"


class Clock:
    """Writes UTC datetimes the Vietnamese way (dd/mm/yyyy HH:MM) in the city's time zone."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return moment.astimezone(self.zone).strftime("%d/%m/%Y %H:%M")

    def date(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return moment.astimezone(self.zone).strftime("%d/%m/%Y")

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def offset(ms: int | None) -> str:
    """A position in the recording as m:ss."""
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def number(value: float) -> str:
    """A decimal the Vietnamese way (0,62)."""
    return f"{value:g}".replace(".", ",")


def percent(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share * 100:.1f} %".replace(".", ",")
