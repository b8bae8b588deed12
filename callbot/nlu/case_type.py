"""What kind of help the call is about, in the 1022 line's four menu options (key 2)."""

from __future__ import annotations

import re

from callbot.nlu.case_type_cues import (  # the table; its names are this module's too
    CASE_TYPES,
    CUES,
    ESSENTIALS,
    OTHER,
    SUPPORT_POLICY,
    VULNERABLE,
)
from callbot.nlu.case_type_everyday import (
    ASKING_FOR,
    PAPERWORK,
    cheated_of_money,
    milk_for_a_baby,
)
from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import not_an_answer_yet, withdrawn
from callbot.nlu.human_request import wants_human
from callbot.nlu.keywords import CueHit, score_cues
from callbot.nlu.text import (
    contains_phrase,
    fold,
    normalise,
    split_self_correction,
    typed_plain,
    word_set,
)

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
    # Hardship in general words ("nói chung là khó khăn đủ bề", "khổ lắm", "vất vả đủ
    # đường"): still no need named.
    " nói chung đủ bề trăm mọi đường thứ khổ cực vất vả túng thiếu thốn thì cũng hết thôi"
    # The hesitations, which normalise() drops only as written with their marks ("o", "um").
    " ờ ơ ừm ưm"
)
_GENERIC_PLAIN = frozenset(fold(w) for w in _GENERIC)
# A caller who needs nothing, or asks about the line itself ("hỏi chơi thôi", "tổng đài này
# của phường hay thành phố?"), has no request: never the menu's "other". Only where no cue
# names a need ("tổng đài này có phát gạo không" asks for food).
_NO_REQUEST = (
    "hỏi chơi",
    "gọi chơi",
    "gọi thử",
    "hỏi cho biết",
    "không cần gì",
    "hổng cần gì",
    "hông cần gì",
    "chẳng cần gì",
    "không có cần gì",
    "hổng có cần gì",
    "tổng đài này",
    "đường dây này",
    "số này của",
    "ai nghe máy",
    # A wrong number ("gọi lộn số rồi", "bấm nhầm máy"), or a caller asking where they
    # called ("đây là đâu vậy"): no request.
    *(f"{dial} {wrong}" for dial in ("gọi", "bấm") for wrong in ("lộn", "nhầm")),
    *(f"{wrong} {line}" for wrong in ("lộn", "nhầm") for line in ("số", "máy")),
    "đây là đâu",
    "đây là chỗ nào",
    "đây là ở đâu",
    # The choice left to the operator ("tùy chị", "anh thấy sao thì ghi vậy"): no request.
    *(
        phrase.format(you)
        for you in ("chị", "anh", "em", "cô", "chú", "bác", "con", "cháu")
        for phrase in ("tùy {}", "{} nghĩ sao", "{} thấy sao", "{} coi sao", "{} chọn giùm")
    ),
)
_NO_REQUEST_FOLDED = tuple(fold(p) for p in _NO_REQUEST)
# Question words that end a question asking about something, not for help.
_ASKS = word_set("không hông hả hở vậy dzậy sao nào ai đâu chưa gì nhiêu")
_ASKS_FOLDED = frozenset(fold(w) for w in _ASKS)
# The particles and the pronoun addressing the operator that may follow them ("… không
# chị?", "… vậy ạ?"): not question words ("… lấn hẻm chị?" asks for something).
_ADDRESS = word_set("ạ ơi nha nhé chị anh em cô chú bác con cháu")
_ADDRESS_FOLDED = frozenset(fold(w) for w in _ADDRESS)
# A question asking when, where or how much, wherever its question word is (folded).
_WHEN_WHERE = ("may gio", "bao gio", "khi nao", "bao lau", "o dau", "cho nao", "bao nhieu")
# "cái gì tui cũng cần hết", "đủ thứ": everything is no one need (folded).
_EVERYTHING = re.compile(r"\b(?:cai|thu|mon|chuyen) gi\b.*\bcung\b|\bcan het\b|\bdu thu\b")
# Three needs named with no main one ("gạo cũng hết, tiền hỗ trợ cũng chưa có, má tui cũng
# bệnh"): unclear, the bot asks which matters most. A main one leads the rest by this much.
_MAIN_NEED_LEAD = 2.0
# A caller who cannot say what they need ("chưa biết nói sao", "nhiều thứ lắm": many needs,
# none named), folded: no case type, where no need is named in full.
_UNDECIDED = re.compile(r"\bbiet noi sao\b|\bnhieu thu (?:lam|qua)\b")
# A clause asking for a handout (``ASKING_FOR``) outweighs a hardship told in another one:
# its need leads every other by this much ("có chỗ nào phát gạo không, chồng tôi đang nằm
# viện" asks for food).
_ASKED_FOR_LEAD = 1.0
# ... unless the caller says which need comes first ("xin đồ ăn, à mà chủ yếu là ông ngoại
# bệnh không ai lo"): then the cues' own weights decide, as before.
_MAIN_NEED_MARKS = ("chủ yếu", "quan trọng nhất", "cần nhất", "nhất là")
_CLAUSE = re.compile(r"[,.;!?…]+")
_NEEDS = (ESSENTIALS, SUPPORT_POLICY, VULNERABLE)


def case_type_from_key(digit: str) -> str | None:
    """Keypad 1–4 in the hotline's menu order."""
    if len(digit) == 1 and digit in "1234":
        return CASE_TYPES[int(digit) - 1]
    return None


def extract_case_type(text: str) -> Extraction | None:
    if withdrawn(text):
        return None  # "Quận một, à không… để tôi hỏi lại đã": nothing in its place
    corrected = split_self_correction(text)
    # ("Chị nói lại mấy cái đó được không?": a caller asking to hear the menu again, not
    # taking anything back.)
    if (
        corrected is not None
        and corrected[1].strip(" ,.…")
        and not not_an_answer_yet(normalise(text))
    ):
        # "Trợ cấp… à không, tôi cần người chăm em tôi": the need the caller settled on,
        # as subject.py and place.py read it ("hai, à nhầm, ba" is the menu's 3).
        found = _extract(corrected[1])
        if found is not None:
            return _settled_on(corrected[0], corrected[1], found)
    return _extract(text)


def _settled_on(before: str, after: str, found: Extraction) -> Extraction:
    """The need the caller settled on. The need taken back, named again after the mark, is
    why, not what ("sữa cho bé, à không, bé có sữa rồi, con muốn hỏi hộ nghèo"): the need
    the rest names, where one does; else the one restated ("gạo, à không, gạo với mắm")."""
    dropped = _extract(before)
    if dropped is None or dropped.value != found.value:
        return found
    return _extract(after, dropped=dropped.value) or _new_request(after, dropped.value) or found


# Words that open a request: after a need taken back, a clause with one of these that does
# not name that need again is the caller's new request ("sữa, à không, cháu có sữa rồi, tôi
# cần báo cái nắp cống bị mất"), whatever the menu calls it.
_REQUEST_WORDS = ("cần", "muốn", "báo", "xin", "nhờ", "hỏi")


def _new_request(after: str, dropped: str) -> Extraction | None:
    """The request the clauses after a correction make without naming ``dropped`` again."""
    clauses = [c for c in _CLAUSE.split(after) if normalise(c)]
    asking = [
        c
        for c in clauses
        if any(contains_phrase(normalise(c), w) for w in _REQUEST_WORDS)
        and dropped not in score_cues(milk_for_a_baby(normalise(c)), CUES)
    ]
    if not asking:
        return None
    found = _extract(", ".join(asking))
    return found if found is not None and found.value != dropped else None


def _extract(text: str, dropped: str | None = None) -> Extraction | None:
    """The case type ``text`` names; ``dropped``: a need taken back, left out (then only
    another need named in full is an answer)."""
    norm = normalise(text)
    choice = spoken_choice(norm, len(CASE_TYPES))
    if choice is not None:
        return Extraction(CASE_TYPES[choice - 1], 0.9, norm)
    toks = norm.split()
    generic = _GENERIC_PLAIN if typed_plain(norm) else _GENERIC
    if toks and all(t in generic for t in toks):
        return None
    if _EVERYTHING.search(fold(norm)):
        return None
    hits = score_cues(milk_for_a_baby(norm), CUES, near=True)
    cheat = cheated_of_money(norm)
    if cheat is not None:  # "giả công an lừa chuyển mất sáu triệu": a fraud, a full cue
        prev = hits.get(OTHER)
        hits[OTHER] = CueHit(OTHER, max(2.0, prev.score if prev else 0.0), cheat)
    half = 0.5 if typed_plain(norm) else 1.0  # half a full cue, as typed
    if dropped is not None:
        hits = {k: h for k, h in hits.items() if k != dropped and k in _NEEDS}
        if max((h.score for h in hits.values()), default=0.0) < 2 * half:
            return None
    if _only_the_way_to(norm, hits, half):
        del hits[OTHER]
    if _UNDECIDED.search(fold(norm)) and all(
        h.score < 2 * half for h in hits.values() if h.label in _NEEDS
    ):
        return None  # "cha biết nói sao, chắc nhiều thứ lắm": no need named yet
    _add_asked_for(text, hits)
    if max((h.score for h in hits.values()), default=0.0) <= _WEAK_HITS and wants_human(text):
        return None  # "cho tôi gặp người thật": no request said yet, the dialog hands over
    # (Asking is itself a weak "other" cue: "cho em hỏi tổng đài này của ai?".)
    weakest = {need: _WEAK_HITS for need in _NEEDS} | {OTHER: 1.0}
    if all(h.score <= weakest[h.label] for h in hits.values()) and _no_request(text):
        return None
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
    named = [h for h in ranked if h.label in _NEEDS and h.score >= half]
    if len(named) >= len(_NEEDS) and margin < _MAIN_NEED_LEAD:
        return None
    # Two full cues ahead of the rest → 0.9; one suggestive cue → 0.6; a cue heard only
    # with its tone marks gone (half weight) stays under the dialog's 0.5.
    confidence = 0.3 + 0.3 * min(best.score, 2.0) / 2.0 + 0.3 * min(margin, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(toks))


def _no_request(text: str) -> bool:
    """Whether the caller says they need nothing, asks about the line, or asks a question
    ("mai trời có mưa không?") rather than naming a need."""
    norm = normalise(text)
    folded = fold(norm)
    if any(contains_phrase(folded, p) for p in _NO_REQUEST_FOLDED):
        return True
    if not (text.rstrip().endswith("?") or " thế nào" in f" {norm}"):
        return False
    if any(contains_phrase(folded, q) for q in _WHEN_WHERE):
        return True  # "tổng đài mấy giờ đóng cửa chị?"
    toks = norm.split()
    while toks and (toks[-1] in _ADDRESS or fold(toks[-1]) in _ADDRESS_FOLDED):
        toks.pop()
    last = toks[-1:]
    return bool(last) and (last[0] in _ASKS or fold(last[0]) in _ASKS_FOLDED)


def _add_asked_for(text: str, hits: dict[str, CueHit]) -> None:
    """Put the one need a clause asking for a handout names in full ``_ASKED_FOR_LEAD``
    ahead of those other clauses name ("xin ít gạo, chồng tôi mới mổ nằm viện")."""
    clauses = [normalise(c) for c in _CLAUSE.split(text)]
    clauses = [c for c in clauses if c]
    if len(clauses) < 2 or len(hits) < 2:
        return
    if any(contains_phrase(fold(c), fold(m)) for c in clauses for m in _MAIN_NEED_MARKS):
        return
    for clause in clauses:
        if not any(contains_phrase(fold(clause), fold(w)) for w in ASKING_FOR):
            continue
        full = 1.0 if typed_plain(clause) else 2.0
        named = [
            h
            for h in score_cues(milk_for_a_baby(clause), CUES, near=True).values()
            if h.label in _NEEDS and h.score >= full
        ]
        if len(named) == 1 and named[0].label in hits:
            prev = hits[named[0].label]
            lead = max(h.score for h in hits.values()) + _ASKED_FOR_LEAD
            hits[prev.label] = CueHit(prev.label, max(prev.score, lead), prev.first)
        return


_PAPERWORK = {OTHER: PAPERWORK}


def _only_the_way_to(norm: str, hits: dict[str, CueHit], half: float) -> bool:
    """Whether the "other" cues only say how to apply ("thủ tục", "giấy tờ gì") for a
    benefit named in full: "thủ tục xin trợ cấp hộ nghèo" is the policy case."""
    policy, other = hits.get(SUPPORT_POLICY), hits.get(OTHER)
    if policy is None or other is None or policy.score < 2 * half:
        return False
    paperwork = score_cues(norm, _PAPERWORK).get(OTHER)
    return paperwork is not None and paperwork.score >= other.score
