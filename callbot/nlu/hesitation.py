"""Answers that are not answers yet: the caller is thinking, puzzled, or checking the line.

"Để tôi nghĩ đã", "Hả? Chị nói gì?", "alo alo, nghe không?", "tui cũng hổng biết nữa": an
extractor that reads these as a value (the case type menu's "other", the subject "self"
from the "tôi" in "để tôi coi") files a guess; they mean "ask me again".
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.text import (
    MarkedPattern,
    fold,
    normalise,
    split_self_correction,
    split_taking_back,
)

# Written with their tone marks and matched that way (tones first); an answer typed without
# any marks is matched on the folded forms.
_NOT_YET = (
    "để coi",
    "để xem",
    "để hỏi",
    "để nghĩ",
    # "để <whoever> nghĩ/coi/xem/hỏi": generated below for every way a caller says "I".
    "khoan",
    "chờ chút",
    "đợi chút",
    "đợi xíu",
    "chờ xíu",
    "nói lại",
    "nói gì",
    "gì cơ",
    "gì vậy",
    "gì ạ",
    "hả",
    "alo",
    "a lô",
    "a lo",
    "nghe không",
    "có ai không",
    "không biết",
    "hổng biết",
    "hông biết",
    "không rõ",
    "không nhớ",
    "chưa biết",
    "chưa nghĩ ra",
    "chưa chắc",
    "không chắc",
    "hổng chắc",
    "hông chắc",
    "không hiểu",
    "hổng hiểu",
    "hông hiểu",
    # A question about the line itself ("cho con hỏi cái này có mất tiền không") asks for
    # nothing yet.
    "có mất tiền không",
    "có tốn tiền không",
    "có mất phí không",
    "có tốn phí không",
    "là sao",
    "sao ạ",
    "ủa",
    "gì cũng được",
    "suy nghĩ",
    "đợi em",
    "đợi tui",
    "đợi tôi",
    "đợi tí",
    "xíu",
    "từ từ",
    "sao cũng được",
    "nào cũng được",
    # The caller will ring back with the answer ("thôi để tôi gọi lại sau").
    "gọi lại sau",
)
_SELVES = ("tôi", "tui", "em", "con", "mình", "cháu", "chị", "anh", "cô", "chú", "bác", "tao")
# ("để tôi đếm lại", "để tui tìm cái số": the caller will come back with the answer.)
_VERBS = ("nghĩ", "coi", "xem", "hỏi", "đếm", "tìm", "kiếm", "nhớ", "nghe")
_NOT_YET += tuple(f"để {who} {verb}" for who in _SELVES for verb in _VERBS)
# Matched with their marks only: typed without any, they are answers ("cho em", "cho toi").
_NOT_YET_MARKED_ONLY = ("chờ em", "chờ tôi", "chờ tui", "chờ con", "chờ tí")
_NOT_YET_FOLDED = tuple(fold(p) for p in _NOT_YET)


# Marks that drop what came before them without taking it back in words ("à mà thôi", "à
# khoan"): the answer is withdrawn only where nothing, or a caller still thinking, follows
# ("Cho tui... à mà thôi, không biết nữa", "Cho ba tui, à khoan, để tui hỏi ổng đã").
_DROPPING = MarkedPattern.of(re.compile(r"\b(?:à|á|ờ|ơ|ủa)\s+(?:mà\s+thôi|khoan)\b"))


# "… để tôi hỏi lại con tôi (rồi báo sau)": the caller goes to check and will come back
# with the answer; what they said before it was not it. Its clause (up to the next pause)
# names what they will check; a pause and more words after it ("để tôi đếm lại… à đúng,
# bảy người") is the caller back with an answer, read as before.
_DEFERRING = MarkedPattern.of(
    re.compile(rf"\bđể\s+(?:{'|'.join(_SELVES)})\s+(?:{'|'.join(_VERBS)}|kiểm\s+tra)\s+lại\b")
)
_PAUSE = re.compile(r"[,.;:!?…]")
# What the caller will do when they have checked: "rồi (em) báo sau", "gọi sau", "đã".
_LATER = MarkedPattern.of(
    re.compile(r"\b(?:sau|đã|rồi\s+(?:\w+\s+)?(?:nói|báo|gọi|trả\s+lời))\s*(?:\w+\s*)?$")
)
# The caller calls the request off after taking it back: "à thôi, tôi không cần gì nữa,
# tôi gọi nhầm".
_CALLED_OFF = (
    "không cần gì",
    "hổng cần gì",
    "hông cần gì",
    "gọi nhầm",
    "gọi lộn",
    "nhầm số",
    "lộn số",
)
_CALLED_OFF_FOLDED = tuple(fold(p) for p in _CALLED_OFF)


def not_an_answer_yet(norm: str) -> bool:
    """Whether normalised text holds a thinking, puzzled or line-check phrase."""
    padded = f" {norm} "
    if any(f" {p} " in padded for p in _NOT_YET + _NOT_YET_MARKED_ONLY):
        return True
    folded = fold(norm)
    return folded == norm and any(f" {p} " in f" {folded} " for p in _NOT_YET_FOLDED)


def withdrawn(text: str, *, digits: bool = False) -> bool:
    """Whether the caller took back what they said and put nothing in its place: "Quận một,
    à không… để tôi hỏi lại đã", "hàng xóm… ờ mà không, tôi chưa chắc nữa", "đúng, à thôi".
    Every slot is then unclear: the value before the mark was withdrawn, none replaced it.
    ``digits``: a mark that ends the answer does not count ("… chín, à không" ends on a
    zero)."""
    # Any mark followed by a caller still thinking ("không… xin lỗi, để tui nghe lại đã");
    # a mark that withdraws followed by nothing else ("đúng, à thôi").
    if _defers(text):
        return True
    corrected = split_self_correction(text, lone_no=not digits)
    if corrected is not None and _settles_nothing(normalise(corrected[1])):
        return True
    lowered = unicodedata.normalize("NFC", text).lower()
    marks = list(_DROPPING.for_text(lowered).finditer(lowered))
    if marks:
        after = normalise(lowered[marks[-1].end() :])
        if _settles_nothing(after) if after else not digits:
            return True
    corrected = split_taking_back(text, lone_no=not digits)
    if corrected is None:
        return False
    after = normalise(corrected[1])
    return _settles_nothing(after) if after else not digits


def _settles_nothing(norm: str) -> bool:
    """Whether what follows a taking back is a caller still thinking, or calling it off."""
    if not_an_answer_yet(norm):
        return True
    if any(f" {p} " in f" {norm} " for p in _CALLED_OFF):
        return True
    folded = fold(norm)
    return folded == norm and any(f" {p} " in f" {folded} " for p in _CALLED_OFF_FOLDED)


def _defers(text: str) -> bool:
    """Whether the answer ends going off to check ("…, để tôi hỏi lại con tôi đã")."""
    lowered = unicodedata.normalize("NFC", text).lower()
    marks = list(_DEFERRING.for_text(lowered).finditer(lowered))
    if not marks:
        return False
    rest = lowered[marks[-1].end() :]
    pause = _PAUSE.search(rest)
    if pause is None or not normalise(rest[pause.end() :]):
        return True  # nothing said after the clause that goes to check
    return _LATER.for_text(lowered).search(rest.strip(" ,.;:!?…")) is not None
