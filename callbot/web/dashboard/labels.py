"""The dashboard's Vietnamese words for the store's codes, and how times are written.

Codes stay English in the database and in Open311; people read Vietnamese. A code without
a label here is shown as it is, so a new status or slot never breaks a page.
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

SLOT_SOURCE = {
    "speech": "giọng nói",
    "keypad": "bàn phím",
    "network": "tổng đài",
    "supervisor": "giám sát viên",
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
}


def label(table: dict[str, str], code: object) -> str:
    if code is None:
        return "—"
    return table.get(str(code), str(code))


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


def percent(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share * 100:.1f} %".replace(".", ",")
