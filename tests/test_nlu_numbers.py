from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.nlu.numbers import (
    digits_to_words,
    find_numbers,
    number_to_words,
    number_tokens,
    words_to_number,
)
from callbot.nlu.text import fold, tokens


@pytest.mark.parametrize(
    ("spoken", "value"),
    [
        ("không", 0),
        ("mười", 10),
        ("mười lăm", 15),
        ("mười một", 11),
        ("hai mươi mốt", 21),
        ("ba mươi tư", 34),
        ("bốn mươi lăm", 45),
        ("năm mươi nhăm", 55),
        ("hai chục", 20),
        ("ba trăm linh năm", 305),
        ("ba trăm lẻ năm", 305),
        ("một trăm mười", 110),
        ("hai nghìn không trăm linh năm", 2005),
        ("hai ngàn lẻ năm", 2005),
        ("một triệu hai trăm nghìn", 1_200_000),
        ("hai muoi mot", 21),  # no tone marks at all
        ("12", 12),
    ],
)
def test_words_to_number(spoken: str, value: int) -> None:
    assert words_to_number(spoken) == value


def test_words_to_number_rejects_other_words() -> None:
    assert words_to_number("nhà có năm người") is None
    assert words_to_number("") is None


def test_toned_muoi_decides_between_ten_and_tens() -> None:
    # "bảy mười tám": the tone says 7, 18 ("mười" is ten); "bảy mươi tám" is 78.
    assert [p.digits for p in find_numbers(number_tokens(tokens("bảy mười tám")))] == ["7", "18"]
    assert [p.digits for p in find_numbers(number_tokens(tokens("bảy mươi tám")))] == ["78"]


def test_colloquial_pair_after_bare_tens() -> None:
    # "chín mươi, tám lăm" is 90, 85: "tám" is followed by the unit-only word "lăm".
    phrases = find_numbers(number_tokens(tokens("chín mươi tám lăm")))
    assert [p.digits for p in phrases] == ["90", "8", "5"]


def test_group_digits_keep_their_width() -> None:
    phrases = find_numbers(number_tokens(tokens("không trăm năm mươi")))
    assert [p.digits for p in phrases] == ["050"]


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_number_words_round_trip(n: int) -> None:
    assert words_to_number(number_to_words(n)) == n


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_number_words_round_trip_without_tone_marks(n: int) -> None:
    assert words_to_number(fold(number_to_words(n))) == n


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_digit_readback_round_trip(digits: str) -> None:
    spoken = digits_to_words(digits)
    assert "".join(p.digits for p in find_numbers(number_tokens(tokens(spoken)))) == digits


def test_number_to_words_range() -> None:
    with pytest.raises(ValueError):
        number_to_words(-1)
