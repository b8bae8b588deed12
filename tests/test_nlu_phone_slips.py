"""Digit slips that fold onto another digit, so they are tested with their tone marks only:
typed plain, "bả" is "ba" (3), and the generalisation files also check answers typed plain."""

import pytest

from callbot.nlu.phone import extract_phone


def _value(text: str) -> str | None:
    found = extract_phone(text)
    return found.value if found is not None and found.confidence >= 0.5 else None


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # "bả" between digits is "bảy" with its glide lost (the tone is bảy's).
        ("không chín bả một hai ba bốn năm sáu tám", "0971234568"),
        ("không ba năm, bả tám, một hai, ba bốn năm", "0357812345"),
        ("không tám sáu bốn bả hai hai một một không", "0864722110"),
        # "bả" the pronoun, before or after the number, is no digit.
        ("số của bả là không chín một hai ba bốn năm sáu bảy tám", "0912345678"),
        ("không chín một hai ba bốn năm sáu bảy tám của bả đó", "0912345678"),
        # "ba" written plain between digits stays three.
        ("không tám ba hai hai ba ba bốn bốn năm", "0832233445"),
    ],
)
def test_slip_read_as_the_digit_its_tone_says(text, want):
    assert _value(text) == want
