"""The place question on the keypad reaches every district-level unit, and its prompt reads
the same codes the table holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callbot.nlu.candidates import DISTRICT
from callbot.nlu.place_keys import NAMED_CODES, place_from_keys
from callbot.speech.prompts import PROJECT_ROOT, load_texts


def test_every_2021_unit_has_a_key():
    reached = {
        place_from_keys(str(code)).value for code in range(1, 25) if place_from_keys(str(code))
    }
    assert reached == set(DISTRICT)  # 16 quận, TP. Thủ Đức, 5 huyện


def test_the_old_districts_2_and_9_lead_to_thu_duc_as_when_spoken():
    assert place_from_keys("2#").value == place_from_keys("9").value == "Thành phố Thủ Đức"


def test_the_keypad_prompt_reads_each_code_of_the_table():
    text = load_texts(PROJECT_ROOT / "prompts")["ask_place_keypad"]
    for code, name in NAMED_CODES.items():
        assert f"{name} {code}." in text, name


@given(st.text(max_size=6))
def test_any_keys_give_a_unit_or_nothing(keys):
    found = place_from_keys(keys)
    assert found is None or found.value in DISTRICT


def test_codes_outside_the_table_and_non_ascii_digits_are_refused():
    for keys in ("0", "25", "99#", "²", "١٢", "", "#", "123"):
        assert place_from_keys(keys) is None, keys
