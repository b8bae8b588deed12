"""What a place answer is (a unit of one scheme, what it is today, what the caller called
it), and the units of the pre-2025 scheme that callers still name: "phường 12" with its
district, "phường Bến Nghé" on its own. place.py finds the words; this says what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from callbot.nlu.admin_units import (
    SCHEME_DISTRICT_2021,
    AdminUnit,
    LegacyWard,
    district_2021_to_wards_2025,
    districts_2021,
    legacy_named_wards,
    legacy_ward_to_2025,
    wards_2025,
)
from callbot.nlu.extraction import Extraction
from callbot.nlu.text import fold

THU_DUC_CITY = "Thành phố Thủ Đức"


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


def place_of(unit: AdminUnit, former: str = "") -> Place:
    if unit.scheme == SCHEME_DISTRICT_2021:
        current = district_2021_to_wards_2025().get(unit.name, ())
    else:
        current = (unit.name,)
    return Place(unit.scheme, unit.name, unit.unit_type, unit.code, current, former)


@lru_cache(maxsize=1)
def numbered_districts() -> dict[int, AdminUnit]:
    return {int(u.short): u for u in districts_2021() if u.short.isdigit()}


def district_by_name(name: str) -> AdminUnit:
    return next(u for u in districts_2021() if u.name == name)


def with_alternatives(units: tuple[AdminUnit, ...], former: str = "") -> Place:
    place = place_of(units[0], former)
    others = tuple(u.name for u in units[1:])
    return Place(**{**place.__dict__, "alternatives": others}) if others else place


def legacy_ward_at(fol: list[str], i: int) -> tuple[LegacyWard, int] | None:
    """A pre-2025 ward named at token i ("bến nghé" after "phường"), longest name first."""
    for end in range(min(len(fol), i + 4), i, -1):
        ward = legacy_named_wards().get(" ".join(fol[i:end]))
        if ward is not None:
            return ward, end
    return None


def legacy_place(ward: LegacyWard) -> Place:
    """The 2025 ward a pre-2025 one became, where it went into one; else its district,
    the larger area (right whichever 2025 ward the caller's street is in now)."""
    if len(ward.current) == 1:
        unit = next(u for u in wards_2025() if u.name == ward.current[0])
        return place_of(unit, former=f"{ward.name}, {ward.district}")
    return place_of(district_by_name(ward.district), former=ward.name)


def resolve_legacy_ward(number: int, district: Place) -> Place | None:
    """ "phường 12" said with its district: the 2025 ward(s) it went into, or None."""
    district_key = "".join(c for c in fold(district.name.lower()) if c.isalnum())
    wards = legacy_ward_to_2025().get((district_key, f"phuong{number}"))
    if not wards:
        return None
    former = f"Phường {number}, {district.name}"
    unit = next(u for u in wards_2025() if u.name == wards[0])
    place = place_of(unit, former)
    return Place(**{**place.__dict__, "alternatives": wards[1:]}) if len(wards) > 1 else place
