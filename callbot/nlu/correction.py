"""Which slot a caller wants corrected after the readback ("sai địa chỉ", "sai tên")."""

from __future__ import annotations

from callbot.nlu.extraction import Extraction
from callbot.nlu.keywords import score_cues
from callbot.nlu.text import fold, normalise

# Slot names used by the dialog and the ticket.
_SLOT_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "phone": (
        ("số điện thoại", 3),
        ("điện thoại", 3),
        ("sđt", 3),
        ("số máy", 3),
        ("số đt", 3),
        ("số liên lạc", 3),
        ("số gọi lại", 3),
        ("số", 1),
    ),
    "address": (
        ("địa chỉ", 3),
        ("số nhà", 3),
        ("tên đường", 3),
        ("đường", 2),
        ("hẻm", 2),
        ("ngõ", 2),
        ("nhà ở", 1),
    ),
    "name": (("họ tên", 3), ("tên", 2), ("họ", 1)),
    "place": (
        ("phường", 3),
        ("quận", 3),
        ("xã", 3),
        ("huyện", 3),
        ("khu vực", 2),
        ("nơi ở", 2),
        ("thành phố", 2),
    ),
    "household": (
        ("số người", 3),
        ("số nhân khẩu", 3),
        ("nhân khẩu", 3),
        ("mấy người", 3),
        ("bao nhiêu người", 3),
        ("số thành viên", 3),
    ),
    "case_type": (("loại hỗ trợ", 3), ("nhu cầu", 2), ("trường hợp", 2), ("hỗ trợ gì", 3)),
    "subject": (("cho ai", 3), ("người cần", 2)),
}
_CORRECTION_CUES = (
    "sai",
    "nhầm",
    "chưa đúng",
    "không đúng",
    "sửa",
    "đổi",
    "chưa chính xác",
    "không chính xác",
    "ghi lại",
    "ghi sai",
    "đọc sai",
    "nghe nhầm",
    "lộn",
    "sửa lại",
)
_FOLDED_CUES = tuple(fold(c) for c in _CORRECTION_CUES)


def extract_correction(text: str) -> Extraction | None:
    """The slot name the caller says is wrong; lower confidence without an explicit cue."""
    norm = normalise(text)
    folded = fold(norm)
    hits = score_cues(norm, _SLOT_CUES)
    if not hits:
        return None
    best = max(hits.values(), key=lambda h: h.score)
    padded = f" {folded} "
    explicit = any(f" {c} " in padded for c in _FOLDED_CUES)
    confidence = (0.9 if explicit else 0.55) * (1.0 if best.score >= 2 else 0.8)
    return Extraction(best.label, round(confidence, 3), best.heard(norm.split()))
