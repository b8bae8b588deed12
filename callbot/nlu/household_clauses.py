"""Parts of a household answer that add no one: the people who live elsewhere, the caller
counting aloud, and the household said again as a group.

"Hai ông bà, còn con cái đi làm ăn xa" is two: the children are named only to say they
are not there. "Ba... bốn... năm... năm người" is five: the caller counted up to it.
"Tôi với bà nhà tôi, hai ông bà già thôi" is two: the list, then the same two as a pair.
household.py reads the count; these find what it must not add.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from callbot.nlu.extraction import Extraction
from callbot.nlu.household_people import (
    GROUP_KIN,
    GROUP_WORDS,
    JOINERS,
    MAX_PEOPLE,
    PERSON_NOUNS,
    PRONOUNS,
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


# A pause as a recogniser writes one, with the hesitation sounds that may fill it.
_PAUSE = re.compile(r"(?:\s*(?:\.\.\.|…|[,.;])\s*(?:(?:ờ|ơ|à|ừm|ưm|o|a|um)\b\s*)?)+", re.IGNORECASE)
_RESTATED_MAX = 4  # the most words a caller says again after faltering


def without_false_starts(text: str) -> str:
    """The answer with each false start dropped: words said just before a pause and said
    again right after it, where the caller goes on ("hai... hai vợ chồng", "mười bốn...
    mười bốn người"), are said once, so a number said twice is never read as two numbers,
    nor stitched into one."""
    pieces = _PAUSE.split(text)
    pauses = _PAUSE.findall(text)
    for k in range(len(pieces) - 1):
        said = list(re.finditer(r"\w+", pieces[k]))
        again = [fold(w) for w in re.findall(r"\w+", pieces[k + 1])]
        # Only a fragment the caller goes on from ("mười bốn... mười bốn người"), or a bare
        # number said twice ("mười bốn... mười bốn"): "… sáu người... à, sáu người" confirms
        # a count after a range, which is read as such.
        bare = all(w in NUMBER_WORDS for w in again)
        for n in range(min(_RESTATED_MAX, len(said), len(again) - (not bare)), 0, -1):
            # After another number ("khoảng năm, sáu... sáu người") it may end a range.
            counted = any(w in NUMBER_WORDS for w in again[:n]) and _numbers_in(
                [*pieces[:k], pieces[k][: said[-n].start()]]
            )
            if [fold(m.group().lower()) for m in said[-n:]] == again[:n] and not counted:
                pieces[k] = pieces[k][: said[-n].start()].rstrip()
                break
    out = pieces[0]
    for pause, piece in zip(pauses, pieces[1:], strict=True):
        out = f"{out}{pause}{piece}" if out.strip() else piece
    return out


def _numbers_in(pieces: list[str]) -> bool:
    return any(fold(w.lower()) in NUMBER_WORDS for p in pieces for w in re.findall(r"\w+", p))


# "Ngoài tôi ra còn ba người nữa": the people counted are besides those named ("ngoài …
# ra", "trừ tôi ra"), so those named are part of the household too. "Trừ" (except) names
# the caller so; others it may leave out ("trừ hai đứa con ra còn ba người" is 3).
_BESIDES = MarkedPattern.of(
    re.compile(
        r"\b(?P<how>ngoài|trừ)\s+(?P<who>\w+(?:\s+\w+){0,3}?)\s+ra\b(?P<rest>.*)$", re.IGNORECASE
    )
)

_TOTAL_SAID = ("tong cong", "tat ca", "vi chi", "ke ca", "tinh luon", "tinh ca")


def besides(text: str, count: Callable[[str], Extraction | None]) -> Extraction | None:
    """The people named after "ngoài"/"trừ" and those counted after them, or None; ``count``
    reads a part of the answer ("hai vợ chồng tôi" two, the rest "còn ba người nữa")."""
    found = _BESIDES.for_text(text).search(text)
    if found is None or any(cue in fold(found.group("rest")) for cue in _TOTAL_SAID):
        return None  # (a total said after it counts everyone: "…, tổng cộng là bốn")
    who = [fold(t) for t in normalise(found.group("who")).split()]
    named = count(found.group("who"))
    if len(who) == 1 and (who[0] in PRONOUNS or who[0] in ("con", "chau")):  # the caller
        named = Extraction("1", 0.9, who[0])
    elif fold(found.group("how").lower()) == "tru":
        return None
    others = count(found.group("rest"))
    if named is None or others is None or min(named.confidence, others.confidence) < 0.5:
        return None
    total = int(named.value) + int(others.value)
    if total > MAX_PEOPLE:
        return None
    return Extraction(str(total), 0.8, normalise(text))


# "Tôi bảy mươi tuổi", "đứa nhỏ năm tuổi": a number before "tuổi" is an age, no count.
_AGE = MarkedPattern.of(
    re.compile(
        r"\b(?:(?:"
        + "|".join(sorted(NUMBER_SPELLINGS, key=len, reverse=True))
        + r"|\d+)\s+)+tuổi\b",
        re.IGNORECASE,
    )
)


def without_ages(text: str) -> str:
    """The answer with every age taken out ("tôi bảy mươi tuổi, …" → "tôi, …")."""
    return _AGE.for_text(text).sub(" ", text)
