"""Ho Chi Minh City's administrative units, read from the ``vietnamadminunits`` package data.

Two schemes matter to callers: the 2021 districts (16 quận, TP. Thủ Đức, 5 huyện) that
everyone still says, and the 168 wards/communes of the city since 1 July 2025 (after the
merger with Bình Dương and Bà Rịa–Vũng Tàu). The package ships both (SQLite table
``admin_units_legacy`` and ``admin_units``) and the old→new ward mapping
(``converter_2025.json``). We read those files directly instead of importing the package:
its import pulls in shapely and geopy and costs about 0.4 s, which a call server should not pay
for a list of names.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from callbot.nlu.text import fold

HCMC_2025 = "thanhphohochiminh"  # province key of the merged city in the 2025 data
HCMC_LEGACY = "thanhphohochiminh"  # and of the old city in the legacy data
SCHEME_DISTRICT_2021 = "district_2021"
SCHEME_WARD_2025 = "ward_2025"


@dataclass(frozen=True)
class AdminUnit:
    scheme: str  # SCHEME_DISTRICT_2021 or SCHEME_WARD_2025
    name: str  # "Quận 1", "Thành phố Thủ Đức", "Phường Bến Thành", "Đặc khu Côn Đảo"
    short: str  # the name without its type word: "1", "Thủ Đức", "Bến Thành"
    unit_type: str  # "Quận", "Huyện", "Thành phố", "Phường", "Xã", "Đặc khu"
    code: str  # the national statistics code
    key: str  # the package's ascii key without type word ("1", "thuduc", "benthanh")


def _data_dir() -> Path:
    spec = find_spec("vietnamadminunits")  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _query(sql: str, *params: str) -> list[sqlite3.Row]:
    uri = f"file:{_data_dir() / 'dataset.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def _ascii_key(text: str) -> str:
    """The package's key style ("Phường Bến Thành" → "phuongbenthanh"); one of its keys has a
    stray diacritic ("xãthạnhan"), so keys are always re-folded before comparing."""
    return "".join(c for c in fold(text.lower()) if c.isalnum())


@lru_cache(maxsize=1)
def districts_2021() -> tuple[AdminUnit, ...]:
    rows = _query(
        "SELECT DISTINCT district, districtShort, districtType, districtCode, districtKey "
        "FROM admin_units_legacy WHERE provinceKey = ? ORDER BY districtCode",
        HCMC_LEGACY,
    )
    units = []
    for r in rows:
        # Numbered districts have "Quận 1" as their short name in the data; the bare number
        # is what follows the type word in speech.
        short = r["districtShort"].removeprefix(r["districtType"]).strip() or r["districtShort"]
        units.append(
            AdminUnit(
                SCHEME_DISTRICT_2021,
                r["district"],
                short,
                r["districtType"],
                r["districtCode"],
                _ascii_key(short),
            )
        )
    return tuple(units)


@lru_cache(maxsize=1)
def wards_2025() -> tuple[AdminUnit, ...]:
    rows = _query(
        "SELECT DISTINCT ward, wardShort, wardType, wardCode FROM admin_units "
        "WHERE provinceKey = ? ORDER BY wardCode",
        HCMC_2025,
    )
    return tuple(
        AdminUnit(
            SCHEME_WARD_2025,
            r["ward"],
            r["wardShort"],
            r["wardType"],
            r["wardCode"],
            _ascii_key(r["wardShort"]),
        )
        for r in rows
    )


@lru_cache(maxsize=1)
def _converter_hcmc() -> tuple[dict[str, list[str]], dict[str, list[dict]]]:
    with open(_data_dir() / "converter_2025.json", encoding="utf-8") as f:
        data = json.load(f)
    return (
        data["DICT_PROVINCE_WARD_NO_DIVIDED"][HCMC_2025],
        data["DICT_PROVINCE_WARD_DIVIDED"].get(HCMC_2025, {}),
    )


@lru_cache(maxsize=1)
def legacy_ward_to_2025() -> dict[tuple[str, str], tuple[str, ...]]:
    """(legacy district key, legacy ward key) → full names of the 2025 ward(s) it went into.

    Keys are the package's full ascii keys: ("quangovap", "phuong12").
    A legacy ward split between several new wards maps to all of them.
    """
    by_key = {_ascii_key(u.name): u.name for u in wards_2025()}
    mapping: dict[tuple[str, str], set[str]] = defaultdict(set)
    not_divided, divided = _converter_hcmc()
    prefix = HCMC_LEGACY + "_"
    for new_key, olds in not_divided.items():
        for old in olds:
            if old.startswith(prefix):
                _, district, ward = old.split("_")
                mapping[(district, ward)].add(by_key[_ascii_key(new_key)])
    for old, news in divided.items():
        if old.startswith(prefix):
            _, district, ward = old.split("_")
            for new in news:
                mapping[(district, ward)].add(by_key[_ascii_key(new["newWardKey"])])
    return {k: tuple(sorted(v)) for k, v in mapping.items()}


@lru_cache(maxsize=1)
def district_2021_to_wards_2025() -> dict[str, tuple[str, ...]]:
    """2021 district full name → the 2025 wards/communes its territory went into."""
    full_key_to_name = {_ascii_key(u.name): u.name for u in districts_2021()}
    merged: dict[str, set[str]] = defaultdict(set)
    for (district_key, _), new_wards in legacy_ward_to_2025().items():
        merged[full_key_to_name[district_key]].update(new_wards)
    return {name: tuple(sorted(wards)) for name, wards in merged.items()}


@lru_cache(maxsize=1)
def units_by_name() -> dict[str, AdminUnit]:
    """Every unit by its full name, case-folded. Full names never collide across schemes:
    the type word is part of them ("Quận Gò Vấp" is the district, "Phường Gò Vấp" the ward)."""
    return {unit.name.casefold(): unit for unit in (*districts_2021(), *wards_2025())}


def find_unit(name: str) -> AdminUnit | None:
    """The admin unit a canonical place name (the ``place`` slot's value) denotes."""
    return units_by_name().get(" ".join(name.split()).casefold())


@dataclass(frozen=True)
class LegacyWard:
    """A named ward or commune of the city before 1 July 2025 ("Phường Bến Nghé")."""

    name: str  # "Phường Bến Nghé"
    district: str  # the 2021 district it lay in: "Quận 1"
    current: tuple[str, ...]  # the 2025 ward(s) its territory went into


@lru_cache(maxsize=1)
def legacy_named_wards() -> dict[str, LegacyWard]:
    """Folded short name ("ben nghe") → the pre-2025 ward of that name, for the names only
    one district had: callers still say them, and the name alone then says the district.
    Numbered wards ("Phường 12", in many districts) need their district and are left out,
    as are names two districts shared ("Tân Phú" in Quận 7 and in Thủ Đức)."""
    rows = _query(
        "SELECT DISTINCT ward, wardShort, district, districtKey, wardKey "
        "FROM admin_units_legacy WHERE provinceKey = ?",
        HCMC_LEGACY,
    )
    by_name: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for r in rows:
        if not r["wardShort"].removeprefix("Phường ").isdigit():
            by_name[fold(r["wardShort"].lower())].append(r)
    to_2025 = legacy_ward_to_2025()
    return {
        name: LegacyWard(
            r["ward"], r["district"], to_2025.get((r["districtKey"], r["wardKey"]), ())
        )
        for name, (r, *others) in by_name.items()
        if not others
    }


# The provinces merged into the city in 2025; their towns and districts (huyện, thị xã,
# thành phố) were abolished with it.
_MERGED_PROVINCES = ("tinhbinhduong", "tinhbariavungtau")


@lru_cache(maxsize=1)
def split_former_towns() -> frozenset[str]:
    """Folded names of the merged provinces' former towns and districts whose territory went
    into several 2025 units ("Dĩ An": Phường Dĩ An, Đông Hòa, Tân Đông Hiệp). Said without
    a type word, such a name means the old town, which no one 2025 unit is, even where a
    ward now bears its name; "Côn Đảo" (one unit before and after) is not among them."""
    rows = _query(
        "SELECT DISTINCT districtShort, districtKey, provinceKey FROM admin_units_legacy "
        "WHERE provinceKey IN (?, ?)",
        *_MERGED_PROVINCES,
    )
    units: dict[tuple[str, str], set[str]] = defaultdict(set)
    not_divided, divided = _converter_hcmc()
    for new_key, olds in not_divided.items():
        for old in olds:
            province, district, _ = old.split("_")
            units[(province, district)].add(new_key)
    for old, news in divided.items():
        province, district, _ = old.split("_")
        units[(province, district)].update(n["newWardKey"] for n in news)
    return frozenset(
        fold(r["districtShort"].lower())
        for r in rows
        if len(units.get((r["provinceKey"], r["districtKey"]), ())) > 1
    )
