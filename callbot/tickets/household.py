"""Whether two requests are about one household (issue 18 item 3, one case per household).

Pure: no store, no clock. The store finds the candidates (open cases within the window,
sharing a number or a place, ``sql_cases.py``); this module says which one, if any, is the
same household, and why. docs/tickets.md ("One case per household") gives the rule and how
often it merges wrongly on a synthetic set (``bench/bench_household_matching.py``).

The rule, in order:
1. Places known on both sides and not compatible (another district, another 2025 ward) →
   not the same, whatever else agrees: the same street and number exist in many districts.
2. The same address (below) in a compatible place → the same household, by ``address``
   (a relative or neighbour calling from another phone).
3. A shared number (caller or callback, any spelling) → the same household by ``number``,
   unless both addresses are known and differ: a ward officer or volunteer calls for many
   families from one phone.

Two addresses are the same when their house numbers are the same numbers ("123/4" and
"hẻm 123, nhà số 4"; the neighbourhood's "tổ 5" is not compared), so "123" is not "123/4",
"45" not "45A", "phòng 3" not "phòng 5" — and their street words are alike
(rapidfuzz token-set ratio, diacritics folded, so "Lê Văn Sỹ" is "le van si"). An address
with no house number says too little to compare.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz

from callbot.nlu.admin_units import SCHEME_WARD_2025, AdminUnit, district_2021_to_wards_2025
from callbot.nlu.text import fold
from callbot.tickets.model import Ticket
from callbot.tickets.store.sql_callers import number_forms

# Street words this alike (0–100, token-set ratio on folded text) are one street: high
# enough that "Lê Văn Sỹ"/"le van sy"/"Lê Văn Sĩ" agree and "Lê Văn Thọ" does not.
STREET_SIMILARITY = 85.0

# Words that say what kind of number follows or name no street; dropped before the street
# words are compared (folded). Ward and district phrases are removed whole (_PLACE_WORDS).
_FILLER = frozenset(
    [
        "so",
        "nha",
        "duong",
        "d",
        "hem",
        "kiet",
        "ngo",
        "ngach",
        "phong",
        "can",
        "ho",
        "lau",
        "tang",
        "block",
        "lo",
        "chung",
        "cu",
        "tro",
        "dia",
        "chi",
        "o",
        "tai",
        "gan",
        "cho",
        "thon",
        "xom",
        "a",
        "da",
        "em",
    ]
)
_PLACE_WORDS = re.compile(
    r"\b(?:phuong|quan|huyen|thi tran|thanh pho|tp|tphcm|hcm|ho chi minh)\b"
    r"(?:\s+(?:\d+|[a-z]+(?:\s+[a-z]+)?))?"
)
# "p.12", "q.3", "p12", "q3": the ward or district, not part of the house number.
_PLACE_ABBREVIATION = re.compile(r"\b[pq]\s*\.?\s*\d+\b")
# The neighbourhood's number (tổ 5, khu phố 3, ấp 2): callers give it or leave it out, so
# it is not compared — the house number is.
_NEIGHBOURHOOD = re.compile(r"\b(?:to|khu pho|kp|ap|khom)\s*\d+\b")
_HOUSE_NUMBER = re.compile(r"\d+[a-z]?\b")


class MatchBy(StrEnum):
    """Why two requests are one household; stored in the ``case_linked`` event."""

    ADDRESS = "address"
    NUMBER = "number"
    SUPERVISOR = "supervisor"  # linked by hand on the dashboard


class Relation(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    UNKNOWN = "unknown"  # one side does not say


@dataclass(frozen=True)
class Household:
    """What identifies a request's household: its numbers, its place, its address."""

    numbers: frozenset[str]  # every spelling of the caller's and the callback number
    place: AdminUnit | None  # the most precise unit known (2025 ward, else 2021 district)
    address: str | None  # the street address as given (house number, street…)


@dataclass(frozen=True)
class Address:
    """An address reduced to what is compared."""

    numbers: Counter[str]  # house numbers, room numbers, alleys: "123/4" → 123, 4
    street: str  # the remaining words, folded: "le van sy"


def household_of(ticket: Ticket, place: AdminUnit | None) -> Household:
    """A ticket's household; ``place`` is its admin unit resolved (routing.find_unit)."""
    numbers: set[str] = set()
    for number in (ticket.caller_number, ticket.callback_number):
        numbers.update(number_forms(number or ""))
    address = ticket.slots.get("address")
    return Household(frozenset(numbers), place, address.value if address else None)


def same_household(a: Household, b: Household) -> MatchBy | None:
    """Why ``a`` and ``b`` are one household (the rule above), or None."""
    place = place_relation(a.place, b.place)
    if place is Relation.DIFFERENT:
        return None
    address = address_relation(a.address, b.address)
    if address is Relation.SAME and place is Relation.SAME:
        return MatchBy.ADDRESS
    if a.numbers & b.numbers and address is not Relation.DIFFERENT:
        return MatchBy.NUMBER
    return None


def first_match(
    new: Household, cases: Iterable[tuple[int, Household]]
) -> tuple[int, MatchBy] | None:
    """The first of ``cases`` (id, household; newest first) that is ``new``'s household:
    an address match wins over a number match further down the list."""
    by_number: tuple[int, MatchBy] | None = None
    for case_id, household in cases:
        match = same_household(new, household)
        if match is MatchBy.ADDRESS:
            return case_id, match
        if match is MatchBy.NUMBER and by_number is None:
            by_number = case_id, match
    return by_number


# --- Places ---------------------------------------------------------------------------------


def place_relation(a: AdminUnit | None, b: AdminUnit | None) -> Relation:
    """Two places are the same when one may hold the other: equal units, a 2025 ward and a
    2021 district it overlaps, or two districts… only when equal."""
    if a is None or b is None:
        return Relation.UNKNOWN
    if a.name == b.name:
        return Relation.SAME
    if a.scheme == b.scheme == SCHEME_WARD_2025:
        return Relation.DIFFERENT
    return Relation.SAME if _districts(a) & _districts(b) else Relation.DIFFERENT


def _districts(unit: AdminUnit) -> frozenset[str]:
    if unit.scheme == SCHEME_WARD_2025:
        return _districts_of_ward().get(unit.name, frozenset())
    return frozenset({unit.name})


@lru_cache(maxsize=1)
def _districts_of_ward() -> dict[str, frozenset[str]]:
    """A 2025 ward → the 2021 districts it was made from (some span two)."""
    found: dict[str, set[str]] = {}
    for district, wards in district_2021_to_wards_2025().items():
        for ward in wards:
            found.setdefault(ward, set()).add(district)
    return {ward: frozenset(districts) for ward, districts in found.items()}


# --- Addresses ------------------------------------------------------------------------------


def parse_address(text: str | None) -> Address | None:
    """The address's numbers and street words; None when it holds no house number."""
    if not text:
        return None
    folded = fold(" ".join(text.lower().split()))
    folded = re.sub(r"[,;:()\"'–-]", " ", folded).replace("/", " / ")
    folded = _PLACE_ABBREVIATION.sub(" ", _PLACE_WORDS.sub(" ", folded))
    folded = _NEIGHBOURHOOD.sub(" ", folded)
    numbers = Counter(_HOUSE_NUMBER.findall(folded))
    if not numbers:
        return None
    words = [w for w in re.split(r"[^a-z]+", _HOUSE_NUMBER.sub(" ", folded)) if w]
    street = " ".join(w for w in words if w not in _FILLER)
    return Address(numbers, street)


def address_relation(a: str | None, b: str | None) -> Relation:
    one, other = parse_address(a), parse_address(b)
    if one is None or other is None or not one.street or not other.street:
        return Relation.UNKNOWN  # a number alone ("123/4") says too little
    if one.numbers != other.numbers:  # 123 is not 123/4, 45 not 45A, phòng 3 not phòng 5
        return Relation.DIFFERENT
    alike = fuzz.token_set_ratio(one.street, other.street) >= STREET_SIMILARITY
    return Relation.SAME if alike else Relation.DIFFERENT
