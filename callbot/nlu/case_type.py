"""What kind of help the call is about, in the 1022 line's four menu options (key 2)."""

from __future__ import annotations

from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.keywords import score_cues
from callbot.nlu.text import fold, normalise

ESSENTIALS = "essentials"  # food and essentials for self, family or neighbours
SUPPORT_POLICY = "support_policy"  # a support policy the person is eligible for, not received
VULNERABLE = "vulnerable"  # elderly alone, street/orphaned children, disabled, seriously ill
OTHER = "other"
# Keypad order of the hotline's menu.
CASE_TYPES = (ESSENTIALS, SUPPORT_POLICY, VULNERABLE, OTHER)

# Weight 2: the cue alone decides; weight 1: suggestive. Ties are broken by CASE_TYPES
# priority below, so a caller who mentions food *and* an unpaid allowance is a policy case:
# the food need is often the consequence of the missing payment.
_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    ESSENTIALS: (
        ("gạo", 2),
        ("hết gạo", 2),
        ("thực phẩm", 2),
        ("lương thực", 2),
        ("đồ ăn", 2),
        ("thức ăn", 2),
        ("không có gì ăn", 2),
        ("không có cái ăn", 2),
        ("nhu yếu phẩm", 2),
        ("mì gói", 2),
        ("mì tôm", 2),
        ("đói", 2),
        ("thiếu ăn", 2),
        ("túi an sinh", 2),
        ("nhịn đói", 2),
        ("bữa ăn", 2),
        ("cái ăn", 2),
        ("ăn uống", 1),
        ("sữa", 1),
        ("rau", 1),
        ("trứng", 1),
        ("dầu ăn", 2),
        ("nước mắm", 2),
        ("thiết yếu", 2),
        ("tiếp tế", 2),
        ("đồ dùng", 1),
        ("cơm", 1),
        ("ăn", 1),
        ("hết đồ", 1),
        ("đi chợ", 1),
        ("thịt cá", 2),
    ),
    SUPPORT_POLICY: (
        ("tiền hỗ trợ", 2),
        ("gói hỗ trợ", 2),
        ("trợ cấp", 2),
        ("chính sách", 2),
        ("chưa nhận được", 1),
        ("chưa được nhận", 1),
        ("chưa nhận", 1),
        ("chưa được", 0.5),
        ("nghị quyết", 2),
        ("danh sách", 1),
        ("lao động tự do", 2),
        ("bảo hiểm thất nghiệp", 2),
        ("mất việc", 1),
        ("tiền", 1),
        ("chưa phát", 1),
        ("chưa có tên", 1),
        ("đăng ký", 1),
        ("chế độ", 2),
        ("trợ giúp", 1),
        ("hộ nghèo", 1),
        ("cận nghèo", 1),
        ("chi trả", 2),
        ("không được nhận", 1),
        ("bị bỏ sót", 2),
        ("hồ sơ", 1),
        ("xét duyệt", 2),
    ),
    VULNERABLE: (
        ("sống một mình", 2),
        ("ở một mình", 2),
        ("neo đơn", 2),
        ("người già", 2),
        ("cụ già", 2),
        ("bà cụ", 2),
        ("ông cụ", 2),
        ("cao tuổi", 2),
        ("mồ côi", 2),
        ("lang thang", 2),
        ("vô gia cư", 2),
        ("khuyết tật", 2),
        ("tàn tật", 2),
        ("bại liệt", 2),
        ("khiếm thị", 2),
        ("bị mù", 2),
        ("bệnh nặng", 2),
        ("ung thư", 2),
        ("hiểm nghèo", 2),
        ("liệt giường", 2),
        ("chạy thận", 2),
        ("nan y", 2),
        ("không ai chăm sóc", 2),
        ("không nơi nương tựa", 2),
        ("tâm thần", 2),
        ("ốm nặng", 2),
        ("bệnh", 1),
        ("ốm", 1),
        ("xe lăn", 2),
        ("bị liệt", 2),
        ("đau yếu", 2),
        ("già yếu", 2),
        ("trẻ em", 1),
        ("đường phố", 1),
        ("ngủ ngoài đường", 2),
        ("không nhà", 2),
        ("không có nhà", 2),
        ("câm điếc", 2),
        ("bị điếc", 2),
        ("tai biến", 2),
        ("cụ", 1),
    ),
}
_PRIORITY = {SUPPORT_POLICY: 3, VULNERABLE: 2, ESSENTIALS: 1}
_MIN_WORDS_FOR_OTHER = 3


def case_type_from_key(digit: str) -> str | None:
    """Keypad 1–4 in the hotline's menu order."""
    if len(digit) == 1 and digit in "1234":
        return CASE_TYPES[int(digit) - 1]
    return None


def extract_case_type(text: str) -> Extraction | None:
    norm = normalise(text)
    choice = spoken_choice(norm, len(CASE_TYPES))
    if choice is not None:
        return Extraction(CASE_TYPES[choice - 1], 0.9, norm)
    toks = norm.split()
    hits = score_cues(fold(norm), _CUES)
    if not hits:
        # Something was said, just nothing we know: the 1022 menu's "other" option. Too short
        # an utterance ("alo", "dạ") is no answer at all.
        if len(toks) >= _MIN_WORDS_FOR_OTHER:
            return Extraction(OTHER, 0.4, norm)
        return None
    ranked = sorted(hits.values(), key=lambda h: (h.score, _PRIORITY[h.label]), reverse=True)
    best = ranked[0]
    margin = best.score - (ranked[1].score if len(ranked) > 1 else 0.0)
    confidence = 0.55 + 0.2 * min(best.score, 2.0) / 2.0 + 0.2 * min(margin, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(toks))
