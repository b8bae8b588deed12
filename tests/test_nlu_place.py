from __future__ import annotations

import time

import pytest

from callbot.nlu.admin_units import (
    SCHEME_DISTRICT_2021,
    SCHEME_WARD_2025,
    district_2021_to_wards_2025,
    districts_2021,
    wards_2025,
)
from callbot.nlu.place import extract_place, place_phrases


def test_unit_lists_come_from_the_package() -> None:
    districts = districts_2021()
    assert len(districts) == 22  # 16 quận, TP. Thủ Đức, 5 huyện
    assert sum(u.unit_type == "Quận" for u in districts) == 16
    assert sum(u.unit_type == "Huyện" for u in districts) == 5
    wards = wards_2025()
    assert len(wards) == 168
    assert (
        sum(u.unit_type == "Phường" for u in wards),
        sum(u.unit_type == "Xã" for u in wards),
    ) == (
        113,
        54,
    )
    assert [u.name for u in wards if u.unit_type == "Đặc khu"] == ["Đặc khu Côn Đảo"]


def test_every_2021_district_maps_to_current_wards() -> None:
    mapping = district_2021_to_wards_2025()
    assert set(mapping) == {u.name for u in districts_2021()}
    assert mapping["Quận 1"] == (
        "Phường Bến Thành",
        "Phường Cầu Ông Lãnh",
        "Phường Sài Gòn",
        "Phường Tân Định",
    )


@pytest.mark.parametrize(
    ("said", "former"),
    [
        ("quận 2", "Quận 2"),
        ("quận hai", "Quận 2"),
        ("quận chín", "Quận 9"),
        ("Quận 9.", "Quận 9"),
        ("quận thủ đức", "Quận Thủ Đức"),
        ("quận nhì", "Quận 2"),
    ],
)
def test_old_districts_become_thu_duc_city(said: str, former: str) -> None:
    result = extract_place(said)
    assert result is not None
    assert result.value == "Thành phố Thủ Đức"
    assert result.place.scheme == SCHEME_DISTRICT_2021
    assert result.place.former == former
    assert "Phường Thủ Đức" in result.place.current


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("quận một", "Quận 1"),
        ("quận 1", "Quận 1"),
        ("q1", "Quận 1"),
        ("quận nhất", "Quận 1"),
        ("quận mười hai", "Quận 12"),
        ("quần mười một", "Quận 11"),
        ("quận tư", "Quận 4"),
        ("Quận 3, thành phố Hồ Chí Minh.", "Quận 3"),
        ("huyện cần giờ", "Huyện Cần Giờ"),
        ("phương bên thành", "Phường Bến Thành"),
        ("phường bến thành quận một", "Phường Bến Thành"),
        ("xã bình hưng", "Xã Bình Hưng"),
        ("quận bình thạch", "Quận Bình Thạnh"),
    ],
)
def test_place_forms(said: str, expected: str) -> None:
    result = extract_place(said)
    assert result is not None and result.value == expected


def test_district_name_that_is_also_a_ward_name() -> None:
    typed_district = extract_place("quận gò vấp")
    typed_ward = extract_place("phường gò vấp")
    bare = extract_place("tôi ở gò vấp")
    assert typed_district is not None and typed_ward is not None and bare is not None
    assert typed_district.place.scheme == SCHEME_DISTRICT_2021
    assert typed_ward.place.scheme == SCHEME_WARD_2025
    assert typed_ward.place.current == ("Phường Gò Vấp",)
    # Bare: the district (it contains the ward, so it is right either way), ward noted.
    assert bare.value == "Quận Gò Vấp"
    assert bare.place.alternatives == ("Phường Gò Vấp",)
    assert bare.confidence < typed_district.confidence


def test_legacy_numbered_ward_with_its_district() -> None:
    result = extract_place("phường mười hai quận gò vấp")
    assert result is not None
    assert result.value == "Phường An Hội Tây"
    assert result.place.former == "Phường 12, Quận Gò Vấp"


def test_city_names_are_not_places() -> None:
    assert extract_place("tôi ở sài gòn") is None
    assert extract_place("thành phố hồ chí minh") is None
    assert extract_place("phường sài gòn") is not None  # the 2025 ward of that name


def test_nonexistent_district() -> None:
    assert extract_place("quận mười ba") is None


def test_phrase_list_covers_both_schemes() -> None:
    phrases = place_phrases()
    for p in (
        "quận 1",
        "quận một",
        "quận gò vấp",
        "gò vấp",
        "phường bến thành",
        "quận hai",
        "thành phố thủ đức",
        "đặc khu côn đảo",
        "xã củ chi",
    ):
        assert p in phrases
    assert len(phrases) == len(set(phrases))


def test_matching_is_fast() -> None:
    extract_place("warm up")
    start = time.perf_counter()
    for _ in range(200):
        extract_place("nhà tôi ở số 12 hẻm 5 phương bên thành quận một thành phố hồ chí minh")
    assert (time.perf_counter() - start) / 200 < 0.005
