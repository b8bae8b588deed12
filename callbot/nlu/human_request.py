"""A caller asking for a person, at any point of the call ("gặp tổng đài viên", keypad 0)."""

from __future__ import annotations

from callbot.nlu.text import fold, normalise

KEYPAD_HUMAN = "0"
# Folded nouns that can only mean a human operator in a call to the hotline.
_OPERATORS = (
    "tong dai vien",
    "nguoi that",
    "dien thoai vien",
    "tu van vien",
    "operator",
    "tong dai",
    "con nguoi",
    "nguoi nghe may",
    "nguoi truc may",
    "nguoi truc tong dai",
)
# Nouns that are also said about other people ("nhân viên y tế đến nhà", "cán bộ phường").
_PEOPLE = ("nhan vien", "can bo", "nguoi truc", "nguoi tiep nhan", "ai do", "nguoi")
# Requests to be connected; "cho tôi"/"muốn" only count before an operator noun.
_CONNECT = (
    "gap",
    "noi chuyen",
    "noi voi",
    "chuyen may",
    "chuyen cho",
    "chuyen sang",
    "chuyen qua",
    "ket noi",
    "goi",
)
_WANT = ("cho toi", "cho em", "cho minh", "muon", "can", "xin", "lam on")
# Refusing the machine is asking for a person too.
_NOT_MACHINE = (
    "khong muon noi chuyen voi may",
    "khong noi chuyen voi may",
    "khong muon noi voi may",
    "khong phai may",
    "khong muon may",
    "khong noi voi may",
)
_NEGATIONS = ("khong can", "khong muon", "chua can", "khoi", "khong phai")
_MAX_EXTRA_WORDS = 2  # "dạ, tổng đài viên ạ" is a request by itself


def _find(padded: str, phrases: tuple[str, ...]) -> int:
    positions = [padded.find(f" {p} ") for p in phrases if f" {p} " in padded]
    return min(positions, default=-1)


def wants_human(text: str) -> bool:
    """True when the caller asks to speak to a person (or pressed 0)."""
    if text.strip() == KEYPAD_HUMAN:
        return True
    folded = fold(normalise(text))
    padded = f" {folded} "
    if _find(padded, _NOT_MACHINE) != -1:
        return True
    for nouns, asks in ((_OPERATORS, _CONNECT + _WANT), (_PEOPLE, _CONNECT)):
        at = _find(padded, nouns)
        if at == -1:
            continue
        before = padded[: at + 1]
        if _find(before, _NEGATIONS) != -1:
            return False
        if _find(before, asks) != -1:
            return True
        noun = next(n for n in nouns if padded.startswith(f" {n} ", at))
        short_answer = len(folded.split()) - len(noun.split()) <= _MAX_EXTRA_WORDS
        if short_answer and (nouns is _OPERATORS or noun == "nhan vien"):
            return True
    return False
