"""How urgent a caller's situation is, from what they said: ``assess_urgency(text)``.

Three levels. **emergency**: a life in danger now (violence or a threat happening, someone
unconscious or not breathing, fire, a suicide intent, a child in danger): the bot tells the
caller the emergency numbers and hands them back to a person at once. **urgent**: harm
within hours without help (no food today, an elderly person, a sick or disabled person or a
child left alone, no shelter tonight, an illness without medicine or care): the ticket goes
ahead of the others with a shorter SLA. **normal**: everything else (questions, complaints,
needs that can wait a day).

Cues are phrases with weights (2: enough alone; 1 or less: only together with others),
found by ``keywords.score_cues`` (tones first: a cue heard without its tone marks counts
half), clause by clause, with three corrections written down once here:

- *negation*: "không ai bị thương", "mà không có đánh ai": a cue right after a negator
  (with at most a few filler words between: "không có ai bị …") counts nothing. Cues that
  are themselves negative ("không có gì ăn", "không thở") are written as such.
- *the past*: "năm ngoái bị cháy", "hồi trước bị chồng đánh, giờ ly hôn rồi": in a clause
  with a past marker a cue counts nothing; last night's event ("vụ cháy tối qua") still
  leaves its consequences, so an emergency cue there counts as urgent only.
- *harmless senses and reassurance*: "cháy túi" (broke), "đánh giá", "mệt muốn chết" are
  longer cues of weight 0 that cover the alarming word; "vẫn còn gạo", "em vẫn chăm được",
  "giờ khỏe rồi" subtract.

ASR text arrives lower-case, often without punctuation and sometimes without any tone
marks: clauses are also cut at words that start a new one ("giờ", "mà", "nhưng"), and a
transcript with no tone mark at all counts its tone-less matches fully (there is nothing
else to match it by). The thresholds were chosen on ``tests/data/urgency_tuning.jsonl``
(docs/triage.md says which operating point and why).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from callbot.nlu.keywords import DROPPED_MARKS_WEIGHT, score_cues
from callbot.nlu.text import fold, normalise

NORMAL = "normal"
URGENT = "urgent"
EMERGENCY = "emergency"
LEVELS = (NORMAL, URGENT, EMERGENCY)  # in rising order

# The operating point (docs/triage.md): evidence in cue weights; 2 is one clear cue.
URGENT_AT = 2.0
EMERGENCY_AT = 2.0
# An emergency cue in a clause about last night or yesterday: its consequences are urgent.
RECENT_PAST_WEIGHT = 1.0  # × the cue's weight, counted as urgent evidence only

_E = "e"  # emergency evidence
_U = "u"  # urgent evidence
_C = "c"  # reassurance (subtracted)
_H = "h"  # a harmless sense of an alarming word: weight 0, it only covers the word

# fmt: off
_EMERGENCY_CUES: tuple[tuple[str, float], ...] = (
    # violence and threats, now
    ("cầm dao", 2), ("cầm dao đòi", 2), ("đòi chém", 2), ("đòi giết", 2), ("dọa giết", 2),
    ("doạ giết", 2), ("muốn giết", 2), ("giết", 1.5), ("chém", 1.5), ("đâm", 1), ("bị đâm", 2),
    ("đánh chết", 2), ("đang đánh", 2), ("đánh đập", 2), ("bị đánh", 1.5), ("đánh", 1),
    ("đánh em", 2), ("đánh tôi", 2), ("đánh tui", 2), ("đánh con", 1.5), ("đánh vợ", 1.5),
    ("chồng đánh", 1.5), ("đòi đánh", 2), ("dọa đánh", 2), ("doạ đánh", 2), ("sẽ đánh", 1.5),
    ("hành hung", 2),
    ("đập cửa", 1), ("chặn không cho", 1.5), ("nhốt", 1.5), ("trốn", 1), ("cưỡng hiếp", 2),
    ("hiếp", 2), ("xâm hại", 2), ("bắt cóc", 2), ("dụ", 1), ("không thấy nó đâu", 1.5),
    ("mất tích", 2), ("súng", 2), ("xăng", 1), ("tưới xăng", 2), ("đốt nhà", 2),
    ("dọa", 0.5), ("doạ", 0.5), ("cứu với", 2), ("cứu tôi", 2), ("cứu em", 2), ("cứu", 1),
    ("dao", 1), ("gãy tay", 0.5),
    ("mang theo xăng", 2), ("mang theo dao", 2), ("mang dao", 2), ("có dao", 1.5),
    ("bóp cổ", 2), ("siết cổ", 2), ("xô xát", 1.5), ("ẩu đả", 1.5), ("đâm chém", 2),
    ("cướp", 1.5), ("đe dọa", 1), ("đe doạ", 1), ("bắt nhốt", 2), ("không cho ra", 1.5),
    ("xông vào", 1.5), ("phá cửa", 1.5), ("đập phá", 1.5), ("axit", 2), ("a xít", 2),
    ("tạt", 1), ("sàm sỡ", 1.5), ("lạm dụng", 1.5), ("khóc thét", 1), ("khóa cửa", 0.5),
    ("khoá cửa", 0.5), ("lạc mất", 1.5), ("không thấy đâu", 1.5), ("bị thương", 1.5),
    ("bị thương nặng", 2), ("thương nặng", 2),
    # the body, now
    ("té xỉu", 2), ("ngất xỉu", 2), ("xỉu", 1.5), ("ngất", 2), ("bất tỉnh", 2),
    ("không tỉnh", 2), ("không trả lời", 1), ("không thở", 2), ("thở không nổi", 2),
    ("thở không được", 2), ("không thở được", 2), ("ngưng thở", 2), ("tắt thở", 2),
    ("khó thở", 1.5), ("co giật", 2), ("lên cơn", 1), ("trợn", 1), ("méo miệng", 2),
    ("nói không ra tiếng", 1.5), ("yếu một bên", 2), ("liệt một bên", 2), ("đau ngực", 2),
    ("đau tim", 2), ("nhồi máu", 2), ("đột quỵ", 2), ("tai biến", 1.5), ("chảy máu", 1.5),
    ("máu chảy", 1.5), ("mất máu", 2), ("máu ra nhiều", 2), ("ra nhiều máu", 2),
    ("không cầm được", 1), ("mặt tím", 2), ("tím tái", 2), ("tím", 1), ("mắc nghẹn", 2),
    ("hóc", 1), ("lơ mơ", 2), ("mê man", 2), ("hôn mê", 2), ("bất động", 2),
    ("xe tông", 1.5), ("tai nạn", 1), ("uống lộn thuốc", 2), ("uống nhầm", 2),
    ("ngộ độc", 2), ("thuốc tẩy", 1), ("thuốc chuột", 2), ("thuốc sâu", 2),
    ("đuối nước", 2), ("chết đuối", 2), ("té xuống kênh", 2), ("té xuống sông", 2),
    ("rớt xuống sông", 2), ("té xuống ao", 2), ("vỡ ối", 2), ("điện giật", 2),
    ("sắp chết", 2), ("hấp hối", 2),
    ("ngừng tim", 2), ("đứng tim", 2), ("không cử động", 1.5), ("không nhúc nhích", 1.5),
    ("sùi bọt mép", 2), ("lên cơn suyễn", 2), ("ra máu", 1.5), ("rắn cắn", 2),
    ("bị bỏng", 2), ("bị phỏng", 2), ("bỏng", 1), ("phỏng", 1), ("nước sôi", 1),
    ("bị đè", 2), ("mắc kẹt", 2), ("kẹt trong", 1.5), ("sạt lở", 2), ("nước dâng", 1),
    ("rơi từ", 1.5), ("té từ", 1.5), ("té lầu", 2), ("đập đầu", 1.5), ("thuốc ngủ", 1.5),
    ("đau bụng dữ dội", 2),
    # fire and gas
    ("cháy", 2), ("đang cháy", 2), ("cháy nhà", 2), ("khói", 1), ("lửa", 1), ("nổ", 1.5),
    ("xì ga", 2), ("mùi ga", 2), ("rò rỉ ga", 2), ("rò ga", 2), ("chập điện", 1.5),
    ("bình ga", 1), ("xì", 1), ("cháy rụi", 1.5), ("hỏa hoạn", 2), ("hoả hoạn", 2),
    # suicide and self-harm
    ("không muốn sống", 2), ("muốn chết", 2), ("tự tử", 2), ("tự sát", 2),
    ("nhảy cầu", 2), ("nhảy lầu", 2), ("cắt tay", 2), ("cắt cổ tay", 2), ("treo cổ", 2),
    ("từ biệt", 2), ("chết cho xong", 2), ("tự làm hại", 2), ("uống hết", 1),
    ("lan can", 1),
    ("uống thuốc ngủ", 2), ("rạch tay", 2), ("quyên sinh", 2), ("không thiết sống", 2),
    ("chán sống", 2), ("đòi nhảy", 2), ("nhảy xuống", 1.5),
)

_URGENT_CUES: tuple[tuple[str, float], ...] = (
    # no food now
    ("không có gì ăn", 2), ("không còn gì ăn", 2), ("chưa có gì ăn", 2), ("chưa ăn gì", 2),
    ("không có ăn", 2), ("không có gì cho", 1.5), ("không còn gì", 1.5), ("chưa ăn", 1.5),
    ("hết gạo", 1.5), ("nhịn đói", 2), ("nhịn", 1.5), ("đói", 1.5), ("đói khóc", 2),
    ("chết đói", 2), ("cầm hơi", 1), ("hết luôn", 1), ("hết sạch", 1), ("hết mì", 1.5),
    ("không có cơm", 1.5), ("hột cơm", 1), ("không ai cho", 1.5), ("không ai nấu", 1.5),
    ("không ai đem cơm", 2), ("sữa không có", 1.5), ("không có sữa", 1.5),
    ("không còn đồng nào", 1), ("không còn một đồng", 1), ("không có đồng nào", 1),
    ("không có tiền", 0.5), ("hết tiền", 0.5), ("tiền không có", 0.5), ("trôi mất", 0.5),
    ("hết đồ ăn", 1.5), ("hết thức ăn", 1.5), ("không còn gạo", 2), ("đứt bữa", 2),
    ("không có gì bỏ bụng", 2), ("không có tiền mua gạo", 2), ("không có tiền mua sữa", 2),
    ("không có tiền mua đồ ăn", 2), ("không có tiền ăn", 2),
    # nobody to look after them
    ("ở một mình", 1), ("sống một mình", 1), ("ở nhà một mình", 1.5), ("một mình", 0.5),
    ("không ai lo", 2), ("không ai chăm", 2), ("không có ai chăm", 2), ("không ai trông", 2),
    ("không có ai trông", 2), ("không ai giúp", 1.5), ("không ai ở nhà", 2),
    ("không ai đưa", 1.5), ("không có ai hết", 1.5), ("không người chăm", 2),
    ("không có người chăm", 2), ("bỏ đi hết", 1), ("bỏ đi", 1), ("bỏ rơi", 2),
    ("đi lạc", 1.5), ("không có ai", 1), ("không về", 0.5), ("về quê", 0.5),
    ("nhập viện", 0.5), ("đi tù", 0.5), ("bị bắt", 0.5),
    ("không người thân", 1.5), ("không có người thân", 1.5), ("không nơi nương tựa", 2),
    ("neo đơn", 1), ("một thân một mình", 1), ("bị bỏ lại", 1.5), ("bỏ mặc", 2),
    ("không ai coi", 2), ("không có ai coi", 2), ("không có người lo", 2),
    # who is at risk
    ("bà cụ", 0.5), ("ông cụ", 0.5), ("cụ già", 0.5), ("người già", 0.5), ("già", 0.5),
    ("liệt", 1), ("nằm liệt", 1.5), ("nằm một chỗ", 1), ("khuyết tật", 0.5), ("bại não", 1),
    ("mù", 0.5), ("câm điếc", 0.5), ("bị lẫn", 1), ("mồ côi", 1), ("đứa nhỏ", 0.5),
    ("con nít", 0.5), ("em bé", 0.5), ("mới sanh", 1), ("mới sinh", 1), ("bầu", 1),
    ("mang thai", 1), ("sắp sanh", 1.5), ("sắp sinh", 1.5), ("tuổi", 0.25),
    # no roof tonight
    ("không có chỗ ở", 2), ("không có chỗ ngủ", 2), ("không biết ngủ ở đâu", 2),
    ("không biết đi đâu", 1.5), ("không có nhà", 1.5), ("đuổi ra", 1.5), ("bị đuổi", 1),
    ("ngủ ngoài", 1.5), ("ngoài đường", 1), ("bến xe", 1), ("trạm xe buýt", 1),
    ("sập", 1.5), ("ở nhờ", 1), ("vô gia cư", 2), ("lang thang", 1.5), ("tối nay", 0.5),
    ("mất nhà", 1.5), ("không nhà", 1.5), ("gầm cầu", 1.5), ("vỉa hè", 1), ("mái hiên", 1),
    ("màn trời chiếu đất", 2),
    # ill or hurt without care
    ("hết thuốc", 2), ("không có thuốc", 2), ("không có tiền mua thuốc", 2),
    ("không có tiền đi khám", 2), ("không đi khám được", 1.5), ("không có tiền đưa", 1.5),
    ("không có tiền tái khám", 2), ("không có tiền đi chạy", 2), ("sốt", 1),
    ("sốt xuất huyết", 1.5), ("tiêu chảy", 1), ("ói", 0.5), ("ho ra máu", 1.5),
    ("ung thư", 1), ("chạy thận", 1), ("suy tim", 1), ("động kinh", 1), ("đau", 0.5),
    ("phù", 0.5), ("bệnh nặng", 1), ("ốm nặng", 1), ("bệnh lao", 1), ("gãy chân", 1),
    ("gãy", 0.5), ("đi không được", 1), ("không đi được", 1), ("bị té", 1), ("té", 0.5),
    ("ống truyền", 1), ("xuất viện", 0.5),
    ("không có tiền chữa", 2), ("thở oxy", 1), ("insulin", 1), ("yếu lắm", 0.5),
)

_REASSURANCE: tuple[tuple[str, float], ...] = (
    ("vẫn còn gạo", 2), ("còn gạo", 1.5), ("gạo thì còn", 2), ("đủ tới", 1.5),
    ("đủ ăn", 1.5), ("vẫn chăm được", 2), ("chăm được", 1.5), ("có người ở với", 2),
    ("ở với", 1), ("không sao", 1.5), ("khỏe rồi", 2), ("khoẻ rồi", 2), ("lành rồi", 2),
    ("đã uống thuốc", 1), ("uống thuốc đều", 1.5), ("sơ sơ", 1), ("ly hôn rồi", 1),
    ("muốn hỏi", 0.5), ("cho hỏi", 0.5), ("còn ít tiền", 1),
    ("vẫn ổn", 1.5), ("ổn rồi", 1.5), ("đã khỏi", 2), ("khỏi rồi", 2), ("hết bệnh", 2),
    ("bình phục", 2), ("đủ dùng", 1.5), ("còn đủ", 1.5), ("không gấp", 2),
    ("không cần gấp", 2), ("có người chăm", 2), ("có người lo", 2), ("con cháu chăm", 1.5),
    ("ở chung với", 1), ("đã đi khám", 1),
)

# Longer than the alarming word they contain, so that word is not counted (score_cues
# counts a cue inside a longer one only once, for the longer one).
_HARMLESS: tuple[str, ...] = (
    "cháy túi", "cháy hàng", "cháy vé", "cháy phố", "đánh giá", "đánh răng", "đánh bài",
    "đánh thức", "đánh máy", "đánh số", "đánh dấu", "đánh rơi", "đánh vần", "đánh tiếng",
    "đánh cầu", "đâm đơn", "chém gió", "mệt muốn chết", "buồn muốn chết", "nóng muốn chết",
    "giết thời gian", "chết máy", "chết cười", "cứu trợ", "cứu tế", "đói kém", "ngất ngây",
    "nổ lực", "nỗ lực", "đau đầu quá", "lửa trại", "bếp lửa", "khói xe", "tuổi thơ",
    "năm tuổi mới", "xe cứu thương", "dao kéo", "bỏ đi chỗ khác", "sáp nhập",
    "sốt ruột", "nóng máu", "máu lửa", "tức muốn chết", "lo muốn chết", "giận muốn chết",
    "đau lòng", "đau đầu vì", "té ngửa", "cháy nắng", "nổ máy", "bảo hiểm tai nạn",
    "xì xào", "bổ sung", "xe chạy", "chạy ngang", "chạy xe",
)
# fmt: on

_CUES: dict[str, tuple[tuple[str, float], ...]] = {}
for _kind, _table in ((_E, _EMERGENCY_CUES), (_U, _URGENT_CUES), (_C, _REASSURANCE)):
    for _cue, _weight in _table:
        # One label per cue: score_cues reports each label's first span, and negation and
        # tense are judged at the cue's own place.
        _CUES[f"{_kind}:{_cue}"] = ((_cue, _weight),)
for _cue in _HARMLESS:
    _CUES[f"{_H}:{_cue}"] = ((_cue, 0.0),)

# Folded, so "khong" from a tone-less transcript is a negator too.
_NEGATORS = frozenset({"khong", "chua", "chang", "cha", "khoi", "ko", "hong"})
# Words that may stand between a negator and what it negates: "không có ai bị thương".
_NEGATION_FILLERS = frozenset({"co", "he", "phai", "ai", "bi", "duoc", "con", "dau", "gi"})
_MAX_FILLERS = 3
# Folded phrases that put a clause in the past; the "recent" ones are last night's events.
_PAST = (
    "nam ngoai", "nam roi", "nam truoc", "hoi truoc", "hoi xua", "truoc day", "thang truoc",
    "tuan truoc", "bua truoc", "hom truoc", "lan truoc", "da tung", "tung bi", "hoi do",
    "hoi nho", "may nam", "thang roi",
)  # fmt: skip
_RECENT_PAST = ("toi qua", "dem qua", "hom qua", "hoi hom", "sang nay")
# Words that begin a new clause when the recogniser wrote no punctuation.
_CLAUSE_STARTS = frozenset({"gio", "ma", "nhung", "chi"})
_CLAUSE_BREAK = re.compile(r"[.,;:!?…\n]+|\s-\s")


@dataclass(frozen=True)
class Urgency:
    level: str  # one of LEVELS
    score: float  # evidence for that level, in cue weights (2.0: one clear cue)
    cues: tuple[str, ...] = ()  # the cues that counted, as written in this module

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)

    def above(self, level: str) -> bool:
        """More urgent than ``level`` (an unknown level counts as normal)."""
        return self.rank > (LEVELS.index(level) if level in LEVELS else 0)

    @property
    def confidence(self) -> float:
        """0.5 at the threshold, 1.0 two clear cues above it (stored as the slot's)."""
        if self.level == NORMAL:
            return 1.0
        at = EMERGENCY_AT if self.level == EMERGENCY else URGENT_AT
        return round(min(1.0, 0.5 + max(0.0, self.score - at) / 8), 3)


@dataclass(frozen=True)
class Evidence:
    """What the cues add up to, before the thresholds (the benchmark sweeps those)."""

    emergency: float
    urgent: float  # emergency evidence included: an emergency is urgent too
    cues: tuple[str, ...]


def clauses(text: str) -> list[str]:
    """Normalised clauses: cut at punctuation, then before words that start a clause."""
    out: list[str] = []
    for part in _CLAUSE_BREAK.split(unicodedata.normalize("NFC", text)):
        current: list[str] = []
        for word in normalise(part).split():
            if current and fold(word) in _CLAUSE_STARTS:
                out.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            out.append(" ".join(current))
    return out


def _negated(folded: list[str], start: int) -> bool:
    i = start - 1
    fillers = 0
    while i >= 0 and folded[i] in _NEGATION_FILLERS and fillers < _MAX_FILLERS:
        i -= 1
        fillers += 1
    return i >= 0 and folded[i] in _NEGATORS


def _has(padded_folded: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in padded_folded for p in phrases)


def evidence(text: str) -> Evidence:
    """Sum the cues of every clause of ``text``, with negation, tense and reassurance."""
    parts = clauses(text)
    joined = " ".join(parts)
    # A transcript with no tone mark anywhere: tone-less matches are all it can give.
    toneless = len(joined) > 0 and joined == fold(joined)
    boost = 1.0 / DROPPED_MARKS_WEIGHT if toneless else 1.0
    emergency = urgent = calm = 0.0
    found: list[str] = []
    for clause in parts:
        folded = fold(clause).split()
        padded = f" {' '.join(folded)} "
        # "hết thuốc từ tuần trước": since last week, i.e. still now.
        past = any(f" {p} " in padded and f" tu {p} " not in padded for p in _PAST)
        recent = _has(padded, _RECENT_PAST)
        for label, hit in score_cues(clause, _CUES).items():
            kind, cue = label.split(":", 1)
            # A lone syllable without its tones is too ambiguous to boost ("chay": chạy,
            # cháy; "sung": súng, bổ sung); a phrase is not.
            weight = hit.score * (boost if " " in cue else 1.0)
            if kind == _H or weight <= 0:
                continue
            if kind == _C:
                calm += weight
                continue
            if past:
                continue
            if not cue.startswith(("không", "chưa")) and _negated(folded, hit.first[0]):
                continue
            if kind == _E and recent:
                urgent += weight * RECENT_PAST_WEIGHT
            elif kind == _E:
                emergency += weight
            else:
                urgent += weight
            found.append(cue)
    return Evidence(
        emergency=max(0.0, emergency - calm),
        urgent=max(0.0, emergency + urgent - calm),
        cues=tuple(found),
    )


def level_of(ev: Evidence, *, urgent_at: float = URGENT_AT, emergency_at: float = EMERGENCY_AT):
    """The level an evidence reaches at the given thresholds, and its score."""
    if ev.emergency >= emergency_at:
        return EMERGENCY, ev.emergency
    if ev.urgent >= urgent_at:
        return URGENT, ev.urgent
    return NORMAL, ev.urgent


def assess_urgency(text: str) -> Urgency:
    """The urgency of what the caller said (any text; never raises)."""
    ev = evidence(text)
    level, score = level_of(ev)
    return Urgency(level, round(score, 3), ev.cues if level != NORMAL else ())
