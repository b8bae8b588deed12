"""A caller naming which part of the callback number to change, and what it becomes.

"…, à nhầm, nhóm giữa là hai hai năm" names a group by its place; "…, chữ số thứ năm là
tám" one digit by its place; "…, hông phải, ba ba bảy là ba bốn bảy" a group by its digits,
then what it becomes. (The first or last digits, "số cuối là…", are phone_corrections.py.)
phone.py reads the number said before the fix and checks the fixed one; this module says
which digits change to what.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from callbot.nlu.numbers import DIGIT_WORDS, find_numbers, number_tokens
from callbot.nlu.text import MarkedPattern, fold, tokens

# "nhóm giữa là…", "cụm thứ hai là…", "chữ số thứ năm là tám", "số thứ ba là…".
_NAMED_PART = MarkedPattern.of(
    re.compile(
        r"\b(?:(?P<group>nhóm|cụm)|(?:chữ\s+)?số)\s+"
        r"(?P<which>giữa|đầu|cuối|thứ\s+\w+)(?:\s+(?:tiên|cùng))?\s+(?:là|thành|phải\s+là)\s+"
        r"(?P<new>.*?)[\s,.!?…]*$"
    )
)
# "…, ba ba bảy là ba bốn bảy": the group said again, then what it becomes, ending the answer.
_RENAMED_GROUP = MarkedPattern.of(
    re.compile(r"(?:^|[,;.…])\s*(?P<old>[^,;.…]+?)\s+(?:là|thành)\s+(?P<new>[^,;.…]+?)[\s,.!?…]*$")
)
_ORDINALS = {"nhat": 1, "tu": 4, **{w: d for w, d in DIGIT_WORDS.items() if d}}
_ORDINALS.pop("mot", None)  # "thứ một" is no way to say it: "thứ nhất"
_MIDDLE = 99  # "nhóm giữa": the second of three groups


@dataclass(frozen=True)
class PartFix:
    """The digits to change in the number said in ``before`` (the answer up to the fix)."""

    before: str
    new: str
    group: int | None = None  # which group the caller said, by place (-1 the last)
    digit: int | None = None  # which digit, by place
    old: str = ""  # the group named by its own digits

    def applied(self, groups: list[str]) -> str | None:
        """The number with the part replaced, or None where it names no part said."""
        said = "".join(groups)
        if self.digit is not None:
            if self.digit >= len(said) or len(self.new) != 1:
                return None
            return said[: self.digit] + self.new + said[self.digit + 1 :]
        k = self.group
        if k is None:
            # The last group with those digits: the one the caller just said.
            matches = [i for i, g in enumerate(groups) if g == self.old]
            k = matches[-1] if matches else None
        elif k == _MIDDLE:
            k = 1 if len(groups) == 3 else None  # "giữa" of more groups is no one group
        if k is None or not -len(groups) <= k < len(groups):
            return None
        k %= len(groups)
        if len(groups[k]) != len(self.new):
            return None  # a group swapped for one of another length is no group said again
        return "".join([*groups[:k], self.new, *groups[k + 1 :]])


def _digits(said: str) -> str | None:
    """The digits of words that are nothing but digits, else None."""
    words = [w for w in number_tokens(tokens(said)) if w not in ("so", "nha", "nhe", "a")]
    if not words or any(w not in DIGIT_WORDS and not w.isdigit() for w in words):
        return None
    return "".join(p.digits for p in find_numbers(words)) or None


def part_fix(text: str) -> PartFix | None:
    """The part of the number the caller names to change, once the number is said."""
    low = unicodedata.normalize("NFC", text).lower()
    named = list(_NAMED_PART.for_text(low).finditer(low))
    if named:
        mark = named[-1]
        new = _digits(mark.group("new"))
        which = fold(mark.group("which")).split()
        if new is None:
            return None
        if which[0] == "thu":
            place = _ORDINALS.get(which[1])
            if place is None:
                return None
            if mark.group("group"):
                return PartFix(low[: mark.start()], new, group=place - 1)
            return PartFix(low[: mark.start()], new, digit=place - 1)
        if not mark.group("group") and which[0] != "giua":
            return None  # "số đầu/cuối là…" names digits, not a group: phone_corrections
        return PartFix(
            low[: mark.start()], new, group={"dau": 0, "giua": _MIDDLE, "cuoi": -1}[which[0]]
        )
    renamed = _RENAMED_GROUP.for_text(low).search(low)
    if renamed is None:
        return None
    old, new = _digits(renamed.group("old")), _digits(renamed.group("new"))
    if old is None or new is None or old == new:
        return None
    return PartFix(low[: renamed.start("old")], new, old=old)
