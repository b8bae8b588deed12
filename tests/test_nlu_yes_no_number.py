"""The readback's yes/no about the number or a detail (callbot/nlu/yes_no_number.py), and
the review's probes of rounds six and seven: each was read wrong once, a "no" as a yes the
worst of them."""

from __future__ import annotations

import pytest

from callbot.nlu.extraction import ACCEPT_CONFIDENCE
from callbot.nlu.household import extract_household
from callbot.nlu.phone import extract_phone
from callbot.nlu.yes_no import extract_yes_no


def answer(text: str) -> str | None:
    found = extract_yes_no(text)
    return found.value if found and found.confidence >= ACCEPT_CONFIDENCE else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # settling for this number: only when it is not refused after all
        ("gọi số khác đi, à không, số này không được", "no"),
        ("số khác đi, à thôi, số này cũng không được đâu", "no"),
        ("gọi số khác đi, à thôi, gọi số này cũng được", "yes"),
        # "but" naming another number or person: no plain yes
        ("được, nhưng buổi tối gọi số của chồng tôi nha", None),
        ("đúng, nhưng cuối tuần gọi giùm số của con tôi", None),
        ("ừ, nhưng buổi tối gọi cho con trai tôi nghe máy", None),
        ("được, cứ gọi số này, nhưng gọi buổi tối nha", "yes"),
        ("đúng rồi, nhưng gọi giùm sớm nha", "yes"),
        # "chứ không phải" across a pause, or before no detail, corrects nothing
        ("được chứ, không phải lo", None),
        ("đúng rồi chứ không phải sai", None),
        ("đúng, số này là của tôi chứ không phải của ai", "yes"),
        ("số nhà là bốn mươi tám chứ không phải tám mươi bốn", "no"),
        ("tên là Hương chứ không phải Hường", "no"),
        # no other number to offer is no request for one
        ("đúng rồi, tôi không có số nào khác", "yes"),
        ("gọi số khác giùm tôi", "no"),
        # a hedge commits only with a word that judges the readback
        ("chắc ừ", None),
        ("hình như có", "yes"),
        ("chắc là đúng", "yes"),
    ],
)
def test_what_the_last_words_say_about_the_number(text, expected):
    assert answer(text) == expected


def test_a_hedged_yes_is_just_over_acceptance():
    found = extract_yes_no("chắc là đúng")
    assert found is not None and ACCEPT_CONFIDENCE <= found.confidence < 0.6


def test_a_digit_said_again_at_a_pause_is_joined_only_weakly():
    # a stutter or the next digit: either way taken under hearing.WEAK_READING
    found = extract_phone("không chín không chín... chín chín tám, tám một hai ba")
    assert found is not None and found.confidence < 0.6


def test_except_is_not_besides():
    assert extract_household("ngoài tôi ra còn có ba người nữa").value == "4"
    assert extract_household("trừ hai đứa con ra còn ba người").value == "3"
