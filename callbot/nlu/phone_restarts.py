"""Where a caller starts a callback number over while saying it.

"À... không ba... ba năm... ờ... không ba năm, sáu tám, …": the caller read a few digits,
faltered, and began the number again from its first digits. The number is the one read
from the last new start; what came before it was a false start, not digits of the number.
phone.py reads the digits; this module says where the last new start is.
"""

from __future__ import annotations

import re

from callbot.nlu.numbers import DIGIT_WORDS, NUMBER_WORDS, find_numbers, number_tokens
from callbot.nlu.phone_corrections import GROUP_BREAK
from callbot.nlu.phone_words import digit_view
from callbot.nlu.text import tokens

# How many opening digits a group must share with the first one to be the number said
# again from its start ("không ba …" … "không ba năm …"): one digit is too often the same
# by chance ("không" opens many groups).
_OPENING = 2


def _digits(chunk: str) -> str:
    return "".join(p.digits for p in find_numbers(digit_view(tokens(chunk))[0]))


def new_starts(text: str) -> list[str]:
    """The answer from each later group that says the first group's opening digits again,
    the last new start first; empty when the caller never started over."""
    spans, at = [], 0
    for piece in GROUP_BREAK.finditer(f"{text},"):
        spans.append((at, piece.start()))
        at = piece.end()
    said = [(a, _digits(text[a:b])) for a, b in spans]
    said = [(a, d) for a, d in said if d]
    if len(said) < 2 or len(said[0][1]) < _OPENING:
        return []
    opening = said[0][1][:_OPENING]
    return [text[a:] for a, d in reversed(said[1:]) if d[:_OPENING] == opening]


def without_restarts(text: str) -> str | None:
    """The answer with each fragment dropped that the next group says again in full
    ("bốn bốn... bốn bốn chín hai"), or None when there is none."""
    chunks = [c for c in GROUP_BREAK.split(text) if tokens(c)]
    if not chunks:
        return None
    said = [[t for t in number_tokens(tokens(c)) if t in NUMBER_WORDS] for c in chunks]
    kept = [
        c
        for c, this, nxt in zip(chunks, said, [*said[1:], []], strict=True)
        if not (this and len(this) < len(nxt) and nxt[: len(this)] == this)
    ]
    return ", ".join(kept) if len(kept) < len(chunks) else None


# A hesitation the recogniser writes as an ellipsis: where a caller stutters, unlike the
# comma between the groups of a number read out.
_ELLIPSIS = re.compile(r"\.\.+|…")


def stutters_joined(text: str) -> str | None:
    """The answer with each stutter at an ellipsis undone, or None when there is none:
    "không... không chín" says "không" again in full (a restart), and "không chín... chín tám
    một" and "không năm tám... năm tám chín" say the last digits again and read on (an
    overlap). Only at an ellipsis: across a comma "tám, tám" is two digits of the number."""
    pieces = re.split(r"([,;.…]+)", text)
    kept: list[list[str]] = []  # the digit words of each group kept
    joined = False
    for chunk, pause in zip(pieces[::2], ["", *pieces[1::2]], strict=False):
        said = [w for w in digit_view(tokens(chunk))[0] if w in NUMBER_WORDS]
        words = [w for w in said if w in DIGIT_WORDS]
        if len(words) < len(said):
            return None  # "ba mươi…" is read as a number, not digit by digit
        if not words:
            continue
        last = kept[-1] if kept else []
        overlap = next(
            (k for k in range(min(len(last), len(words) - 1), 0, -1) if last[-k:] == words[:k]),
            0,
        )
        if last and _ELLIPSIS.search(pause) and (overlap or words[: len(last)] == last):
            kept[-1] = words if words[: len(last)] == last else last + words[overlap:]
            joined = True
        else:
            kept.append(words)
    return ", ".join(" ".join(w) for w in kept) if joined else None
