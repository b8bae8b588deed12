"""Who needs the help: the caller, their family, a neighbour, someone else."""

from __future__ import annotations

from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import not_an_answer_yet, withdrawn
from callbot.nlu.keywords import CueHit, score_cues
from callbot.nlu.text import contains_phrase, fold, normalise, split_self_correction

SELF = "self"
FAMILY = "family"
NEIGHBOUR = "neighbour"
OTHER = "other"
SUBJECTS = (SELF, FAMILY, NEIGHBOUR, OTHER)  # keypad order

_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    SELF: (
        ("cho tôi", 2),
        ("cho mình", 2),
        ("cho em", 1),
        ("bản thân", 2),
        ("chính tôi", 2),
        ("chính mình", 2),
        ("chính em", 2),
        ("bản thân em", 2),
        ("cá nhân", 2),
        ("tôi cần", 1),
        ("em cần", 1),
        ("của tôi", 1),
        ("tôi", 0.5),
        ("cho con", 0.5),
        ("cho cháu", 0.5),
        ("mình tôi", 2),
        # Southern "tui" for "tôi".
        ("cho tui", 2),
        ("tự tui", 2),
        ("là tui", 2),
        ("tui nè", 2),
        ("mình tui", 2),
        ("tui cần", 1),
        ("của tui", 1),
        ("tui", 0.5),
        # An older caller naming themselves as the agent's elder ("cho cô nè con", "cho
        # chú đó cháu"): "cho" + the title, and the agent addressed as "con"/"cháu".
        ("cho cô", 1),
        ("cho chú", 1),
        ("cho bác", 1),
        ("cho bà", 1),
        ("cho ông", 1),
        ("nè con", 1),
        ("đó con", 1),
        ("nha con", 1),
        ("nè cháu", 1),
        ("đó cháu", 1),
        ("nha cháu", 1),
        ("của em", 1),
        ("em nè", 2),
        ("tôi nè", 2),
    ),
    FAMILY: (
        ("gia đình", 2),
        ("gia đìn", 2),  # the recogniser's clipped "gia đình"
        ("nhà tôi", 2),
        ("nhà em", 2),
        ("nhà mình", 2),
        ("vợ", 2),
        ("chồng", 2),
        ("con tôi", 2),
        ("con em", 2),
        ("mẹ tôi", 2),
        ("bố tôi", 2),
        ("ba tôi", 2),
        ("má tôi", 2),
        ("ba má", 2),
        ("bố mẹ", 2),
        ("cha mẹ", 2),
        ("ông bà", 2),
        ("người nhà", 2),
        ("cả nhà", 2),
        ("con cái", 2),
        ("em tôi", 2),
        ("anh tôi", 2),
        ("chị tôi", 2),
        ("mẹ chồng", 2),
        ("mẹ vợ", 2),
        ("cháu tôi", 2),
        ("ruột", 1),
        ("các con", 2),
        ("mấy đứa nhỏ", 2),
        # Kinship words name family even without "tôi" ("cho bà nội", "thằng con").
        ("bà nội", 2),
        ("ông nội", 2),
        ("bà ngoại", 2),
        ("ông ngoại", 2),
        ("mẹ", 2),
        ("má", 1),
        ("bố", 2),
        ("cha", 1),
        ("ba má", 2),
        ("con trai", 2),
        ("con gái", 2),
        ("con giai", 2),  # Northern "con trai"
        ("thằng con", 2),
        ("đứa con", 2),
        ("con dâu", 2),
        ("con rể", 2),
        ("đứa em", 2),
        ("em trai", 2),
        ("em gái", 2),
        ("anh trai", 2),
        ("chị gái", 2),
        ("cháu nội", 2),
        ("cháu ngoại", 2),
        ("cô ruột", 2),
        ("dì ruột", 2),
        ("chú ruột", 2),
        ("bác ruột", 2),
        ("mẹ già", 2),
        ("cha già", 2),
        ("bố già", 2),
        ("ông bà già", 2),
        ("tía", 2),
        ("dì tui", 2),
        ("dì tôi", 2),
        ("cô tui", 2),
        ("chú tui", 2),
        ("má tui", 2),
        ("ba tui", 2),
        ("mẹ tui", 2),
        ("con tui", 2),
        ("em tui", 2),
        ("anh tui", 2),
        ("chị tui", 2),
        ("cháu tui", 2),
        ("nhà tui", 2),
        ("ông xã", 2),
        ("bà xã", 2),
        # Parents called "ông già"/"bà già" (a stranger of that age is said with "một",
        # "ngoài đường", "bên cạnh": those cues outrank family), and in-laws.
        ("bà già", 2),
        ("ông già", 2),
        ("anh rể", 2),
        ("em rể", 2),
        ("chị dâu", 2),
        ("em dâu", 2),
        ("anh chồng", 2),
        ("chị chồng", 2),
        ("em chồng", 2),
        ("anh vợ", 2),
        ("em vợ", 2),
        ("bố chồng", 2),
        ("cha chồng", 2),
        ("ba chồng", 2),
        ("bố vợ", 2),
        ("ba vợ", 2),
        ("mẹ ruột", 2),
        ("thằng em", 2),
        # Southern siblings named by birth order ("anh hai", "chị ba", "út").
        ("anh hai", 2),
        ("anh ba", 2),
        ("anh tư", 2),
        ("anh năm", 2),
        ("anh sáu", 2),
        ("anh bảy", 2),
        ("anh tám", 2),
        ("anh chín", 2),
        ("anh mười", 2),
        ("anh út", 2),
        ("chị hai", 2),
        ("chị ba", 2),
        ("chị tư", 2),
        ("chị năm", 2),
        ("chị sáu", 2),
        ("chị bảy", 2),
        ("chị tám", 2),
        ("chị chín", 2),
        ("chị mười", 2),
        ("chị út", 2),
        ("út", 2),
        ("dì hai", 2),
        ("dì ba", 2),
        ("dì tư", 2),
        ("dì năm", 2),
        ("dì sáu", 2),
        ("dì bảy", 2),
        ("dì út", 2),
        ("bà sui", 2),
        ("ông sui", 2),
        ("sui gia", 2),
        ("chị họ", 2),
        ("anh họ", 2),
        ("em họ", 2),
        ("cô họ", 2),
        ("chú họ", 2),
        ("ông chú", 2),
        ("ông bác", 2),
        ("ông cậu", 2),
        ("bà cô", 2),
        ("bà dì", 2),
        ("bà bác", 2),
        ("bà thím", 2),
        ("thằng cháu", 2),
        ("đứa cháu", 2),
    ),
    NEIGHBOUR: (
        ("hàng xóm", 3),
        ("nhà bên cạnh", 3),
        ("bên cạnh nhà", 3),
        ("cùng xóm", 3),
        ("cùng hẻm", 3),
        ("trong hẻm", 2),
        ("trong xóm", 2),  # where someone is met, not who: "cô lao công trong xóm"
        ("cùng khu", 2),
        ("nhà đối diện", 3),
        ("xóm tôi", 3),
        ("xóm em", 3),
        ("phòng trọ bên cạnh", 3),
        ("khu trọ", 2),
        ("cạnh nhà", 3),
        ("kế bên", 3),
        ("nhà kế", 3),
        ("đầu hẻm", 2),
        ("cuối hẻm", 2),
        ("láng giềng", 3),
        ("lối xóm", 3),
        ("cả xóm", 3),
        ("bà con", 1),
        ("cùng tổ", 2),
        ("cùng dãy trọ", 3),
        ("bên cạnh", 2),
        ("nhà bên", 3),
        ("sát vách", 3),
        ("phòng bên", 3),
        ("phòng kế", 3),
        ("cùng chung cư", 3),
        ("cùng lầu", 3),
        ("cùng phòng trọ", 2),
        ("trọ chung", 3),
        ("xóm trên", 3),
        ("xóm dưới", 3),
        ("nhà trước mặt", 3),
        ("đối diện nhà", 3),
        ("trước cửa nhà", 2),
        ("nhà sau lưng", 3),
        ("đầu ngõ", 2),
        ("cuối ngõ", 2),
        ("trong ngõ", 2),
    ),
    OTHER: (
        ("người khác", 3),
        ("người quen", 3),
        ("bạn tôi", 3),
        ("bạn em", 3),
        ("người lạ", 3),
        ("đồng nghiệp", 3),
        ("một người", 2),
        ("người ta", 2),
        ("giùm người", 2),
        ("hộ người", 2),
        ("một bà", 2),
        ("một ông", 2),
        ("một cụ", 2),
        ("một em", 2),
        ("một cháu", 2),
        ("người đi đường", 3),
        ("người bán vé số", 3),
        ("không quen", 3),
        ("bạn của tôi", 3),
        ("người bạn", 3),
        ("ngoài đường", 2),
        ("giúp người", 2),
        ("bạn tui", 3),
        ("bán vé số", 3),
        ("lang thang", 2),
        ("vô gia cư", 3),
        ("công nhân", 3),
        ("người làm", 3),
        ("người thuê", 3),
        ("khách", 2),
        ("bạn bè", 3),
        ("bạn làm chung", 3),
        ("làm chung", 2),
        ("anh bạn", 3),
        ("chị bạn", 3),
        ("thằng bạn", 3),
        ("con bạn", 2),
        # People named by their trade or their tie to the caller, not by kinship: the
        # "ông", "bà", "cô", "cha" in them is a title ("cha xứ", "cô giáo", "bà chủ trọ").
        ("ăn xin", 3),
        ("ve chai", 3),
        ("xe ôm", 3),
        ("giúp việc", 3),
        ("chủ nhà", 3),
        ("chủ trọ", 3),
        ("chủ phòng", 3),
        ("cô giáo", 3),
        ("thầy giáo", 3),
        ("cha xứ", 3),
        ("bạn trai", 3),
        ("bạn gái", 3),
        ("ông lão", 2),
        ("bà lão", 2),
        ("bảo vệ", 3),
        ("bạn thân", 3),
        # A stranger said as "the man", "a woman", "a young man".
        ("người đàn ông", 3),
        ("người đàn bà", 3),
        ("người phụ nữ", 3),
        ("thanh niên", 2),
        ("ngủ ngoài", 2),
        ("sinh viên", 3),
        ("lao công", 3),
        ("bác sĩ", 3),
        ("y tá", 3),
        ("quen biết", 3),
    ),
}
# Third parties outrank the caller: "hàng xóm tôi" mentions "tôi" but is about the neighbour.
_PRIORITY = {NEIGHBOUR: 4, OTHER: 3, FAMILY: 2, SELF: 1}
# The labels whose cues name a person outright at weight 3.
_NAMED = (NEIGHBOUR, OTHER)
# A stranger is "other" wherever they are ("ông cụ ngoài đầu hẻm, không quen biết").
_STRANGER = ("không quen", "hổng quen", "người lạ", "lạ hoắc", "không biết là ai")
# Cues heard only with other tone marks add up to less than this: "cho ổng" (for him) is
# not "cho ông" said by an old man of himself.
_LEAST_SCORE = 0.5


# "Chị gái tôi ở cùng xóm": where a relative lives, not a neighbour.
_LIVES_AT = ("o", "song")  # folded: "ở", "sống"
_FAMILY_CUES = {FAMILY: _CUES[FAMILY]}  # one table object: score_cues keeps it sorted
_OWN = frozenset(("toi", "tui", "em", "minh", "con", "chau"))


def _kin_who_lives_there(norm: str, hits: dict[str, CueHit], full: float) -> bool:
    """Whether the neighbour cue only says where a relative named before it lives."""
    toks = norm.split()
    start = hits[NEIGHBOUR].first[0]
    if FAMILY not in hits or start == 0 or fold(toks[start - 1]) not in _LIVES_AT:
        return False
    family = score_cues(" ".join(toks[: start - 1]), _FAMILY_CUES).get(FAMILY)
    if family is None or family.score < full:
        return False
    # Only a relative said as the caller's own ("chị gái tôi"): "ông chú ở sát vách" is an
    # old man next door, the title not a tie.
    end = family.first[1]
    return fold(toks[end - 1]) in _OWN or (end < len(toks) and fold(toks[end]) in _OWN)


def subject_from_key(digit: str) -> str | None:
    if len(digit) == 1 and digit in "1234":
        return SUBJECTS[int(digit) - 1]
    return None


def extract_subject(text: str) -> Extraction | None:
    if withdrawn(text):
        return None  # "Quận một, à không… để tôi hỏi lại đã": nothing in its place
    norm = normalise(text)
    choice = spoken_choice(norm, len(SUBJECTS))
    if choice is not None:
        return Extraction(SUBJECTS[choice - 1], 0.9, norm)
    corrected = split_self_correction(text)
    if corrected is not None and corrected[1].strip(" ,.…"):
        # "Gia đình… à không, cho mình tôi thôi": who the caller settled on.
        found = extract_subject(corrected[1])
        if found is not None:
            return found
    hits = score_cues(norm, _CUES, near=True)
    if not hits:
        return None
    # Typed without any marks, a cue written with marks counts half ("gia dinh") and one
    # written without ("cho tui") fully: a full cue is then half the weight, or "cho tui
    # voi gia dinh" would be the caller alone.
    full = 1.0 if fold(norm) == norm else 2.0
    # A person named outright (a weight-3 cue: "hàng xóm", "người quen", a trade) outranks
    # where someone is met ("chú bán vé số hay ghé đầu hẻm" is not a neighbour).
    best = max(
        hits.values(),
        key=lambda h: (
            h.score >= full,
            h.label in _NAMED and h.score >= 1.5 * full,
            _PRIORITY[h.label],
            h.score,
        ),
    )
    if best.label == NEIGHBOUR and _kin_who_lives_there(norm, hits, full):
        best = hits[FAMILY]
    if best.score < _LEAST_SCORE:
        return None
    if OTHER in hits and any(contains_phrase(fold(norm), fold(p)) for p in _STRANGER):
        best = hits[OTHER]
    if best.score < 2.0 and not_an_answer_yet(norm):
        return None  # "để tôi coi": the "tôi" of a caller still thinking is not "self"
    confidence = 0.5 + 0.45 * min(best.score, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(norm.split()))
