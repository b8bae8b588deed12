"""How many people live in the household that needs help."""

from __future__ import annotations

from callbot.nlu.extraction import Extraction
from callbot.nlu.numbers import find_numbers
from callbot.nlu.text import fold, normalise, split_self_correction, word_set

# Folded words that, right after a number, say it counts people ("năm người", "ba đứa con").
_PERSON_NOUNS = word_set("nguoi khau nhan thanh dua chau be con dua tre ong ba co chu mieng suat")
# Phrases that are a count by themselves.
_FIXED_COUNTS: tuple[tuple[str, int], ...] = (
    ("song mot minh", 1),
    ("o mot minh", 1),
    ("co mot minh", 1),
    ("chi co minh toi", 1),
    ("chi minh toi", 1),
    ("mot minh toi", 1),
    ("vo chong", 2),
    ("hai vo chong", 2),
    ("hai me con", 2),
    ("hai ba chau", 2),
    ("hai bo con", 2),
)
# Words that may surround a bare count ("dạ, năm ạ", "tất cả là sáu").
_AROUND_BARE = word_set("da vang a o u tat ca la co nha gom khoang chung tong cong thi")
_MAX_PEOPLE = 60


def extract_household(text: str) -> Extraction | None:
    corrected = split_self_correction(text)
    if corrected is not None:
        # "sáu người à không bảy người" is seven, not thirteen: the count after the
        # correction replaces the one before it.
        found = _count(corrected[1])
        if found is not None:
            return Extraction(found.value, round(found.confidence * 0.95, 3), found.heard)
    return _count(text)


def _count(text: str) -> Extraction | None:
    norm = normalise(text)
    acc = norm.split()
    fol = [fold(t) for t in acc]
    folded_text = " ".join(fol)
    total, spans = 0, []
    # "năm nay" is "this year", never a count.
    for phrase in find_numbers(fol):
        nxt = fol[phrase.end] if phrase.end < len(fol) else ""
        if fol[phrase.start] == "nam" and nxt == "nay":
            continue
        if nxt in _PERSON_NOUNS and 0 < phrase.value <= _MAX_PEOPLE:
            total += phrase.value
            spans.append((phrase.start, phrase.end + 1))
    fixed = ""
    for words, count in sorted(_FIXED_COUNTS, key=lambda wc: -len(wc[0])):
        if f" {words} " in f" {folded_text} ":
            # "vợ"/"chồng"/"mình" are not in _PERSON_NOUNS, so "hai vợ chồng" is not also
            # counted as a numbered phrase.
            fixed, total = words, total + count
            break
    if total:
        heard = " ".join(acc[spans[0][0] : spans[-1][1]]) if spans else fixed
        return Extraction(str(total), 0.9 if spans else 0.8, heard)
    # A bare count: the whole answer is one small number ("năm", "dạ năm người ạ" handled above).
    kept = [i for i, t in enumerate(fol) if t not in _AROUND_BARE]
    rest = [fol[i] for i in kept]
    numbers = find_numbers(rest)
    if (
        len(numbers) == 1
        and numbers[0].end - numbers[0].start == len(rest)
        and 0 < numbers[0].value <= _MAX_PEOPLE
    ):
        return Extraction(str(numbers[0].value), 0.75, " ".join(acc[i] for i in kept))
    return None
