"""What the words around the places named say about them: a place named only as a
neighbour ("sát ranh Thủ Đức"), or two places offered as alternatives ("quận 3 hay quận
10 gì đó"). place.py drops the first and, for the second, understands nothing: the caller
lives in neither place they were sure of, and a guess between two is no answer.
"""

from __future__ import annotations

from callbot.nlu.numbers import parse_number_at

# Folded words that put what follows next to the caller, not around them: "gần quận 1",
# "sát ranh Thủ Đức", "giáp Bình Chánh", "kế bên Cần Giờ", "cạnh quận 8". ("bên" alone is
# no such word: "tui ở bên quận 7" is over in Quận 7.)
_NEAR = frozenset({"gan", "sat", "giap", "canh", "ranh", "cach", "ke"})
# "kế bên", "sát bên", "gần bên", "cạnh bên" ("bên cạnh" ends on "cạnh").
_NEAR_BEFORE_BEN = frozenset({"ke", "sat", "gan", "canh"})
# Folded words that offer what follows as another possibility: "hay", "hoặc", "hay là",
# "hoặc là", "không thì" / "hổng thì" (Southern "or else"), with "ở" ("hay ở quận 10").
# Only right before the other place: "quận 3, hay đi chợ Bến Thành" is "often", not "or".
_OR = frozenset({"hay", "hoac"})
_OR_PAIRS = frozenset({("khong", "thi"), ("hong", "thi")})
_AFTER_OR = frozenset({"la", "o"})


def only_near(fol: list[str], start: int) -> bool:
    """Whether the place named at folded token ``start`` is said to be next to the caller
    ("gần", "sát ranh", "kế bên" just before it), not where they are."""
    if start == 0:
        return False
    before = fol[start - 1]
    if before in _NEAR:
        return True
    return before == "ben" and start > 1 and fol[start - 2] in _NEAR_BEFORE_BEN


def _offers_another(words: list[str]) -> bool:
    """Whether ``words`` (said between two places) are an "or" and nothing else."""
    if words[:1] and words[0] in _OR:
        rest = words[1:]
    elif tuple(words[:2]) in _OR_PAIRS:
        rest = words[2:]
    else:
        return False
    return len(rest) <= 2 and all(w in _AFTER_OR for w in rest)


def alternatives_between(fol: list[str], first_end: int, second_start: int) -> bool:
    """Whether the words between two places named offer the second as another possibility
    ("quận 3 hay quận 10", "Gò Vấp hoặc là Phú Nhuận")."""
    return _offers_another(fol[first_end:second_start])


def number_offered_after(fol: list[str], end: int) -> bool:
    """Whether a numbered district is followed by "hay"/"hoặc" and another number ("quận 3
    hay 10 gì đó"): the number is left undecided."""
    return any(
        end + gap < len(fol)
        and _offers_another(fol[end : end + gap])
        and parse_number_at(fol, end + gap) is not None
        for gap in range(1, 4)
    )
