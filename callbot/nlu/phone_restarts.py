"""Where a caller starts a callback number over while saying it.

"À... không ba... ba năm... ờ... không ba năm, sáu tám, …": the caller read a few digits,
faltered, and began the number again from its first digits. The number is the one read
from the last new start; what came before it was a false start, not digits of the number.
phone.py reads the digits; this module says where the last new start is.
"""

from __future__ import annotations

from callbot.nlu.numbers import find_numbers
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
