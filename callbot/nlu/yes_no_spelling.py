"""Answer words written askew: a tone mark on the other vowel, a horn on one vowel of "ươ",
"không" cut short before the answer it negates (read in yes_no.py).

"dạ đuợc", "đựơc rồi": a keyboard (or a recogniser's spelling) that puts the tone on the
other vowel of "ươ", or the horn on only one of them, still wrote "được": the same letters
and the same tone, nothing another word could be. "khôn đúng", "khôg phải": "không" with
its last sound lost; alone "khôn" is a word (wise), before an answer word it can only be
the "không" that negates it, and a "no" read as "yes" is the worst error there is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from callbot.nlu.place_sound import tone_of

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
# "ươ" with the horn typed on one vowel only: no Vietnamese word is spelt so in an answer.
_HALF_HORNS = (("uơ", "ươ"), ("ưo", "ươ"))


def _letters(word: str) -> str:
    """The word's letters without its tone mark, wherever that was placed."""
    plain = "".join(c for c in unicodedata.normalize("NFD", word) if c not in _TONE_MARKS)
    letters = unicodedata.normalize("NFC", plain)
    for half, whole in _HALF_HORNS:
        letters = letters.replace(half, whole)
    return letters


def respellings(words: Iterable[str]) -> dict[tuple[str, str], str]:
    """(tone, letters) → the word, for each of ``words`` (written as they should be)."""
    return {(tone_of(w), _letters(w)): w for w in words}


def respelt(token: str, spellings: dict[tuple[str, str], str]) -> str | None:
    """The word of ``spellings`` that ``token`` is, written askew; None when it is not one
    or is written as it should be."""
    word = spellings.get((tone_of(token), _letters(token)))
    return word if word is not None and word != token else None


# "không" cut short ("khôn", "khôg", "kô"), and Southern "hông" as "hôn", as written, and
# typed without marks ("khon", "khog": not "hon", which may be "hơn").
CLIPPED_NO = frozenset({"khôn", "khôg", "kô", "hôn", "hôg", "khon", "khog"})
# The answer words (folded) a clipped "không" before them negates: "khôn được" is no.
NEGATED = frozenset({"dung", "duoc", "phai", "co", "chinh", "chuan", "dong"})
# Those it asks about after them: "đúng khôn?" is "đúng không?", a question.
ASKED = frozenset({"dung", "duoc", "phai", "co", "sai", "nham", "chac", "lon", "trat"})


def clipped_no_at(folded: list[str], tokens: list[str], i: int) -> bool:
    """Whether ``tokens[i]`` is "không" cut short: one of ``CLIPPED_NO`` next to the answer
    word it negates (``folded``: the answer words read so far, as yes_no.py reads them)."""
    if tokens[i] not in CLIPPED_NO:
        return False
    after = folded[i + 1] if i + 1 < len(folded) else ""
    before = folded[i - 1] if i > 0 else ""
    return after in NEGATED or before in ASKED
