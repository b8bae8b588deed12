"""The understanding defects the speech issue found, each pinned by a test.

The first rules here were changed after the held-out set in tests/heldout/ was written, and
not from its items. On 2026-12-01 (evening) that set and bench/speech_answers/answers_2026-12
were judged for the last time and became tuning data: the tests from "past the answer words"
on name the kinds of answer they missed. The judge now is bench/speech_answers/
answers_2026-12b.jsonl, written before those changes and never read for rules.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.call.hearing import WEAK_READING
from callbot.nlu.case_type import extract_case_type
from callbot.nlu.extraction import ACCEPT_CONFIDENCE
from callbot.nlu.household import extract_household
from callbot.nlu.phone import extract_phone
from callbot.nlu.place import extract_place
from callbot.nlu.subject import extract_subject
from callbot.nlu.text import split_self_correction
from callbot.nlu.yes_no import extract_yes_no


def accepted(extraction):
    if extraction is None or extraction.confidence < ACCEPT_CONFIDENCE:
        return None
    return extraction.value


@pytest.mark.parametrize(
    ("text", "not_value"),
    [
        ("trung tâm y tế phường", "essentials"),  # trung ≠ trứng
        ("mua đôi dép cho con", "essentials"),  # đôi ≠ đói
        ("con chó nhà bên sủa suốt đêm", "essentials"),  # sủa ≠ sữa
    ],
)
def test_words_that_fold_alike_are_not_the_cue(text, not_value):
    assert accepted(extract_case_type(text)) != not_value


def test_the_toned_cue_still_counts_fully_and_a_dropped_mark_counts_less():
    exact, dropped = extract_case_type("nhà tôi hết gạo"), extract_case_type("nha toi het gao")
    assert accepted(exact) == accepted(dropped) == "essentials"
    assert dropped.confidence < exact.confidence


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("sáu người à không bảy người", "7"),
        ("nhà có năm người, à nhầm, sáu người", "6"),
        ("nhà có bốn người", "4"),
    ],
)
def test_a_count_corrected_mid_answer_is_the_new_count(text, value):
    assert accepted(extract_household(text)) == value


def test_a_phone_number_said_again_after_a_correction_is_the_new_one():
    said = "không chín một à không không chín không ba bốn năm sáu bảy tám chín"
    assert accepted(extract_phone(said)) == "0903456789"


def test_a_corrected_last_group_replaces_it_and_is_not_stitched_on():
    said = "không chín không ba bốn năm sáu bảy tám à nhầm tám chín"
    assert accepted(extract_phone(said)) == "0903456789"


def test_an_eleven_digit_mobile_is_not_cut_to_ten_and_accepted():
    assert accepted(extract_phone("không chín không ba bốn năm sáu bảy tám chín một")) is None
    # …while a leading "không" that answers the question is still not a digit.
    said = "không, số tôi là không chín không ba bốn năm sáu bảy tám chín"
    assert accepted(extract_phone(said)) == "0903456789"


@pytest.mark.parametrize(
    "text",
    ["chắc vậy", "ờ không biết nữa", "đúng hả", "gì ạ", "chắc là đúng hả", "đúng không"],
)
def test_hesitant_or_puzzled_answers_are_unclear(text):
    assert accepted(extract_yes_no(text)) is None


@pytest.mark.parametrize("text", ["chắc là đúng", "tôi nghĩ là đúng, chắc vậy", "hình như đúng"])
def test_a_hedged_but_committed_yes_is_a_weak_yes(text):
    # Accepted, but under hearing.WEAK_READING: from a doubtful transcript it counts as
    # nothing and the bot asks again.
    found = extract_yes_no(text)
    assert found is not None and found.value == "yes"
    assert ACCEPT_CONFIDENCE <= found.confidence < WEAK_READING


@pytest.mark.parametrize(
    "heard",
    ["cô", "cô ơi", "vàng", "sài gòn", "chùa", "dùng", "cơ"],
)
def test_a_word_that_only_folds_to_an_answer_word_is_not_an_answer(heard):
    # Whisper heard "cô" and wrote its marks: it is not "có" (yes). Seen on the tuning
    # speech: "không" spoken by espeak-ng came back as "cô" and was filed as a yes (0.92).
    found = extract_yes_no(heard)
    assert found is None or found.confidence < ACCEPT_CONFIDENCE, found


def test_an_answer_typed_without_marks_counts_but_less_surely():
    unmarked, marked = extract_yes_no("khong"), extract_yes_no("không")
    assert unmarked is not None and marked is not None
    assert unmarked.value == marked.value == "no"
    assert ACCEPT_CONFIDENCE <= unmarked.confidence < marked.confidence
    assert extract_yes_no("dung roi").value == "yes"


def test_firm_answers_stay_firm():
    assert accepted(extract_yes_no("chắc chắn rồi")) == "yes"
    assert accepted(extract_yes_no("dạ đúng rồi")) == "yes"
    assert accepted(extract_yes_no("không, sai rồi")) == "no"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("tôi muốn phản ánh khu tôi bị mất điện", "other"),
        ("cho hỏi thủ tục làm giấy tờ", "other"),
        ("tôi muốn hỏi một chuyện không có trong mấy mục đó", "other"),
        ("nhà hết tiền mua gạo rồi", "essentials"),
        ("cháu nhỏ ở nhà một mình không ai trông", "vulnerable"),
    ],
)
def test_case_types_past_the_category_words(text, value):
    assert accepted(extract_case_type(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("cho bà nội", "family"), ("cho thằng con", "family"), ("cho nhà bên", "neighbour")],
)
def test_subjects_named_by_kinship_words(text, value):
    assert accepted(extract_subject(text)) == value


@given(st.text(max_size=80))
def test_self_correction_split_never_fails_and_keeps_the_words(text):
    found = split_self_correction(text)
    if found is not None:
        before, after = found
        assert len(before) + len(after) < len(text) + 1


_DIGIT_WORDS = (
    *("không", "một", "hai", "ba", "bốn", "năm"),
    *("sáu", "bảy", "tám", "chín", "à", "nhầm"),
)


@given(st.lists(st.sampled_from(_DIGIT_WORDS), max_size=16))
def test_an_accepted_phone_number_is_always_a_valid_length(words):
    value = accepted(extract_phone(" ".join(words)))
    assert value is None or len(value) in (10, 11)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("bấm một", "yes"),
        ("Dạ hai.", "no"),  # the prompt's keys said aloud
        ("Sai số điện thoại rồi em.", "no"),  # "rồi" ends a no as well as a yes
        ("Trật rồi em ơi.", "no"),
        ("Không, chị ghi lộn rồi.", "no"),
        ("Sai… à không, đúng, đúng rồi.", "yes"),  # what the caller settled on
        ("Đúng... à không, sai, số điện thoại sai một số.", "no"),
        ("rồi", "yes"),
    ],
)
def test_yes_no_past_the_answer_words(text, value):
    assert accepted(extract_yes_no(text)) == value


def test_a_caller_who_has_not_understood_the_readback_has_not_answered():
    assert accepted(extract_yes_no("Em đọc nhanh quá chị nghe không kịp.")) is None


@pytest.mark.parametrize(
    "text",
    ["Để tôi nghĩ đã.", "Hả? Chị nói gì?", "alo alo, nghe không?", "tui cũng hổng biết nữa"],
)
def test_thinking_or_checking_the_line_is_no_case_type_and_no_subject(text):
    assert accepted(extract_case_type(text)) is None
    assert accepted(extract_subject(text)) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Sáu người, hai vợ chồng với bốn đứa nhỏ.", "6"),  # the stated total, explained
        ("ờ... để coi, tui, ông xã, hai đứa con... bốn người.", "4"),
        ("tui với ba má, thêm đứa em gái nữa là bốn", "4"),
        ("Tui với má tui thôi.", "2"),  # named one by one
        ("Ba mẹ con em.", "3"),
        ("Hai mẹ con.", "2"),
        ("Một thôi ạ.", "1"),
        ("Mười bốn người, à không, mười lăm, tính luôn thằng út.", "15"),
        ("hai vợ chồng với ba đứa nhỏ", "5"),
        ("hai người lớn ba đứa nhỏ", "5"),  # "người lớn" is a part, not the total
    ],
)
def test_household_counts_as_callers_give_them(text, value):
    assert accepted(extract_household(text)) == value


def test_five_or_six_people_is_a_guess_not_a_count():
    assert accepted(extract_household("Chắc cỡ năm sáu người gì đó.")) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("không chín bốn, năm năm năm, tám tám tám chín, à lộn, tám tám tám tám", "0945558888"),
        (
            "Dạ, không chín không, một trăm hai mươi ba... hổng phải, hai trăm mười ba, "
            "bốn bốn năm năm",
            "0902134455",
        ),
    ],
)
def test_a_corrected_group_replaces_the_group_the_caller_paused_before(text, value):
    found = extract_phone(text)
    assert found is not None and found.value == value  # at 0.6: confirmed at readback


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Cho tui.", "self"),
        ("Tự tui xin.", "self"),
        ("Cho tía tui, ổng bệnh mấy tháng nay.", "family"),
        ("Cho dì tui.", "family"),
        ("Cho bạn tui.", "other"),
        ("Gia đình... à không, cho mình tôi thôi, tôi ở một mình.", "self"),
    ],
)
def test_subjects_in_southern_words_and_corrected(text, value):
    assert accepted(extract_subject(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Quận tám, à không, quận sáu.", "Quận 6"),
        ("Huyện Nhà Bè, ý lộn, huyện Bình Chánh.", "Huyện Bình Chánh"),
    ],
)
def test_a_place_corrected_mid_answer_is_the_new_one(text, value):
    assert accepted(extract_place(text)) == value


def test_a_menu_number_said_to_someone_is_still_the_menu_number():
    assert accepted(extract_case_type("Số một á chị.")) == "essentials"
