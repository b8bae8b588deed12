"""Where the person in need lives: a 2021 district or a 2025 ward/commune of HCMC.

Callers name places in either scheme ("quận Gò Vấp", "phường Bến Thành", "quận 2", which no
longer exists) and recognisers mangle the type word ("phương" for "phường") and tone marks
("bên thành"). We look for a type word first, because it says which scheme the caller means
("quận Gò Vấp" is the 2021 district, "phường Gò Vấp" is one of the 2025 wards it became),
then match the words after it against that scheme's names, exactly (diacritics kept, then
folded) and then fuzzily. Without a type word we match names anywhere in the utterance, and
a name that is both an old district and a new ward is returned as the district (the larger
area, correct under either reading) with the ward as an alternative and lower confidence.
The names' index and the match itself are place_names.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from callbot.nlu.admin_units import (
    SCHEME_DISTRICT_2021,
    SCHEME_WARD_2025,
    AdminUnit,
    district_2021_to_wards_2025,
    districts_2021,
    legacy_ward_to_2025,
    wards_2025,
)
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import withdrawn
from callbot.nlu.numbers import number_to_words, parse_number_at
from callbot.nlu.place_names import district_index, match_name, ward_index
from callbot.nlu.text import fold, normalise, split_self_correction

THU_DUC_CITY = "Thành phố Thủ Đức"
# Districts merged into TP. Thủ Đức in 2021; callers still say them.
_FORMER_THU_DUC = {2: "Quận 2", 9: "Quận 9"}
# Old ordinal names of the numbered districts ("quận nhất", Southern "quận nhứt").
_ORDINALS = {"nhat": 1, "nhut": 1, "nhi": 2}
# Folded type words; the value says which scheme the caller means.
_TYPE_WORDS: dict[tuple[str, ...], str] = {
    ("quan",): SCHEME_DISTRICT_2021,
    ("q",): SCHEME_DISTRICT_2021,
    ("huyen",): SCHEME_DISTRICT_2021,
    ("thanh", "pho"): SCHEME_DISTRICT_2021,
    ("tp",): SCHEME_DISTRICT_2021,
    ("phuong",): SCHEME_WARD_2025,
    ("p",): SCHEME_WARD_2025,
    ("xa",): SCHEME_WARD_2025,
    ("sa",): SCHEME_WARD_2025,  # Southern speech merges x and s: "sã" for "xã"
    ("dac", "khu"): SCHEME_WARD_2025,
}
# Names that mean something else when said without a type word: the whole city, a former
# province, or everyday words. They only count after "phường"/"xã".
_NEEDS_TYPE_WORD = frozenset({"sai gon", "binh duong", "vung tau", "ba ria", "hoa binh", "tay nam"})
# The city itself, which callers add at the end of an address.
_CITY_NAMES = ("ho chi minh", "hcm", "sai gon")
_FUZZY_CUTOFF_TYPED = 78.0
_FUZZY_CUTOFF_BARE = 80.0


@dataclass(frozen=True)
class Place:
    scheme: str  # "district_2021" or "ward_2025"
    name: str  # canonical full name: "Quận 1", "Thành phố Thủ Đức", "Phường Bến Thành"
    unit_type: str  # "Quận", "Huyện", "Thành phố", "Phường", "Xã", "Đặc khu"
    code: str  # national statistics code of the unit
    # The 2025 unit(s) the place is today: the ward itself, or every ward a district became.
    current: tuple[str, ...]
    former: str = ""  # the older name the caller used: "Quận 2", "Phường 12, Quận Gò Vấp"
    # Other units the same words could mean (a district and a ward with one name).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlaceExtraction(Extraction):
    place: Place = field(kw_only=True)


def _place_of(unit: AdminUnit, former: str = "") -> Place:
    if unit.scheme == SCHEME_DISTRICT_2021:
        current = district_2021_to_wards_2025().get(unit.name, ())
    else:
        current = (unit.name,)
    return Place(unit.scheme, unit.name, unit.unit_type, unit.code, current, former)


@lru_cache(maxsize=1)
def _numbered_districts() -> dict[int, AdminUnit]:
    return {int(u.short): u for u in districts_2021() if u.short.isdigit()}


def _district_by_name(name: str) -> AdminUnit:
    return next(u for u in districts_2021() if u.name == name)


@dataclass(frozen=True)
class _Mention:
    place: Place
    confidence: float
    start: int
    end: int
    typed: bool


def _type_word_at(fol: list[str], i: int) -> tuple[str, int] | None:
    for words, scheme in _TYPE_WORDS.items():
        if tuple(fol[i : i + len(words)]) == words:
            return scheme, i + len(words)
    return None


def _city_length(fol: list[str], i: int, *, ward_follows: bool = False) -> int:
    """Tokens of the city's own name at i ("hồ chí minh"), 0 when there is none."""
    rest = " ".join(fol[i : i + 3]) + " "
    # "phường Sài Gòn" is a ward; "Sài Gòn" alone or after "thành phố" is the city.
    cities = _CITY_NAMES[:2] if ward_follows else _CITY_NAMES
    return next((len(c.split()) for c in cities if rest.startswith(c + " ")), 0)


def _numbered_district(fol: list[str], i: int) -> tuple[Place, int] | None:
    """ "quận 3", "quận ba", "quận mười hai", "quận nhất", "quận 2" (now TP. Thủ Đức)."""
    if i >= len(fol):
        return None
    if fol[i] in _ORDINALS:
        number, end = _ORDINALS[fol[i]], i + 1
    else:
        phrase = parse_number_at(fol, i)
        if phrase is None:
            return None
        number, end = phrase.value, phrase.end
    if number in _FORMER_THU_DUC:
        return _place_of(_district_by_name(THU_DUC_CITY), former=_FORMER_THU_DUC[number]), end
    unit = _numbered_districts().get(number)
    return (_place_of(unit), end) if unit else None


def _legacy_numbered_ward(fol: list[str], i: int) -> tuple[int, int] | None:
    """ "phường 12" (a ward of the old scheme, meaningful only with its district)."""
    phrase = parse_number_at(fol, i)
    if phrase is None or not 1 <= phrase.value <= 30:
        return None
    return phrase.value, phrase.end


def _with_alternatives(units: tuple[AdminUnit, ...], former: str = "") -> Place:
    place = _place_of(units[0], former)
    others = tuple(u.name for u in units[1:])
    return Place(**{**place.__dict__, "alternatives": others}) if others else place


def _typed_mention(acc: list[str], fol: list[str], i: int) -> tuple[_Mention | None, int]:
    """A place after a type word at token i → (mention or None, next token to scan)."""
    found = _type_word_at(fol, i)
    if found is None:
        return None, i + 1
    scheme, j = found
    city = _city_length(fol, j, ward_follows=scheme == SCHEME_WARD_2025)
    if city:
        return None, j + city
    if scheme == SCHEME_DISTRICT_2021 and fol[i] in ("quan", "q"):
        numbered = _numbered_district(fol, j)
        if numbered is not None:
            place, end = numbered
            return _Mention(place, 0.95, i, end, True), end
    primary, secondary = (
        (district_index(), ward_index())
        if scheme == SCHEME_DISTRICT_2021
        else (ward_index(), district_index())
    )
    hit = match_name(acc, fol, j, primary, _FUZZY_CUTOFF_TYPED, sound=True)
    if hit is not None:
        units, confidence, end = hit
        former = ""
        if units[0].name == THU_DUC_CITY and fol[i] == "quan":
            former = "Quận Thủ Đức"
        return _Mention(_with_alternatives(units, former), confidence, i, end, True), end
    # A wrong type word ("quận Bến Thành") still names the place, with less certainty.
    hit = match_name(acc, fol, j, secondary, None)
    if hit is not None:
        units, confidence, end = hit
        return _Mention(_with_alternatives(units), confidence - 0.2, i, end, True), end
    return None, j


def _bare_mentions(acc: list[str], fol: list[str], taken: set[int]) -> list[_Mention]:
    mentions: list[_Mention] = []
    i = 0
    while i < len(fol):
        # Type words and the city's name are never the start of a bare unit name.
        skip = _city_length(fol, i) or (i in taken) or _type_word_at(fol, i) is not None
        if skip:
            i += max(1, int(skip))
            continue
        best: _Mention | None = None
        for index in (district_index(), ward_index()):
            # Bare, only the few district names are matched by sound (and a ward named
            # like the district heard): the wards' names share syllables with everyday
            # words ("an", "long", "hòa", "phú").
            sound = index is district_index() or best is not None
            hit = match_name(acc, fol, i, index, _FUZZY_CUTOFF_BARE, bare=True, sound=sound)
            if hit is None:
                continue
            units, confidence, end = hit
            if fold(" ".join(fol[i:end])) in _NEEDS_TYPE_WORD or (end - i < 2 and confidence < 0.9):
                continue
            if best is None or end > best.end:
                best = _Mention(_with_alternatives(units), confidence - 0.05, i, end, False)
            elif end == best.end:
                # Same words name a district and a ward: keep the district, note the ward.
                names = (*best.place.alternatives, *(u.name for u in units))
                place = Place(**{**best.place.__dict__, "alternatives": names})
                best = _Mention(place, min(best.confidence, confidence) - 0.15, i, end, False)
        if best is not None and not any(k in taken for k in range(best.start, best.end)):
            mentions.append(best)
            i = best.end
        else:
            i += 1
    return mentions


def _resolve_legacy_ward(number: int, district: Place) -> Place | None:
    district_key = "".join(c for c in fold(district.name.lower()) if c.isalnum())
    wards = legacy_ward_to_2025().get((district_key, f"phuong{number}"))
    if not wards:
        return None
    former = f"Phường {number}, {district.name}"
    unit = next(u for u in wards_2025() if u.name == wards[0])
    place = _place_of(unit, former)
    return Place(**{**place.__dict__, "alternatives": wards[1:]}) if len(wards) > 1 else place


def find_places(text: str) -> list[_Mention]:
    """Every place mention, in order (typed ones and bare names)."""
    acc = normalise(text).split()
    fol = [fold(t) for t in acc]
    mentions: list[_Mention] = []
    legacy_wards: list[tuple[int, int, int]] = []  # (number, start, end)
    i = 0
    while i < len(fol):
        mention, nxt = _typed_mention(acc, fol, i)
        if mention is not None:
            mentions.append(mention)
        elif fol[i] in ("phuong", "p") and (num := _legacy_numbered_ward(fol, i + 1)):
            legacy_wards.append((num[0], i, num[1]))
            nxt = num[1]
        i = nxt
    taken = {k for m in mentions for k in range(m.start, m.end)}
    taken |= {k for _, s, e in legacy_wards for k in range(s, e)}
    mentions += _bare_mentions(acc, fol, taken)
    districts = [m for m in mentions if m.place.scheme == SCHEME_DISTRICT_2021]
    for number, start, end in legacy_wards:
        for d in districts:
            place = _resolve_legacy_ward(number, d.place)
            if place is not None:
                mentions.append(_Mention(place, min(0.9, d.confidence), start, end, True))
                break
    return sorted(mentions, key=lambda m: m.start)


def _choose(mentions: list[_Mention]) -> _Mention:
    wards = [m for m in mentions if m.place.scheme == SCHEME_WARD_2025]
    districts = [m for m in mentions if m.place.scheme == SCHEME_DISTRICT_2021]
    # A ward inside the district the caller also named is the most precise answer there is.
    for w in wards:
        for d in districts:
            if w.place.name in d.place.current:
                return _Mention(w.place, max(w.confidence, d.confidence), w.start, w.end, True)
    # A ward outside it is most likely a former commune of that district, named as before
    # 2025 ("Cần Giờ, xã Long Hòa"), that now shares its name with a ward elsewhere.
    pool = districts if districts and wards else mentions
    return max(pool, key=lambda m: (m.confidence, m.typed, m.end - m.start))


def extract_place(text: str) -> PlaceExtraction | None:
    if withdrawn(text):
        return None  # "Quận một, à không… để tôi hỏi lại đã": nothing in its place
    corrected = split_self_correction(text)
    if corrected is not None and corrected[1].strip(" ,.…"):
        # "Quận tám, à không, quận sáu": the place the caller settled on.
        found = _extract_place(corrected[1])
        if found is not None:
            return found
    return _extract_place(text)


def _extract_place(text: str) -> PlaceExtraction | None:
    mentions = find_places(text)
    if not mentions:
        return None
    best = _choose(mentions)
    heard = " ".join(normalise(text).split()[best.start : best.end])
    return PlaceExtraction(
        best.place.name, round(min(1.0, max(0.0, best.confidence)), 3), heard, place=best.place
    )


def place_phrases() -> list[str]:
    """What a caller may say for a place, for a recogniser's phrase list or grammar."""
    phrases: list[str] = []
    for unit in districts_2021():
        if unit.short.isdigit():
            n = int(unit.short)
            phrases += [f"quận {n}", f"quận {number_to_words(n)}"]
        else:
            phrases += [f"{unit.unit_type.lower()} {unit.short.lower()}", unit.short.lower()]
    for n in _FORMER_THU_DUC:
        phrases += [f"quận {n}", f"quận {number_to_words(n)}"]
    phrases += ["quận thủ đức", "quận nhất", "quận tư"]
    for unit in wards_2025():
        phrases += [f"{unit.unit_type.lower()} {unit.short.lower()}", unit.short.lower()]
    return list(dict.fromkeys(phrases))
