"""Normalisation and every extractor must survive anything a recogniser (or a fuzzer) writes."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callbot.nlu import (
    extract_address,
    extract_case_type,
    extract_correction,
    extract_household,
    extract_name,
    extract_phone,
    extract_place,
    extract_subject,
    extract_yes_no,
    fold,
    normalise,
    wants_human,
)
from callbot.nlu.text import MarkedPattern, title_case, typed_plain, unglue

VIETNAMESE_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
viet_text = st.text(alphabet=VIETNAMESE_LETTERS + " ,.0123456789", max_size=80)


def test_normalise_whisper_style() -> None:
    assert normalise("Quận 3.") == "quận 3"
    assert normalise("4, 5, 6") == "4 5 6"
    assert normalise("Q1") == "q 1"
    assert normalise("số ờ mười hai") == "số mười hai"  # hesitations dropped
    assert normalise("12/3", keep_slash=True) == "12/3"


def test_fold() -> None:
    assert fold("đường Nguyễn Trãi") == "duong Nguyen Trai"
    assert fold("phường") == fold("phương") == "phuong"


def test_title_case() -> None:
    assert title_case("nguyễn văn đức") == "Nguyễn Văn Đức"


@given(st.text())
@example("ÀAEE")  # a hesitation run into a word: split, then dropped, in one pass
def test_normalise_never_crashes_and_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text())
def test_fold_leaves_no_combining_marks(text: str) -> None:
    import unicodedata

    folded = fold(normalise(text))
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", folded))


@settings(max_examples=150)
@given(st.one_of(st.text(), viet_text))
def test_extractors_never_crash(text: str) -> None:
    for extract in (
        extract_address,
        extract_case_type,
        extract_correction,
        extract_household,
        extract_name,
        extract_phone,
        extract_place,
        extract_subject,
        extract_yes_no,
    ):
        result = extract(text)
        assert result is None or 0.0 <= result.confidence <= 1.0
    assert isinstance(wants_human(text), bool)


@pytest.mark.parametrize(
    ("word", "words"),
    [
        ("quậnba", "quận ba"),
        ("kếbên", "kế bên"),
        ("khôngchín", "không chín"),
        ("đứanhỏ", "đứa nhỏ"),
        ("mộtngười", "một người"),
        ("chínhai", "chín hai"),  # a digit word before "h": "chín hai", not "chí nhai"
        ("benthanh", "ben thanh"),
    ],
)
def test_two_syllables_run_together_are_split(word: str, words: str) -> None:
    assert unglue(word) == words
    assert normalise(f"ở {word} ạ") == f"ở {words} ạ"


# Syllables with the longest initials, vowel groups and finals Vietnamese writes, and
# loanwords a caller may type: each is one word.
@pytest.mark.parametrize(
    "word",
    [
        "nghiêng",
        "khuỷu",
        "giường",
        "quyển",
        "người",
        "ngoằn",
        "oách",
        "chuyện",
        "thuở",
        "khuya",
        "nguyễn",
        "trưa",
        "chừng",
        "khuếch",
        "ngoẹo",
        "quạnh",
        "zalo",
        "covid",
        "online",
        "internet",
        "facebook",
    ],
)
def test_one_syllable_or_a_loanword_is_kept_whole(word: str) -> None:
    assert unglue(word) == word


@given(st.one_of(st.text(), viet_text))
def test_unglue_only_inserts_one_space(word: str) -> None:
    split = unglue(word)
    if split != word:
        assert split.count(" ") == word.count(" ") + 1
        assert split.replace(" ", "") == word.replace(" ", "")


def test_a_pattern_with_marks_reads_a_plain_text_through_its_twin() -> None:
    pattern = MarkedPattern.of(re.compile(r"\bđể\s+tôi\s+đếm\b", re.IGNORECASE))
    assert pattern.for_text("De toi dem coi").search("De toi dem coi")
    assert pattern.for_text("Để tôi đếm coi").search("Để tôi đếm coi")
    # A text with any mark is read with marks only: "de toi dem" there is other words.
    assert not pattern.for_text("dể toi dem").search("dể toi dem")
    assert typed_plain("Ba Nguoi") and not typed_plain("ba người")
