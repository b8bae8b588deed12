"""Answers that are not answers yet: the caller is thinking, puzzled, or checking the line.

"Để tôi nghĩ đã", "Hả? Chị nói gì?", "alo alo, nghe không?", "tui cũng hổng biết nữa": an
extractor that reads these as a value (the case type menu's "other", the subject "self"
from the "tôi" in "để tôi coi") files a guess; they mean "ask me again".
"""

from __future__ import annotations

from callbot.nlu.text import fold

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
)
_SELVES = ("tôi", "tui", "em", "con", "mình", "cháu", "chị", "anh", "cô", "chú", "bác", "tao")
_NOT_YET += tuple(f"để {who} {verb}" for who in _SELVES for verb in ("nghĩ", "coi", "xem", "hỏi"))
# Matched with their marks only: typed without any, they are answers ("cho em", "cho toi").
_NOT_YET_MARKED_ONLY = ("chờ em", "chờ tôi", "chờ tui", "chờ con", "chờ tí")
_NOT_YET_FOLDED = tuple(fold(p) for p in _NOT_YET)


def not_an_answer_yet(norm: str) -> bool:
    """Whether normalised text holds a thinking, puzzled or line-check phrase."""
    padded = f" {norm} "
    if any(f" {p} " in padded for p in _NOT_YET + _NOT_YET_MARKED_ONLY):
        return True
    folded = fold(norm)
    return folded == norm and any(f" {p} " in f" {folded} " for p in _NOT_YET_FOLDED)
