"""Where a caller corrects or takes back a callback number while saying it.

"…, lộn, hai hai ba" and "à khoan, số mới là…" correct only a number; "à thôi, tôi không muốn
để số" takes it back. phone.py reads the digits on either side; this module says where the
correction or withdrawal is, and which group of digits a correction rejects.
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.numbers import DIGIT_WORDS, find_numbers, number_tokens
from callbot.nlu.phone_words import digit_view
from callbot.nlu.text import MarkedPattern, fold, split_self_correction, tokens

# Corrections only a number has: "…, lộn, hai hai ba" (a lone "wrong" between pauses),
# "à khoan, đó là số cũ, số mới là…". Typed plain, a lone "nham" may be "nhăm" (5).
_PHONE_CORRECTION = MarkedPattern(
    re.compile(
        r"(?:^|[,;.…])\s*(?:lộn|nhầm|sai)\s*(?=[,;.…])|\b(?:à|ờ|ấy)\s+khoan\b"
        r"|\bsố\s+mới\s+(?:là\b)?"
    ),
    re.compile(
        r"(?:^|[,;.…])\s*(?:lon|sai)\s*(?=[,;.…])|\b(?:a|o|ay)\s+khoan\b|\bso\s+moi\s+(?:la\b)?"
    ),
)
# A number taken back: "à thôi, tôi không muốn để số", "mà thôi khỏi ghi".
_WITHDRAWN = MarkedPattern.of(
    re.compile(
        r"\bthôi\b,?\s*(?:khỏi|đừng|bỏ|(?:\w+\s+){0,2}không\s+(?:muốn|cho|để|cần|ghi))\b"
        r"|\bkhông\s+(?:muốn|cần)\s+(?:để|cho|đưa|ghi)(?:\s+lại)?\s+số\b"
    )
)


def withdrawal(text: str) -> re.Match[str] | None:
    """The last place the caller takes the number back, or None."""
    return _last(_WITHDRAWN, text)


def _last(pattern: MarkedPattern, text: str) -> re.Match[str] | None:
    """The last match in the answer, lower-cased, with its marks or (typed plain) none."""
    low = unicodedata.normalize("NFC", text).lower()
    found = list(pattern.for_text(low).finditer(low))
    return found[-1] if found else None


def correction(text: str) -> tuple[str, str] | None:
    """(before, after) the last self-correction, the general ones or a number's own."""
    general = split_self_correction(text, lone_no=False)
    own = _last(_PHONE_CORRECTION, text)
    if own is None or (general is not None and len(general[0]) >= own.start()):
        return general
    low = unicodedata.normalize("NFC", text).lower()
    return low[: own.start()], low[own.end() :]


def without_rejected(before: str, after: str) -> str:
    """ "…, bốn, à không phải bốn, năm, …": the group the correction opens by naming again
    is the one rejected, not part of the new number."""
    head, _, rest = after.lstrip(" ,;.…").partition(",")
    groups = said_groups(before)
    said = "".join(p.digits for p in find_numbers(number_tokens(tokens(head))))
    return rest if rest and groups and said == groups[-1] else after


# The pauses a caller makes between groups, as the recogniser (or a keyboard) writes them.
GROUP_BREAK = re.compile(r"[,;.…]+")


def said_groups(text: str) -> list[str]:
    """The digits of each group the caller said: between the pauses written as commas or
    dots ("không chín bốn, năm năm năm, tám tám tám chín"), else each number phrase."""
    chunks = [c for c in GROUP_BREAK.split(text) if c.strip()]
    if len(chunks) > 1:
        digits = ["".join(p.digits for p in find_numbers(_digits_of(c))) for c in chunks]
        return [d for d in digits if d]
    return [p.digits for p in find_numbers(_digits_of(text))]


def _digits_of(text: str) -> list[str]:
    """The tokens to read a group's digits from, as the whole number is read ("hông chín
    bốn" is 094: a Southern zero and slips beside digits are digits here too)."""
    return digit_view(tokens(text))[0]


# The last (or first) digits named and said again after the number: "…, à số cuối là hai
# chớ không phải một", "hai số cuối là ba bốn", "số chót không phải một mà là hai", "…, à
# nhầm, số đầu là không ba bốn sáu", "…, à lộn, đầu là…" (right after a pause), "nhóm đầu là…".
_LAST_DIGITS = MarkedPattern.of(
    re.compile(
        r"(?:\b(?P<count>hai|ba|bốn|2|3|4)\s+)?(?:\b(?:con|chữ)\s+)?"
        r"(?:\bsố\s+|(?P<bare>\b(?:nhóm|cụm)\s+|(?<=[,;.…])\s*))"
        r"(?P<end>cuối|chót|đầu)(?:\s+(?:cùng|tiên))?\b(?P<rest>.*)$"
    )
)
# What the new digits are said between: "là"/"thành" before them, and the ones rejected
# after "chứ (không phải)"; or rejected first: "không phải một mà là hai".
_NEW_DIGITS = MarkedPattern.of(
    re.compile(
        r"^[\s,]*(?:(?:(?:là|phải|đổi|sửa|thành|lại)\s+)*)(?P<new>.*?)"
        r"(?:[\s,]*\b(?:chứ|chớ|(?:không|hông|hổng)\s+phải)\b.*)?[\s,.!?…]*$"
    )
)
_REJECTED_FIRST = MarkedPattern.of(
    re.compile(
        r"^[\s,]*(?:là\s+)?(?:không|hông|hổng)\s+phải\b.*?\bmà\s+(?:là\s+)?(?P<new>.*?)"
        r"[\s,.!?…]*$"
    )
)
# Words that may sit around the digits said again ("là số hai nha", "hai mới đúng").
_AROUND_DIGITS = frozenset({"so", "con", "nha", "nhe", "nghen", "ne", "a", "do", "moi", "dung"})
_COUNTS = {"hai": 2, "ba": 3, "bon": 4, "2": 2, "3": 3, "4": 4}


def last_digits_fix(text: str) -> tuple[str, str, int, bool] | None:
    """(the answer before, the new digits, how many digits they replace, whether those are
    the first rather than the last) where the caller names the digits to change after the
    number, or None. The count is the one said ("hai số cuối"), else as many digits as
    said again."""
    low = unicodedata.normalize("NFC", text).lower()
    found = list(_LAST_DIGITS.for_text(low).finditer(low))
    if not found:
        return None
    mark = found[-1]
    rest = mark.group("rest")
    if mark.group("bare") is not None and not fold(rest).lstrip().startswith("la "):
        return None  # without "số", only "…, đầu là …" names digits: "cuối tuần" does not
    first = _REJECTED_FIRST.for_text(low).match(rest)
    said = (first or _NEW_DIGITS.for_text(low).match(rest)).group("new")
    words = [w for w in number_tokens(tokens(said)) if w not in _AROUND_DIGITS]
    # Only digits may be said again: "số cuối là số cũ" names no digit.
    if not words or any(w not in DIGIT_WORDS and not w.isdigit() for w in words):
        return None
    new = "".join(p.digits for p in find_numbers(words))
    count = _COUNTS.get(fold(mark.group("count") or ""), len(new))
    return low[: mark.start()], new, count, fold(mark.group("end")) == "dau"
