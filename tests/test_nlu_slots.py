"""Edge cases of the slot extractors that the corpus does not pin down one by one."""

from __future__ import annotations

import pytest

from callbot.nlu import (
    CASE_TYPES,
    SUBJECTS,
    case_type_from_key,
    check_phone,
    digits_from_keypad,
    extract_address,
    extract_case_type,
    extract_correction,
    extract_household,
    extract_name,
    extract_phone,
    extract_subject,
    extract_yes_no,
    subject_from_key,
    wants_human,
    yes_no_from_key,
)
from callbot.nlu.extraction import Extraction

# ---- phone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("không chín không ba trăm bốn mươi lăm sáu bảy tám chín", "0903456789"),
        ("090 345 6789", "0903456789"),
        ("0903.456.789", "0903456789"),
        ("0, 9, 0, 3, 4, 5, 6, 7, 8, 9", "0903456789"),
        ("không chín tám bảy trăm linh năm ba trăm lẻ một hai", "0987053012"),
        ("không ba hai bốn lăm sáu bảy tám chín một", "0324567891"),
        ("không tám tư một hai ba bốn năm sáu bảy", "0841234567"),
        ("cộng tám tư chín không ba bốn năm sáu bảy tám chín", "0903456789"),
        ("không hai tám ba tám hai chín một hai ba bốn", "02838291234"),
        ("không, số tôi là không chín không ba bốn năm sáu bảy tám chín", "0903456789"),
    ],
)
def test_phone_forms(said: str, digits: str) -> None:
    result = extract_phone(said)
    assert result is not None and result.value == digits and result.confidence >= 0.5


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("không chín không ba bốn", "too_short"),
        ("một chín không không một hai ba bốn năm sáu", "bad_prefix"),
        ("không một sáu tám ba bốn năm sáu bảy tám chín", "bad_prefix"),
    ],
)
def test_invalid_phone_has_low_confidence_and_reason(said: str, reason: str) -> None:
    result = extract_phone(said)
    assert result is not None and result.confidence < 0.3 and result.reason == reason


def test_phone_nothing_said() -> None:
    assert extract_phone("tôi không nhớ") is None


def test_check_phone() -> None:
    assert check_phone("0903456789").kind == "mobile"
    assert check_phone("02838291234").kind == "landline"
    assert check_phone("0203456789").reason == "too_short"
    assert check_phone("0603456789").reason == "bad_prefix"


def test_keypad_digits() -> None:
    assert digits_from_keypad("0903456789#") == Extraction("0903456789", 1.0, "0903456789#")
    assert digits_from_keypad("12*0903456789#").value == "0903456789"  # '*' restarts
    bad = digits_from_keypad("0903#")
    assert bad is not None and bad.reason == "too_short"
    assert digits_from_keypad("#") is None


# ---- yes / no and "không" ------------------------------------------------------------------


def test_khong_is_no_when_yes_no_expected() -> None:
    result = extract_yes_no("không")
    assert result is not None and result.value == "no"


def test_khong_is_a_digit_when_digits_expected() -> None:
    assert extract_yes_no("không", expect="digits") is None
    assert extract_yes_no("không chín không", expect="digits") is None
    phone = extract_phone("không chín không ba bốn năm sáu bảy tám chín")
    assert phone is not None and phone.value.startswith("0")


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("không sai", "yes"),
        ("dạ không, sai rồi", "no"),
        ("Không. Sai số điện thoại.", "no"),
        ("dạ phải", "yes"),
        ("không phải", "no"),
        ("chưa đúng", "no"),
        ("ừ", "yes"),
        ("hông", "no"),
    ],
)
def test_yes_no_negation(said: str, answer: str) -> None:
    result = extract_yes_no(said)
    assert result is not None and result.value == answer


def test_yes_no_keys() -> None:
    assert (yes_no_from_key("1"), yes_no_from_key("2"), yes_no_from_key("5")) == ("yes", "no", None)


# ---- menus ---------------------------------------------------------------------------------


def test_case_type_keys() -> None:
    assert [case_type_from_key(k) for k in "1234"] == list(CASE_TYPES)
    assert CASE_TYPES == ("essentials", "support_policy", "vulnerable", "other")
    assert case_type_from_key("5") is None
    assert extract_case_type("số hai").value == "support_policy"
    assert extract_case_type("dạ") is None


def test_subject_keys() -> None:
    assert [subject_from_key(k) for k in "1234"] == list(SUBJECTS)
    assert extract_subject("hàng xóm của tôi").value == "neighbour"  # not "self"


# ---- household, name, address ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "count"),
    [
        ("nhà có năm người", "5"),
        ("năm nay tôi bảy mươi tuổi, nhà có hai người", "2"),
        ("hai vợ chồng với ba đứa con", "5"),
        ("tôi sống một mình", "1"),
        ("Nhà có 4 người.", "4"),
        ("bốn", "4"),
    ],
)
def test_household(said: str, count: str) -> None:
    result = extract_household(said)
    assert result is not None and result.value == count


def test_household_ignores_years_and_money() -> None:
    assert extract_household("năm nay khó khăn quá") is None
    assert extract_household("tôi bảy mươi tuổi") is None


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("tên là nguyễn văn nam", "Nguyễn Văn Nam"),
        ("tên tôi là trần thị hồng, ở quận ba", "Trần Thị Hồng"),
        ("tôi là chị lan ạ", "Lan"),
        ("dạ Nguyễn Thị Mai", "Nguyễn Thị Mai"),
    ],
)
def test_name(said: str, name: str) -> None:
    result = extract_name(said)
    assert result is not None and result.value == name


def test_name_absent() -> None:
    assert extract_name("tôi cần hỗ trợ gạo") is None


@pytest.mark.parametrize(
    ("said", "address"),
    [
        ("số 12 đường nguyễn trãi", "12 Nguyễn Trãi"),
        ("mười hai nguyễn trãi", "12 Nguyễn Trãi"),
        ("số 7 hẻm 12 đường lê văn sỹ phường 13 quận 3", "7 hẻm 12 Lê Văn Sỹ"),
        ("mười hai trên ba đường ba tháng hai", "12/3 3 Tháng 2"),
        ("ngõ 5 phố đội cấn", "ngõ 5 Đội Cấn"),
        ("số 25 đường số 7", "25 Đường số 7"),
    ],
)
def test_address(said: str, address: str) -> None:
    result = extract_address(said)
    assert result is not None and result.value == address


def test_address_needs_a_street() -> None:
    assert extract_address("tôi ở quận 3") is None


# ---- human request and correction -------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        ("gặp tổng đài viên", True),
        ("cho tôi nói chuyện với người thật", True),
        ("nhân viên", True),
        ("0", True),
        ("tôi không muốn nói chuyện với máy", True),
        ("không cần gặp nhân viên", False),
        ("nhân viên y tế tới nhà rồi", False),
        ("tôi cần hỗ trợ cho năm người", False),
    ],
)
def test_wants_human(said: str, wanted: bool) -> None:
    assert wants_human(said) is wanted


@pytest.mark.parametrize(
    ("said", "slot"),
    [
        ("sai địa chỉ", "address"),
        ("sai số điện thoại", "phone"),
        ("sai tên", "name"),
        ("sai quận", "place"),
        ("số người không đúng", "household"),
    ],
)
def test_correction(said: str, slot: str) -> None:
    result = extract_correction(said)
    assert result is not None and result.value == slot and result.confidence >= 0.8


def test_a_no_whose_comma_was_lost_is_unclear_not_yes() -> None:
    """Whisper drops the comma of "Không, sai rồi.": the cues then disagree, and an answer
    that may be a "no" must never confirm a ticket."""
    for said in ("không sai rồi", "không không sai đâu"):
        result = extract_yes_no(said)
        assert result is not None and result.confidence < 0.5, (said, result)
    assert extract_yes_no("Không, sai rồi.").value == "no"
    assert extract_yes_no("sai số điện thoại rồi").value == "no"
