"""Which words of a callback number are heard as digits.

Besides the digit words, a recogniser writes words one sound off a digit ("chính", "mộ")
and the Southern "không" ("hông", "hổng"); each is read as a digit only where the digits
around it say so; a digit said with its count ("hai số năm") is written out as the digits
it stands for. phone.py reads the number from the digits this gives.
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.numbers import (
    DIGIT_SLIPS,
    DIGIT_SLIPS_PLAIN,
    DIGIT_WORDS,
    EMPTY_TENS,
    HUNDRED,
    NUMBER_SPELLINGS,
    NUMBER_WORDS,
    SCALES,
    number_tokens,
)
from callbot.nlu.text import MarkedPattern, fold_word

# "hai số năm" (55), "ba con tám" (888), "bốn số không" (0000): a digit said with how many
# times it comes, as callers read a run of one digit. Only counts of 2–4, and only a digit
# right after "số"/"con"/"chữ": "hai số cuối là…" names the last digits (phone_corrections).
_REPEATED = MarkedPattern.of(
    re.compile(
        r"\b(?P<count>hai|ba|bốn|[234])\s+(?:con\s+(?:số\s+)?|chữ\s+(?:số\s+)?|số\s+)"
        r"(?P<digit>không|một|hai|ba|bốn|năm|sáu|bảy|bẩy|tám|chín|\d)\b"
    )
)
_COUNTS = {"hai": 2, "ba": 3, "bốn": 4, "bon": 4, "2": 2, "3": 3, "4": 4}
# Slips heard only in a run of digits, so kept out of the shared ``DIGIT_SLIPS`` (a count
# or a place reads those too): "khôn" is "không" with its final sound lost, and "bả" is
# "bảy" with its glide lost (its tone says so: "ba" has none). Both are words of their own
# ("khôn" wise, "bả" she), so, like the other slips, digits only between two digits.
_RUN_SLIPS = {"khôn": "khong", "bả": "bay"}
_RUN_SLIPS_PLAIN = {"khon": "khong"}  # typed plain, "bả" is "ba": a digit in any case


def spelled_repeats(text: str) -> str:
    """The answer with each "hai số năm" written out as the digits it says ("năm năm")."""
    low = unicodedata.normalize("NFC", text).lower()
    pattern = _REPEATED.for_text(low)
    if pattern.search(low) is None:
        return text
    return pattern.sub(lambda m: " ".join([m.group("digit")] * _COUNTS[m.group("count")]), low)


def digit_view(raw: list[str], *, final_zero: bool = True) -> tuple[list[str], frozenset[int]]:
    """The folded tokens to read digits from, and which of them were slips taken as digits.

    A word heard one sound off a digit ("chính", "mộ", "bả") is a digit only between two
    digits (or after one, ending the answer): "không chính tám" is 098, but "số của bả là
    không…" starts at "không". A group opened by "linh"/"lẻ" is a zero and a digit
    ("không bảy không, linh hai…": 070 02…), as after "trăm". ``final_zero``: a Southern
    "hông" after the last digit is a zero too (else the question tag "… chín hông?")."""
    folded = number_tokens(raw)
    plain = all(fold_word(w) == w for w in raw)

    def kind(w: str, f: str) -> str:
        if w.isdigit() or (f in NUMBER_WORDS and (plain or w == f or w in NUMBER_SPELLINGS)):
            return "digit"
        slip = (
            w in DIGIT_SLIPS or w in _RUN_SLIPS or f in DIGIT_SLIPS_PLAIN or f in _RUN_SLIPS_PLAIN
        )
        return "slip" if f in NUMBER_WORDS or slip else ""

    kinds = [kind(w, f) for w, f in zip(raw, folded, strict=True)]
    out, slips = list(folded), set()
    _southern_zeros(raw, kinds, out, final=final_zero)
    for i, k in enumerate(kinds):
        if k != "slip":
            continue
        before = i > 0 and kinds[i - 1] == "digit"
        after = i + 1 == len(raw) or kinds[i + 1] == "digit"
        if (before and after) or _opens_number(raw, folded, kinds, i):
            f = folded[i]
            out[i] = _RUN_SLIPS.get(raw[i]) or _slip_digit(raw[i], f)
            slips.add(i)
        else:
            out[i] = "_"  # another word: it ends the run
    for i, f in enumerate(out[:-1]):
        opens = i == 0 or (out[i - 1] != HUNDRED and out[i - 1] not in SCALES)
        if f in EMPTY_TENS and opens and out[i + 1] in DIGIT_WORDS:
            out[i] = "khong"
    return out, frozenset(slips)


# The digits a mobile or landline goes on with after its leading zero (02, 03, 05, 07–09).
_SECOND_DIGITS = frozenset({"hai", "ba", "nam", "bay", "tam", "chin", "2", "3", "5", "7", "8", "9"})


def _opens_number(raw: list[str], folded: list[str], kinds: list[str], i: int) -> bool:
    """ "khôn ba bảy năm…": every number opens with a zero, so a "khôn" opening a run is
    that zero where the digit after it is one a number goes on with ("khôn, không chín…" is
    the word, then the number)."""
    opens = raw[i] == "khôn" or folded[i] == "khon"
    nxt = folded[i + 1] if i + 1 < len(raw) else ""
    return opens and kinds[i + 1 : i + 2] == ["digit"] and nxt in _SECOND_DIGITS


def _slip_digit(word: str, f: str) -> str:
    """The digit word a slip between digits stands for (its folded form where that is one)."""
    if f in NUMBER_WORDS:
        return f
    return DIGIT_SLIPS.get(word) or DIGIT_SLIPS_PLAIN.get(f) or _RUN_SLIPS_PLAIN[f]


# The Southern "không" ("hông", "hổng"; "hong" typed plain): a zero only in a chain of
# them next to a digit ("hông chín hông", "hông hông, hai mốt"), so "hông có số", "hông
# nhớ" stay a "no".
SOUTHERN_ZERO = frozenset({"hông", "hổng", "hong"})


def _southern_zeros(raw: list[str], kinds: list[str], out: list[str], *, final: bool) -> None:
    """Read each Southern "không" beside a digit as the digit zero, in place; ``final``:
    also a chain that no digit follows, which may be the question tag "… hông?"."""
    i = 0
    while i < len(raw):
        if raw[i] not in SOUTHERN_ZERO or kinds[i] == "digit":
            i += 1
            continue
        j = i
        while j < len(raw) and raw[j] in SOUTHERN_ZERO and kinds[j] != "digit":
            j += 1
        # (A slip beside it counts: "hông chính hông" is 090, and the slip itself is read
        # as a digit only if its other neighbour is one too.)
        beside = (i > 0 and kinds[i - 1] in ("digit", "slip")) or (
            j < len(raw) and kinds[j] in ("digit", "slip")
        )
        last = not any(k in ("digit", "slip") for k in kinds[j:])
        if beside and (final or not last):
            for k in range(i, j):
                kinds[k], out[k] = "digit", "khong"
        i = j
