"""What a yes/no answer's last words say about the number or a detail read back.

"Gọi số khác đi" asks for another number (no); "… số nhà là mười bảy chứ không phải mười
một" puts a detail right (no); "số khác đi, à thôi, gọi số này cũng được" settles for this
number after all (yes). Read first in yes_no.extract_yes_no, before its answer words.
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.text import fold, split_self_correction
from callbot.nlu.yes_no_turns import BUT_PLAIN

# The caller asks for another number than the one read back: "gọi số khác đi" (and "khác"
# heard one sound off, "số khát"), "gọi vào số di động của em thì hơn" (folded).
_OTHER_NUMBER_ASKED = re.compile(
    r"\bso (?:\w+ )?(?:khac|khat|khach)\b"
    r"|\bgoi (?:vao |qua |cho )?so (?!nay\b)(?:\w+ ){0,6}?thi (?:\w+ )?hon\b"
)
# "không có số (nào) khác": the caller has no other number, which is no request for one.
_NEGATORS = frozenset({"khong", "hong", "hok", "ko", "chua", "chang", "cha"})
# "… số này cũng được", "số này được rồi", not "số này không được" (folded).
_THIS_NUMBER_WILL_DO = re.compile(
    r"\bso nay(?: (?!(?:khong|hong|hok|ko|chua|chang)\b)\w+){0,3}? (?:cung )?duoc\b"
)
# "… số nhà là mười bảy chứ không phải mười một": a detail read back corrected (folded,
# each clause on its own: "được chứ, không phải lo" is a yes and a "don't worry").
_NOT_THAT = re.compile(r"\b(?:chu|cho) (?:khong|hong|hok) phai (\w+)")
# What follows "chứ không phải" when it is no detail put right: "… chứ không phải sai",
# "… của tôi chứ không phải của ai", "chứ không phải lo".
_NOT_A_DETAIL = frozenset({"sai", "lo", "dau", "cua", "sao", "vay", "the", "ai", "gi", "la"})
# A clause that says only yes before it ("đúng rồi chứ không phải sai") corrects nothing.
_ONLY_YES = frozenset({"dung", "roi", "duoc", "phai", "vang", "da", "u", "co", "chinh", "xac"})


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(unicodedata.normalize("NFC", text))).split())


def _clauses(text: str) -> list[str]:
    return [c for c in map(_folded, re.split(r"[,.;:!?…]+", text)) if c]


def asks_other_number(text: str) -> bool:
    """Whether ``text`` asks to be called on another number than this one."""
    for clause in _clauses(text):
        for m in _OTHER_NUMBER_ASKED.finditer(clause):
            before = clause[: m.start()].split()[-3:]
            if not _NEGATORS & set(before):  # "tôi không có số nào khác"
                return True
    return False


def accepts_this_number(text: str) -> bool:
    """Whether ``text`` settles for this number after all ("à thôi, gọi số này cũng được")."""
    return any(_THIS_NUMBER_WILL_DO.search(c) for c in _clauses(text))


def corrects_a_detail(text: str) -> bool:
    """Whether ``text`` puts a detail right: "X chứ không phải Y"."""
    for clause in _clauses(text):
        m = _NOT_THAT.search(clause)
        if m is None or m.group(1) in _NOT_A_DETAIL:
            continue
        if set(clause[: m.start()].split()) - _ONLY_YES:
            return True
    return False


def on_the_number(text: str) -> str | None:
    """The answer the caller's last words give about the number or a detail: another number
    asked for, or a detail put right ("… chứ không phải mười một"), is "no"; a request for
    another number taken back for this one ("số khác đi, à thôi, số này cũng được") "yes"."""
    corrected = split_self_correction(text)
    last = corrected[1] if corrected is not None and corrected[1].strip(" ,.…") else text
    if any(f" {b} " in f" {_folded(last)} " for b in BUT_PLAIN):
        return None  # "được, nhưng gọi số khác buổi tối": a qualified yes (qualified_yes)
    if asks_other_number(last) or corrects_a_detail(last):
        return "no"
    taken_back = corrected is not None and asks_other_number(corrected[0])
    if taken_back and accepts_this_number(corrected[1]):
        return "yes"
    return None
