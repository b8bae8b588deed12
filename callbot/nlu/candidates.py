"""What each closed question expects, as the texts a caller says: the candidates a
constrained recogniser scores (``WhisperEngine.score``), each tied to the slot value it means.

Several surface forms per value ("quận ba", "quận 3"): the recogniser scores each and the value
takes its best form. Written from the questions' wording and how callers answer them, not
from any evaluation set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callbot.nlu.numbers import number_to_words

YES_NO: dict[str, tuple[str, ...]] = {
    "yes": ("đúng rồi", "đúng", "vâng", "dạ đúng", "phải", "có", "ừ đúng rồi", "chính xác"),
    "no": ("sai rồi", "sai", "không", "không đúng", "không phải", "chưa đúng", "sai rồi không"),
}

CASE_TYPE: dict[str, tuple[str, ...]] = {
    "essentials": ("lương thực", "thực phẩm", "gạo", "đồ ăn", "lương thực thực phẩm"),
    "support_policy": ("chính sách hỗ trợ", "tiền hỗ trợ", "trợ cấp", "chưa nhận được hỗ trợ"),
    "vulnerable": ("người già", "trẻ em", "người khuyết tật", "bệnh nặng", "người già neo đơn"),
    "other": ("việc khác", "khác", "chuyện khác"),
}

SUBJECT: dict[str, tuple[str, ...]] = {
    "self": ("bản thân", "cho tôi", "cho bản thân"),
    "family": ("gia đình", "cho gia đình", "nhà tôi"),
    "neighbour": ("hàng xóm", "cho hàng xóm"),
    "other": ("người khác", "cho người khác"),
}

_NUMBERED = (1, 3, 4, 5, 6, 7, 8, 10, 11, 12)
_NAMED_QUAN = ("Gò Vấp", "Bình Thạnh", "Tân Bình", "Tân Phú", "Phú Nhuận", "Bình Tân")
_HUYEN = ("Củ Chi", "Hóc Môn", "Bình Chánh", "Nhà Bè", "Cần Giờ")


def _districts() -> dict[str, tuple[str, ...]]:
    """The 2021 units (what most callers still say), canonical name → spoken forms."""
    found: dict[str, tuple[str, ...]] = {}
    for n in _NUMBERED:
        found[f"Quận {n}"] = (f"quận {number_to_words(n)}", f"quận {n}")
    for name in _NAMED_QUAN:
        found[f"Quận {name}"] = (f"quận {name.lower()}", name.lower())
    for name in _HUYEN:
        found[f"Huyện {name}"] = (f"huyện {name.lower()}", name.lower())
    found["Thành phố Thủ Đức"] = ("thủ đức", "thành phố thủ đức", "quận hai", "quận chín")
    return found


DISTRICT = _districts()

HOUSEHOLD: dict[str, tuple[str, ...]] = {
    str(n): (f"{number_to_words(n)} người", number_to_words(n)) for n in range(1, 16)
}

BY_SLOT: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "yes_no": YES_NO,
    "case_type": CASE_TYPE,
    "subject": SUBJECT,
    "place": DISTRICT,
    "household": HOUSEHOLD,
}


def surface_forms(choices: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """Flattened (texts, values): what to score, and the value each text stands for."""
    texts, values = [], []
    for value, forms in choices.items():
        for form in forms:
            texts.append(form)
            values.append(value)
    return texts, values


@dataclass(frozen=True)
class Choice:
    value: str | None  # None: no candidate explains the answer well enough
    score: float  # the best value's score (nats of mutual information)
    margin: float  # how far ahead of the next value


def choose(scores: Sequence[float], values: Sequence[str], *, min_score: float,
           min_margin: float) -> Choice:  # fmt: skip
    """The value whose best form scored highest, if it is both high and clearly ahead."""
    best: dict[str, float] = {}
    for score, value in zip(scores, values, strict=True):
        best[value] = max(score, best.get(value, float("-inf")))
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return Choice(None, 0.0, 0.0)
    top_value, top = ranked[0]
    margin = top - ranked[1][1] if len(ranked) > 1 else top
    if top < min_score or margin < min_margin:
        return Choice(None, top, margin)
    return Choice(top_value, top, margin)
