"""Parts of a household answer that add no one: the people who live elsewhere, the caller
counting aloud, and the household said again as a group.

"Hai ông bà, còn con cái đi làm ăn xa" is two: the children are named only to say they
are not there. "Ba... bốn... năm... năm người" is five: the caller counted up to it.
"Tôi với bà nhà tôi, hai ông bà già thôi" is two: the list, then the same two as a pair.
household.py reads the count; these find what it must not add.
"""

from __future__ import annotations

import re
from itertools import pairwise

from callbot.nlu.extraction import Extraction
from callbot.nlu.household_people import (
    GROUP_KIN,
    GROUP_WORDS,
    JOINERS,
    MAX_PEOPLE,
    PERSON_NOUNS,
    people_listed,
)
from callbot.nlu.numbers import NUMBER_SPELLINGS, NUMBER_WORDS, find_numbers
from callbot.nlu.text import MarkedPattern, fold, normalise, typed_plain

# A clause saying its people live elsewhere, moved out or died. The clause runs from a
# pause or "còn" (here "as for", not "still") to the next pause.
_AWAY = MarkedPattern.of(
    re.compile(
        r"\b(?:đi\s+làm(?:\s+ăn)?\s+(?:xa|ở|bên|trên|ngoài)|đi\s+(?:làm\s+ăn|xa|học\s+xa|"
        r"nước\s+ngoài|xuất\s+khẩu|lính|tù)|lấy\s+(?:chồng|vợ)|ra\s+(?:ở\s+)?riêng|ở\s+riêng|"
        r"ở\s+(?:quê|chỗ\s+khác|nơi\s+khác)|về\s+quê|mất\s+(?:rồi|lâu|hồi|năm)|qua\s+đời|"
        r"không\s+(?:ở|sống)\s+(?:chung|đây|với))",
        re.IGNORECASE,
    )
)
_CLAUSE = MarkedPattern.of(re.compile(r"(?:\.\.\.|…|[,.;]|\scòn\s)", re.IGNORECASE))


def without_people_away(text: str) -> str:
    """The answer less every clause whose people live elsewhere ("…, còn con cái đi làm
    ăn xa"); the whole answer when that would leave nothing, or no such clause is there."""
    away = _AWAY.for_text(text)
    starts = [0, *(m.start() for m in _CLAUSE.for_text(text).finditer(text)), len(text)]
    kept, dropped = [], False
    for a, b in pairwise(starts):
        if away.search(text[a:b]):
            dropped = True
        else:
            kept.append(text[a:b])
    rest = "".join(kept).strip(" ,.;…")
    if not dropped or not rest:
        return text
    return rest


def counted_aloud(fol: list[str]) -> Extraction | None:
    """ "ba... bốn... năm... năm người", "một, hai, ba, bốn... bốn người": numbers counted
    up one by one, then the last said again as the count (or, from one, the last reached).
    Two numbers in a row ("bốn năm người") stay a guess, not a count."""
    numbers = [n for n in find_numbers(fol) if 0 < n.value <= MAX_PEOPLE]
    if len(numbers) < 3:
        return None
    run = 1
    while run < len(numbers) and numbers[run].value == numbers[run - 1].value + 1:
        run += 1
    last = numbers[run - 1].value
    repeated = run + 1 == len(numbers) and numbers[run].value == last
    from_one = run == len(numbers) and numbers[0].value == 1
    if run >= 3 and (repeated or from_one):
        return Extraction(str(last), 0.8, " ".join(fol[numbers[0].start : numbers[-1].end + 1]))
    return None


# "hai ông bà", "hai mẹ con", "ba mẹ con", "hai bà cháu", "hai vợ chồng": a number before a
# pair or a group names everyone in it.
_PAIR_WORDS = (("vo", "chong"), ("ong", "ba"), ("bo", "me"), ("ba", "me"), ("cha", "me"))


def restated_as_group(text: str) -> Extraction | None:
    """The people listed, then the same household said again as one numbered pair or group
    at the end ("em với má em, hai mẹ con thôi"): the group's number is the count, where
    the list before it names no more people than that and no number of its own."""
    parts = re.split(r"(?:\.\.\.|…|[,.;])", text)
    parts = [p for p in parts if p.strip()]
    if len(parts) < 2:
        return None
    head_said = normalise(" ".join(parts[:-1])).split()
    head = [fold(t) for t in head_said]
    last = [fold(t) for t in normalise(parts[-1]).split()]
    numbers = find_numbers(last)
    if _says_a_number(head_said) or not numbers or numbers[0].start != 0:
        return None
    n, words = numbers[0].value, last[numbers[0].end :]
    group = words[:2] in [list(p) for p in _PAIR_WORDS] or (
        len(words) >= 2 and words[0] in GROUP_WORDS and words[1] in GROUP_KIN
    )
    # What follows the group says how they live ("nương nhau mà sống"), adds no one.
    tail = words[2:]
    if not group or not 2 <= n <= MAX_PEOPLE or len(tail) > 5 or set(tail) & JOINERS:
        return None
    if find_numbers(tail):
        return None
    if people_listed(head, []) > n:
        return None
    return Extraction(str(n), 0.8, " ".join(last[: numbers[0].end + 2]))


def _says_a_number(said: list[str]) -> bool:
    """Whether words say a number. With marks, a number word as it is spelt ("bà" is a
    person); "ba" is three only before people counted ("ba đứa nhỏ", not "ba tui")."""
    plain = typed_plain(" ".join(said))
    for i, t in enumerate(said):
        if t == "ba":
            if fold(" ".join(said[i + 1 : i + 2])) in PERSON_NOUNS:
                return True
        elif t in (NUMBER_WORDS if plain else NUMBER_SPELLINGS):
            return True
    return False
