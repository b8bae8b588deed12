"""Where the person in need lives: a 2021 district or a 2025 ward/commune of HCMC.

Callers name places in either scheme ("quận Gò Vấp", "phường Bến Thành", "quận 2", which no
longer exists) and recognisers mangle the type word ("phương" for "phường") and tone marks
("bên thành"). We look for a type word first, because it says which scheme the caller means
("quận Gò Vấp" is the 2021 district, "phường Gò Vấp" is one of the 2025 wards it became),
then match the words after it against that scheme's names, exactly (diacritics kept, then
folded) and then fuzzily. Without a type word we match names anywhere in the utterance, and
a name that is both an old district and a new ward is returned as the district (the larger
area, correct under either reading) with the ward as an alternative and lower confidence.
The names' index and the match itself are place_names.py; what a place is, and the
pre-2025 wards, place_units.py; well-known areas, place_landmarks.py; what the words around
the places say of them, place_context.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from callbot.nlu.admin_units import (
    SCHEME_DISTRICT_2021,
    SCHEME_WARD_2025,
    districts_2021,
    split_former_towns,
    wards_2025,
)
from callbot.nlu.hesitation import withdrawn
from callbot.nlu.numbers import (
    DIGIT_SLIPS,
    DIGIT_SLIPS_PLAIN,
    NUMBER_WORDS,
    TEN_UNTONED,
    number_to_words,
    number_tokens,
    parse_number_at,
)
from callbot.nlu.place_context import alternatives_between, number_offered_after, only_near
from callbot.nlu.place_landmarks import landmark_at
from callbot.nlu.place_names import district_index, match_name, ward_index
from callbot.nlu.place_sound import sound_distance
from callbot.nlu.place_units import (
    THU_DUC_CITY,
    Place,
    PlaceExtraction,
    district_by_name,
    legacy_place,
    legacy_ward_at,
    numbered_districts,
    place_of,
    resolve_legacy_ward,
    with_alternatives,
)
from callbot.nlu.text import fold, normalise, split_self_correction, word_set

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
# Folded words that may follow a district's number and end the answer ("quận sáo đó chị").
_AFTER_NUMBER = word_set("a nha nhe do chi anh em co chu bac ne hen nghen luon ha")
# A number word heard one sound off after "quận" ("quận sáo"), a landmark for its district.
_SLIPPED_CONFIDENCE = 0.8
_LANDMARK_CONFIDENCE = 0.85
_EXACT = 0.9  # what place_names gives a name matched exactly, folded or not


@dataclass(frozen=True)
class _Mention:
    place: Place
    confidence: float
    start: int
    end: int
    typed: bool
    landmark: bool = False


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


def _number_words(acc: list[str], fol: list[str], i: int) -> tuple[list[str], int | None]:
    """The folded words after "quận" to read its number from, and where a digit word heard
    one sound off was read as the digit (None if nowhere). "mừi" (no word of its own) is
    "mười"; "sáo", "bải", "mộ" ("quận sáo", "quận mười mộ", "quan sao" typed plain) are
    words of their own, so a digit only as the last word of the number ending the answer:
    "quận chính là…" says no number, nor "quận hay…", the "or" of a caller still choosing."""
    view = [n if n == TEN_UNTONED else f for n, f in zip(number_tokens(acc), fol, strict=True)]
    end = len(fol)
    while end > i and fol[end - 1] in _AFTER_NUMBER:
        end -= 1
    k = end - 1
    if k < i or fol[k] == "hay" or (k > i and view[k - 1] not in NUMBER_WORDS):
        return view, None
    plain = all(a == f for a, f in zip(acc, fol, strict=True))
    word = DIGIT_SLIPS.get(acc[k]) or (DIGIT_SLIPS_PLAIN.get(fol[k]) if plain else None)
    word = word or _final_slip(acc[k], tones=not plain)
    if word is None:
        return view, None
    view[k] = word
    return view, k


# The digits as spoken (with their tones), for ``_final_slip``.
_DIGITS_SPOKEN = ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _final_slip(word: str, *, tones: bool) -> str | None:
    """The folded digit ``word`` is with its final consonant heard as one the South says
    alike ("mộc" for "một": final c/t), the same tone: no sound of it differs. Not n/ng/nh:
    "chính", "bống" are words of their own, far likelier heard than a slip of "chín"."""
    if word in _DIGITS_SPOKEN or word[-1:] not in ("c", "t"):
        return None
    for digit in _DIGITS_SPOKEN:
        if sound_distance(word, digit, tones=tones) == 0:
            return fold(digit)
    return None


def _numbered_district(acc: list[str], fol: list[str], i: int) -> tuple[Place, int, float] | None:
    """ "quận 3", "quận ba", "quận mười hai", "quận nhất", "quận 2" (now TP. Thủ Đức),
    "quận sáo" (a slip of "sáu") → (place, end, confidence)."""
    if i >= len(fol):
        return None
    confidence = 0.95
    view, slip = _number_words(acc, fol, i)
    if fol[i] in _ORDINALS:
        number, end = _ORDINALS[fol[i]], i + 1
    elif (phrase := parse_number_at(view, i)) is not None:
        number, end = phrase.value, phrase.end
        # "quận mười... mười một": the number said again and extended is the one meant.
        again, said = parse_number_at(view, end), view[i:end]
        # (Only to a district there is: "quận hai... hai mươi" is no Quận 20.)
        if (
            again is not None
            and again.end > end + len(said)
            and view[end : end + len(said)] == said
            and again.value in numbered_districts()
        ):
            number, end = again.value, again.end
        if slip is not None and slip < end:
            confidence = _SLIPPED_CONFIDENCE
    else:
        return None
    if number in _FORMER_THU_DUC:
        place = place_of(district_by_name(THU_DUC_CITY), former=_FORMER_THU_DUC[number])
        return place, end, confidence
    unit = numbered_districts().get(number)
    return (place_of(unit), end, confidence) if unit else None


def _legacy_numbered_ward(fol: list[str], i: int) -> tuple[int, int] | None:
    """ "phường 12" (a ward of the old scheme, meaningful only with its district)."""
    phrase = parse_number_at(fol, i)
    if phrase is None or not 1 <= phrase.value <= 30:
        return None
    return phrase.value, phrase.end


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
        numbered = _numbered_district(acc, fol, j)
        if numbered is not None:
            place, end, confidence = numbered
            return _Mention(place, confidence, i, end, True), end
    primary, secondary = (
        (district_index(), ward_index())
        if scheme == SCHEME_DISTRICT_2021
        else (ward_index(), district_index())
    )
    if scheme == SCHEME_WARD_2025 and (legacy := legacy_ward_at(fol, j)) is not None:
        # "phường Bến Nghé", "xã Phú Mỹ Hưng": a ward's name before 2025, unless a 2025
        # ward has that name (or a longer one there), which the caller more likely means.
        ward, end = legacy
        exact = match_name(acc, fol, j, primary, None)
        if exact is None or exact[2] < end:
            return _Mention(legacy_place(ward), _EXACT, i, end, True), end
    hit = match_name(acc, fol, j, primary, _FUZZY_CUTOFF_TYPED, sound=True)
    if hit is not None:
        units, confidence, end = hit
        former = ""
        if units[0].name == THU_DUC_CITY and fol[i] == "quan":
            former = "Quận Thủ Đức"
        return _Mention(with_alternatives(units, former), confidence, i, end, True), end
    # A wrong type word ("quận Bến Thành") still names the place, with less certainty;
    # "thành phố Thuận An" is the former town, which is no one ward now.
    hit = match_name(acc, fol, j, secondary, None)
    if hit is not None and not (
        scheme == SCHEME_DISTRICT_2021 and fold(hit[0][0].short.lower()) in split_former_towns()
    ):
        units, confidence, end = hit
        return _Mention(with_alternatives(units), confidence - 0.2, i, end, True), end
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
        landmark = landmark_at(fol, i)
        if landmark is not None:
            # "khu Phú Mỹ Hưng": the area, not the ward "Phú Mỹ" its first words name.
            place = place_of(district_by_name(landmark[0]))
            mentions.append(_Mention(place, _LANDMARK_CONFIDENCE, i, landmark[1], False, True))
            i = landmark[1]
            continue
        best: _Mention | None = None
        exact = False
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
            if index is ward_index() and fold(units[0].short.lower()) in split_former_towns():
                continue  # "tui ở Dĩ An": the former town, which several wards now share
            exact = exact or confidence >= _EXACT
            if best is None or end > best.end:
                best = _Mention(with_alternatives(units), confidence - 0.05, i, end, False)
            elif end == best.end:
                # Same words name a district and a ward: keep the district, note the ward.
                names = (*best.place.alternatives, *(u.name for u in units))
                place = Place(**{**best.place.__dict__, "alternatives": names})
                best = _Mention(place, min(best.confidence, confidence) - 0.15, i, end, False)
        if best is not None and not exact and _exact_inside(acc, fol, i + 1, best.end):
            best = None  # "giáp ranh Bình Chánh": "ranh bình" is no fuzzy "Tân Bình"
        if best is not None and not any(k in taken for k in range(best.start, best.end)):
            mentions.append(best)
            i = best.end
        else:
            i += 1
    return mentions


def _exact_inside(acc: list[str], fol: list[str], start: int, end: int) -> bool:
    """Whether a name (a unit's or a landmark's) starts, exactly, between start and end."""
    return any(
        landmark_at(fol, k) is not None
        or any(match_name(acc, fol, k, index, None) for index in (district_index(), ward_index()))
        for k in range(start, end)
    )


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
            place = resolve_legacy_ward(number, d.place)
            if place is not None:
                mentions.append(_Mention(place, min(0.9, d.confidence), start, end, True))
                break
    # "Dĩ An, Bình Dương, sát ranh Thủ Đức": a unit the caller lives next to, not in. (A
    # landmark is a point or an area, and "gần ngã tư Hàng Xanh" is in its district.)
    kept = (m for m in mentions if m.landmark or not only_near(fol, m.start))
    return sorted(kept, key=lambda m: m.start)


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
    said = text
    while (corrected := split_self_correction(said)) is not None:
        # "Quận tám, à không, quận sáu": the place the caller settled on.
        found = _extract_place(corrected[1]) if corrected[1].strip(" ,.…") else None
        if found is not None:
            return found
        # "Quận 3, à không, quận 1, em nói lộn á": a mark with no place after it says the
        # caller misspoke before it, where an earlier correction may be.
        said = corrected[0]
    return _extract_place(text)


def _undecided(text: str, mentions: list[_Mention]) -> bool:
    """Two places offered as alternatives ("quận 3 hay quận 10 gì đó", "quận 3 hay 10"),
    other than a ward and the district it lies in."""
    fol = [fold(t) for t in normalise(text).split()]
    for a, b in pairwise(mentions):
        same = a.place.name == b.place.name
        inside = a.place.name in b.place.current or b.place.name in a.place.current
        if not (same or inside) and alternatives_between(fol, a.end, b.start):
            return True
    return any(m.typed and number_offered_after(fol, m.end) for m in mentions)


def _extract_place(text: str) -> PlaceExtraction | None:
    mentions = find_places(text)
    if not mentions or _undecided(text, mentions):
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
