"""How far apart two place names sound, syllable by syllable ("go vac" is one sound from "gò
vấp", "hop mon" one from "hóc môn", "cần dờ" none from "cần giờ" in Southern speech).

A recogniser (or a caller spelling without marks) gets one sound of a name wrong far more
often than it gets a whole syllable wrong: the initial consonant, the final consonant, the
tone. Names are compared on folded syllables (tones gone), each split into its initial,
vowel, final and tone; initials and finals the South says alike (d/gi/v/r, s/x, ch/tr,
final n/ng/nh, final c/t/ch) are one class. The distance is the number of parts that still
differ. Tones count only when the caller's words carry marks: typed without any, a tone
is unknown, not level.
Spelling-based fuzzy matching cannot tell "bình thạch" (one sound off) from "hòa đồng" vs
"an đông" (a different name sharing letters); this can.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from callbot.nlu.text import fold_word

# Folded initial consonants, longest first, and the class each sounds like.
_INITIALS = (
    ("ngh", "ng"),
    ("ng", "ng"),
    ("nh", "nh"),
    ("ch", "ch"),
    ("tr", "ch"),
    ("th", "th"),
    ("ph", "f"),
    ("kh", "kh"),
    ("gh", "g"),
    ("gi", "z"),
    ("qu", "kw"),
    ("b", "b"),
    ("c", "k"),
    ("k", "k"),
    ("d", "z"),
    ("g", "g"),
    ("h", "h"),
    ("l", "l"),
    ("m", "m"),
    ("n", "n"),
    ("p", "p"),
    ("r", "z"),
    ("s", "s"),
    ("x", "s"),
    ("t", "t"),
    ("v", "z"),
    ("f", "f"),
)
_FINALS = (("ch", "k"), ("nh", "n"), ("ng", "n"), ("c", "k"), ("t", "k"), ("m", "m"), ("n", "n"),
           ("p", "p"))  # fmt: skip
MAX_DISTANCE = 1


@lru_cache(maxsize=4096)
def syllable_parts(syllable: str) -> tuple[str, str, str]:
    """(initial class, vowel, final class) of one folded syllable."""
    initial, rest = "", syllable
    for spelled, sound in _INITIALS:
        if rest.startswith(spelled) and len(rest) > len(spelled):
            initial, rest = sound, rest[len(spelled) :]
            break
    final = ""
    for spelled, sound in _FINALS:
        if rest.endswith(spelled) and len(rest) > len(spelled):
            final, rest = sound, rest[: -len(spelled)]
            break
    return initial, rest, final


# Combining marks of the five marked tones (NFD); the level tone has none.
_TONE_MARKS = frozenset("\u0300\u0301\u0309\u0303\u0323")


@lru_cache(maxsize=4096)
def tone_of(syllable: str) -> str:
    return next((c for c in unicodedata.normalize("NFD", syllable) if c in _TONE_MARKS), "")


def sound_distance(a: str, b: str, *, tones: bool, consonants_only: bool = False) -> int | None:
    """Parts that differ between two names (accented, normalised) of as many syllables;
    None otherwise. ``tones``: compare the tones too (the caller's words carry marks).
    ``consonants_only``: only a consonant heard as another may differ, not a vowel nor a
    final heard or lost: typed plain, with no tone to tell them apart, "binh thuong" is
    "bình thường" and "nha ben" "nhà bên", not "Bình Thạnh" and "Nhà Bè"."""
    sa, sb = a.split(), b.split()
    if len(sa) != len(sb):
        return None
    total = 0
    for p, q in zip(sa, sb, strict=True):
        (ip, vp, fp), (iq, vq, fq) = syllable_parts(fold_word(p)), syllable_parts(fold_word(q))
        if consonants_only and (vp != vq or bool(fp) != bool(fq)):
            return None
        total += (ip != iq) + (vp != vq) + (fp != fq) + (tones and tone_of(p) != tone_of(q))
    return total


def nearest_by_sound(
    query: str, names: Iterable[str], *, tones: bool, consonants_only: bool = False
) -> tuple[str, int] | None:
    """The one name within ``MAX_DISTANCE`` of ``query``, and its distance; None when there
    is none or two are equally near (a guess between names is no answer)."""
    found: list[tuple[int, str]] = []
    for name in names:
        d = sound_distance(query, name, tones=tones, consonants_only=consonants_only)
        if d is not None and d <= MAX_DISTANCE:
            found.append((d, name))
    if not found:
        return None
    found.sort()
    if len(found) > 1 and found[1][0] == found[0][0]:
        return None
    return found[0][1], found[0][0]
