"""The place question on the keypad: a code for every district-level unit of the 2021 scheme
(the one most callers still use, and what routing needs), so a caller the recogniser fails
can still give any place, not only Quận 1–12.

Numbered districts keep their own number (the old Quận 2 and Quận 9 lead to TP. Thủ Đức, as
they do when spoken); the named districts, TP. Thủ Đức and the five huyện follow in the
order the keypad prompt reads them (``ask_place_keypad`` in prompts/texts.toml, which a test
checks against this table). The 168 units of 2025 are too many for a keypad list: a caller
who knows only the new ward gives the old district here and the ward in the address.
"""

from __future__ import annotations

from callbot.nlu.extraction import Extraction
from callbot.nlu.place import extract_place

NAMED_CODES: dict[int, str] = {
    13: "Gò Vấp",
    14: "Bình Thạnh",
    15: "Tân Bình",
    16: "Tân Phú",
    17: "Phú Nhuận",
    18: "Bình Tân",
    19: "Thủ Đức",
    20: "Củ Chi",
    21: "Hóc Môn",
    22: "Bình Chánh",
    23: "Nhà Bè",
    24: "Cần Giờ",
}
_SPOKEN = {
    **{code: f"quận {name.lower()}" for code, name in NAMED_CODES.items() if code <= 18},
    19: "thành phố thủ đức",
    **{code: f"huyện {name.lower()}" for code, name in NAMED_CODES.items() if code >= 20},
}


def place_from_keys(keys: str) -> Extraction | None:
    """``keys`` as the keypad collector gives them ("14#", "3"): the unit, or None."""
    number = keys.rstrip("#")
    if not (number.isascii() and number.isdigit()) or len(number) > 2:
        return None
    code = int(number)
    if 1 <= code <= 12:
        return extract_place(f"quận {code}")
    spoken = _SPOKEN.get(code)
    return extract_place(spoken) if spoken else None
