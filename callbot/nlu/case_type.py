"""What kind of help the call is about, in the 1022 line's four menu options (key 2)."""

from __future__ import annotations

from callbot.nlu.case_type_cues import (  # the table; its names are this module's too
    CASE_TYPES,
    CUES,
    ESSENTIALS,
    OTHER,
    SUPPORT_POLICY,
    VULNERABLE,
)
from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import not_an_answer_yet, withdrawn
from callbot.nlu.human_request import wants_human
from callbot.nlu.keywords import score_cues
from callbot.nlu.text import fold, normalise, split_self_correction, word_set

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
            return found
    return _extract(text)


def _extract(text: str) -> Extraction | None:
    norm = normalise(text)
    choice = spoken_choice(norm, len(CASE_TYPES))
    if choice is not None:
        return Extraction(CASE_TYPES[choice - 1], 0.9, norm)
    toks = norm.split()
    generic = _GENERIC_PLAIN if fold(norm) == norm else _GENERIC
    if toks and all(t in generic for t in toks):
        return None
    hits = score_cues(norm, CUES, near=True)
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
