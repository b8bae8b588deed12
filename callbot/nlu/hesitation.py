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
    "để tôi nghĩ",
    "để em nghĩ",
    "để tui nghĩ",
    "để mình nghĩ",
    "để tôi coi",
    "để tui coi",
    "để em coi",
    "để coi",
    "để tôi xem",
    "để em xem",
    "để xem",
    "để hỏi",
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
    "để em hỏi",
    "để tôi hỏi",
    "để tui hỏi",
    "để con hỏi",
    "để mình hỏi",
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
