"""What kind of help the call is about, in the 1022 line's four menu options (key 2)."""

from __future__ import annotations

from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import not_an_answer_yet
from callbot.nlu.human_request import wants_human
from callbot.nlu.keywords import score_cues
from callbot.nlu.text import fold, normalise, word_set

ESSENTIALS = "essentials"  # food and essentials for self, family or neighbours
SUPPORT_POLICY = "support_policy"  # a support policy the person is eligible for, not received
VULNERABLE = "vulnerable"  # elderly alone, street/orphaned children, disabled, seriously ill
OTHER = "other"
# Keypad order of the hotline's menu.
CASE_TYPES = (ESSENTIALS, SUPPORT_POLICY, VULNERABLE, OTHER)

# Someone old or young is in the story: suggestive, and two of them ("bà già với đứa nhỏ")
# are still not a vulnerable case when the need said is food or money.
_PRESENT = 0.75
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
        # Money *for food* is a food need, not a policy claim ("không có tiền mua gạo").
        ("tiền ăn", 2),
        ("tiền mua gạo", 2),
        ("tiền mua đồ ăn", 2),
        ("tiền mua sữa", 2),
        ("mua gạo", 2),
        ("mua đồ ăn", 2),
        ("mua sữa", 2),
        ("mua thức ăn", 2),
        ("sữa cho con", 2),
        ("sữa cho cháu", 2),
        ("bỉm sữa", 2),
        ("tã sữa", 2),
        ("nhịn ăn", 2),
        ("chưa ăn", 2),
        ("không có ăn", 2),
        ("hết ăn", 2),
        ("đứt bữa", 2),
        ("cháo", 1),
        ("tiền chợ", 2),
        ("tủ lạnh trống", 2),
        ("nấu", 1),
        ("bếp", 1),
        ("nấu ăn", 2),
        ("đong gạo", 2),
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
        ("tiền", 0.5),
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
        # Eligibility and the pandemic payments ("đủ điều kiện nhận hỗ trợ", "hỗ trợ covid").
        ("điều kiện", 2),
        ("nhận hỗ trợ", 1),
        ("hỗ trợ covid", 2),
        ("nộp hồ sơ", 2),
        ("nộp đơn", 2),
        ("nộp rồi", 2),
        ("có tên", 1),
        ("hỗ trợ tiền", 2),
        ("được hỗ trợ", 1),
        ("trợ cấp covid", 2),
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
        ("trẻ em", _PRESENT),
        ("đường phố", 1),
        ("ngủ ngoài đường", 2),
        ("không nhà", 2),
        ("không có nhà", 2),
        ("câm điếc", 2),
        ("bị điếc", 2),
        ("tai biến", 2),
        ("cụ", _PRESENT),
        # Described without the category's words: a child or a sick or disabled person
        # left with nobody to look after them.
        ("một mình", 2),
        ("không ai trông", 2),
        ("không ai chăm", 2),
        ("không ai lo", 2),
        ("không người chăm", 2),
        ("không có người chăm", 2),
        ("không ai nuôi", 2),
        ("bỏ rơi", 2),
        ("cháu nhỏ", _PRESENT),
        ("con nhỏ", _PRESENT),
        ("em bé", _PRESENT),
        ("trẻ nhỏ", _PRESENT),
        ("đứa nhỏ", _PRESENT),
        ("nằm một chỗ", 2),
        ("đi lại khó khăn", 2),
        ("không đi lại được", 2),
        ("nằm viện", 2),
        ("bệnh viện", 1),
        ("mù", 1),
        ("điếc", 1),
        ("tật", 1),
        ("già", _PRESENT),
        ("tuổi già", 2),
        ("bệnh tim", 2),
        ("tiểu đường", 2),
        ("bạo hành", 2),
        # Illness, injury and disability in everyday words: the menu's option 3 names
        # serious illness, and the 1022 line files medical needs with it. (Two words where
        # one would fold onto a common word: "thuốc"/"thuộc", "não"/"nào", "mổ"/"mồ",
        # "sốt"/"sót", "gãy"/"gây", "thận"/"thân".)
        ("y tế", 2),
        ("thuốc men", 2),
        ("tiền thuốc", 2),
        ("mua thuốc", 2),
        ("xin thuốc", 2),
        ("hết thuốc", 2),
        ("cần thuốc", 2),
        ("uống thuốc", 2),
        ("khám bệnh", 2),
        ("đi khám", 2),
        ("chữa bệnh", 2),
        ("bị sốt", 2),
        ("sốt cao", 2),
        ("sốt xuất huyết", 2),
        ("bị ho", 2),
        ("ho sốt", 2),
        ("khó thở", 2),
        ("bị thương", 2),
        ("tai nạn", 2),
        ("băng bó", 2),
        ("bị cụt", 2),
        ("cụt chân", 2),
        ("cụt tay", 2),
        ("đột quỵ", 2),
        ("liệt", 2),
        ("huyết áp", 2),
        ("thiểu năng", 2),
        ("không tự lo", 2),
        ("bệnh down", 2),
        ("sinh non", 2),
        ("bỏ lại", 2),
        ("bụi đời", 2),
        ("không cha mẹ", 2),
        ("không có cha mẹ", 2),
        ("không có ba mẹ", 2),
        ("không còn cha mẹ", 2),
        ("cha mẹ mất", 2),
        ("ba mẹ mất", 2),
        ("ba má mất", 2),
        ("bị bỏ", 2),
        ("bỏ đói", 3),
        ("bị bệnh", 2),
        ("bị đau", 2),
        ("suy thận", 2),
        ("suy tim", 2),
        ("suy dinh dưỡng", 2),
        ("bệnh thận", 2),
        ("bệnh phổi", 2),
        ("bệnh gan", 2),
        ("xơ gan", 2),
        ("bại não", 2),
        ("viêm", 2),
        ("bị lẫn", 2),
        ("lãng trí", 2),
        ("mất trí", 2),
        ("đi lạc", 2),
        ("bị gãy", 2),
        ("gãy chân", 2),
        ("gãy tay", 2),
        ("phải mổ", 2),
        ("mới mổ", 2),
        ("phẫu thuật", 2),
        ("hóa trị", 2),
        ("tự kỷ", 2),
        ("khiếm thính", 2),
        ("không đi được", 2),
        ("đi không nổi", 2),
        ("đi không được", 2),
        ("ngủ ngoài", 2),
        ("gầm cầu", 2),
        ("không có chỗ ở", 2),
        ("không chỗ ở", 2),
        ("không ai hỏi", 2),
        ("không ai ngó", 2),
        ("không ai nấu", 2),
        ("không ai giúp", 2),
        ("không ai đưa", 2),
        ("ông già", _PRESENT),
        ("bà già", _PRESENT),
    ),
    # Requests outside the three categories: the menu's "other", said in its own words.
    OTHER: (
        ("việc khác", 2),
        ("chuyện khác", 2),
        ("vấn đề khác", 2),
        ("khác", 1),
        ("giấy tờ", 2),
        ("thủ tục", 2),
        ("căn cước", 2),
        ("mất điện", 2),
        ("cúp điện", 2),
        ("mất nước", 2),
        ("cúp nước", 2),
        ("tiền điện", 2),
        ("tiền nước", 2),
        ("tiếng ồn", 2),
        ("ồn ào", 2),
        ("ngập", 2),
        ("rác", 2),
        ("góp ý", 2),
        ("phản ánh", 2),
        ("khiếu nại", 2),
        ("tố cáo", 2),
        ("việc làm", 2),
        ("học phí", 2),
        ("tiêm", 2),
        ("vắc xin", 2),
        ("xét nghiệm", 2),
        ("cách ly", 1),
        ("hỏi", 1),
        ("thông tin", 1),
        ("đường sá", 2),
        ("an ninh", 2),
        ("trộm", 2),
        ("đất đai", 2),
        ("nhà đất", 2),
        ("ồn quá", 2),
        ("ồn lắm", 2),
        ("làm ồn", 2),
        ("karaoke", 2),
        ("hát", 1),
        ("ống cống", 2),
        ("cống rãnh", 2),
        ("nghẹt", 2),
        ("mùi hôi", 2),
        ("hôi thối", 2),
        ("kẹt xe", 2),
        ("giao thông", 2),
        ("đèn đường", 2),
        ("cây ngã", 2),
        ("chủ trọ", 2),
        ("chủ nhà trọ", 2),
        ("tăng giá", 2),
        ("bị đuổi", 2),
        ("đuổi ra", 2),
        ("giấy khai sinh", 2),
        ("tạm trú", 2),
        ("bảo hiểm y tế", 2),
        ("thẻ bảo hiểm", 2),
        ("đổi thẻ", 2),
        ("hộ khẩu", 2),
        ("đăng ký xe", 2),
        ("giấy phép", 2),
        ("bằng lái", 2),
        ("lừa đảo", 2),
        ("nợ lương", 2),
    ),
}
_PRIORITY = {SUPPORT_POLICY: 3, VULNERABLE: 2, ESSENTIALS: 1, OTHER: 0}
_MIN_WORDS_FOR_OTHER = 3
# A request in words none of the cues know is the menu's "other" — a real answer, accepted
# (and read back), not a failure that asks the caller again and again.
_UNKNOWN_REQUEST = 0.5
# A sentence whose only cues are words heard with other tone marks ("đòi" is not "đói") or
# a lone half cue is a request in words none of the cues know: the menu's "other".
_WEAK_HITS = 0.5
_MIN_WORDS_FOR_WEAK_OTHER = 6


# A request for help that says nothing of what help ("tôi cần hỗ trợ", "nhà khó khăn lắm",
# "giúp tôi với"): no case type yet, the dialog asks again, never the menu's "other".
_GENERIC = word_set(
    "tôi tui em mình con cháu chị anh cô chú bác ơi ạ dạ vâng cần xin muốn được nhờ hỗ trợ "
    "giúp đỡ với cho nhà gia đình khó khăn lắm quá hoàn cảnh đang rất thật sự là"
)
_GENERIC_PLAIN = frozenset(fold(w) for w in _GENERIC)


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
    generic = _GENERIC_PLAIN if fold(norm) == norm else _GENERIC
    if toks and all(t in generic for t in toks):
        return None
    hits = score_cues(norm, _CUES)
    if max((h.score for h in hits.values()), default=0.0) <= _WEAK_HITS and wants_human(text):
        return None  # "cho tôi gặp người thật": no request said yet, the dialog hands over
    # (Typed without marks, every cue counts half: a weak score there is a real cue.)
    weak = hits and max(h.score for h in hits.values()) <= _WEAK_HITS and fold(norm) != norm
    if weak and len(toks) >= _MIN_WORDS_FOR_WEAK_OTHER and not not_an_answer_yet(norm):
        return Extraction(OTHER, _UNKNOWN_REQUEST, norm)
    if not hits:
        # Something was said, just nothing we know: the 1022 menu's "other" option. Too short
        # an utterance ("alo", "dạ") is no answer at all, nor is "để tôi nghĩ đã".
        if len(toks) >= _MIN_WORDS_FOR_OTHER and not not_an_answer_yet(norm):
            return Extraction(OTHER, _UNKNOWN_REQUEST, norm)
        return None
    ranked = sorted(hits.values(), key=lambda h: (h.score, _PRIORITY[h.label]), reverse=True)
    best = ranked[0]
    if best.score < 2.0 and not_an_answer_yet(norm):
        return None  # "khoan, để tôi hỏi vợ cái": the "hỏi" of a caller still thinking
    margin = best.score - (ranked[1].score if len(ranked) > 1 else 0.0)
    # Two full cues ahead of the rest → 0.9; one suggestive cue → 0.6; a cue heard only
    # with its tone marks gone (half weight) stays under the dialog's 0.5.
    confidence = 0.3 + 0.3 * min(best.score, 2.0) / 2.0 + 0.3 * min(margin, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(toks))
