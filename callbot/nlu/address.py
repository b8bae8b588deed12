"""Street address: house number, alley (hẻm/ngõ/kiệt) and street name.

The admin unit (ward, district) is read by place.py; this module keeps what comes before it.
Spoken house numbers use number words ("mười hai") and "trên"/"xẹt" for the slash
("mười hai trên ba" = 12/3), which is how Southern callers say "12/3".
"""

from __future__ import annotations

from callbot.nlu.extraction import Extraction
from callbot.nlu.numbers import NUMBER_WORDS, parse_number_at
from callbot.nlu.text import fold, normalise, title_case, word_set

_HOUSE_MARKERS = frozenset({"so", "nha"})  # "số 12", "nhà số 12", "nhà 12"
_ALLEY_WORDS = {"hem": "hẻm", "ngo": "ngõ", "ngach": "ngách", "kiet": "kiệt"}
_STREET_WORDS = frozenset({"duong", "pho"})
_SLASH_WORDS = frozenset({"tren", "xet", "xuyet", "sec", "/"})
# Folded words that end a street name: the admin unit or other information starts there.
_STREET_END = word_set(
    "phuong p xa sa quan q huyen thanh tp ap khu to o gan canh tai thi nha nhe so sdt va con"
)
_MAX_STREET_TOKENS = 5


def _number_at(acc: list[str], fol: list[str], i: int) -> tuple[str, int] | None:
    """A house or alley number at i: "12", "12/3", "mười hai trên ba", "12a" → (text, end)."""
    if i >= len(fol):
        return None
    if "/" in acc[i] and all(p.isdigit() for p in acc[i].split("/") if p):
        number, j = acc[i].strip("/"), i + 1
    else:
        phrase = parse_number_at(fol, i)
        if phrase is None:
            return None
        number, j = str(phrase.value) if not acc[i].isdigit() else acc[i], phrase.end
    # Letter suffix ("12a", which normalisation split into "12 a").
    if (
        j + 1 < len(acc)
        and len(acc[j]) == 1
        and acc[j].isalpha()
        and fol[j] != "o"  # "ở"
        and fol[j + 1] not in NUMBER_WORDS
    ):
        number, j = number + acc[j].upper(), j + 1
    if j < len(fol) and fol[j] in _SLASH_WORDS:
        rest = _number_at(acc, fol, j + 1)
        if rest is not None:
            return f"{number}/{rest[0]}", rest[1]
    return number, j


def _street_at(acc: list[str], fol: list[str], i: int) -> tuple[str, int] | None:
    """Street name tokens from i: "nguyễn trãi", "đường số 7", "ba tháng hai" → (name, end)."""
    if i < len(fol) and fol[i] == "so":  # "đường số 7": numbered streets of new areas
        n = _number_at(acc, fol, i + 1)
        if n is not None:
            return f"Đường số {n[0]}", n[1]
    words: list[str] = []
    j = i
    while j < len(fol) and len(words) < _MAX_STREET_TOKENS and fol[j] not in _STREET_END:
        # Date-named streets ("3 tháng 2", "ba mươi tháng tư") keep their numbers as digits;
        # other number words stay words, since they are common in names ("Lê", "Nam Kỳ").
        phrase = parse_number_at(fol, j)
        after = fol[phrase.end] if phrase and phrase.end < len(fol) else ""
        if phrase and (after == "thang" or (words and fold(words[-1]) == "thang")):
            words.append(str(phrase.value))
            j = phrase.end
            continue
        if fol[j].isdigit():
            break
        words.append(acc[j])
        j += 1
    if not words:
        return None
    return title_case(" ".join(words)), j


def extract_address(text: str) -> Extraction | None:
    acc = normalise(text, keep_slash=True).split()
    fol = [fold(t) for t in acc]
    house = alley = street = ""
    start = end = None
    i = 0
    while i < len(fol):
        tok = fol[i]
        if tok in _ALLEY_WORDS and not alley:
            n = _number_at(acc, fol, i + 1)
            if n is not None:
                alley = f"{_ALLEY_WORDS[tok]} {n[0]}"
                start = i if start is None else start
                i = end = n[1]
                continue
        if tok in _STREET_WORDS and not street:
            s = _street_at(acc, fol, i + 1)
            if s is not None:
                street, i = s
                start = i if start is None else start
                end = i
                break
        if not house and not alley:
            j = i + 1 if tok in _HOUSE_MARKERS else i
            if j < len(fol) and fol[j] == "so":  # "nhà số 12"
                j += 1
            n = _number_at(acc, fol, j)
            if n is not None and (j > i or i == 0 or fol[i - 1] in ("o", "tai", "la")):
                house = n[0]
                start = i if start is None else start
                i = end = n[1]
                continue
        if (house or alley) and not street and tok not in _STREET_END:
            # "mười hai nguyễn trãi": the street follows the number without "đường".
            s = _street_at(acc, fol, i)
            if s is not None:
                street, end = s
                break
        i += 1
    if not street or start is None:
        return None
    parts = [p for p in (house, alley, street) if p]
    confidence = 0.9 if house else 0.75
    return Extraction(" ".join(parts), confidence, " ".join(acc[start:end]))
