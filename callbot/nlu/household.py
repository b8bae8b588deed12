"""How many people live in the household that needs help.

The people a caller lists one by one, and what they add up to, are household_people.py.
"""

from __future__ import annotations

import re
from itertools import pairwise

from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import withdrawn
from callbot.nlu.household_clauses import (
    besides,
    counted_aloud,
    restated_as_group,
    without_ages,
    without_false_starts,
    without_people_away,
)
from callbot.nlu.household_people import (
    FIXED_COUNTS,
    GROUP_KIN,
    GROUP_WORDS,
    JOINERS,
    MAX_PEOPLE,
    PERSON_NOUNS,
    PRONOUNS,
    living_with,
    names_in,
    others_joined,
    people_listed,
)
from callbot.nlu.numbers import NumberPhrase, counted_slips, find_numbers
from callbot.nlu.text import (
    MarkedPattern,
    fold,
    normalise,
    split_self_correction,
    typed_plain,
    word_set,
)

# Words that make "N người" a part of the household, not the whole ("hai người lớn").
_PART_OF = word_set("lon gia nho tre")
# A total said after a list: "… thêm đứa em gái nữa là bốn", "tổng cộng năm".
_TOTAL_CUES = ("la", "tong cong", "tat ca", "tat ca la", "tong cong la", "vi chi")
# People named one by one, joined by "với"/"và": "tui với má tui" is two.
_PERSON_WORDS = word_set(
    "toi tui em con minh ma me ba bo cha tia vo chong ong xa ba anh chi ngoai noi co di "
    "chu bac cau mo thim chau"
)
# Words that may surround a bare count ("dạ, năm ạ", "tất cả là sáu", "còn chín nghen").
_AROUND_BARE = word_set("da vang a o u tat ca la co nha nghen gom khoang chung tong cong thi thoi")
# "mấy", "vài", "các", "tụi": people said without their number (with marks; typed plain,
# "tui" is also "tôi", so only the unambiguous ones count).
_UNCOUNTED = frozenset({"mấy", "vài", "các", "tụi"})
_UNCOUNTED_PLAIN = frozenset({"vai", "cac"})


def _uncounted_plain(fol: list[str]) -> bool:
    """Typed plain: "vai", "cac", "may dua" (mấy đứa), "tui nho" (tụi nhỏ), "tui no"."""
    return bool(_UNCOUNTED_PLAIN & set(fol)) or any(
        (t == "may" and n in PERSON_NOUNS) or (t == "tui" and n in ("nho", "no"))
        for t, n in pairwise([*fol, ""])
    )


# Words as a Southern voice says them and a recogniser writes them: "ngừi" (người), "dợ"
# (vợ: Southern v sounds as d/j).
_SPOKEN_FORMS = {"ngừi": "người", "ngui": "nguoi", "dợ": "vợ", "zợ": "vợ"}
_SPOKEN_WORD = re.compile(r"\b(?:" + "|".join(_SPOKEN_FORMS) + r")\b", re.IGNORECASE)
# "Để coi, tui, vợ, ba đứa con... năm": after the last pause, the number the caller arrives
# at once the people are listed.
_LAST_PAUSE = re.compile(r"(?:\.\.\.|…|,|\.)\s*(?=[^,.…]*$)")

# The caller counting aloud before the list ("để tui đếm coi", "để em tính xem đã"): no
# part of the household, and no withdrawal either (the list follows it).
_COUNTING_ALOUD = MarkedPattern.of(
    re.compile(
        r"\b(?:để|đợi|chờ)\s+(?:(?:tui|tôi|em|con|mình|cháu)\s+)?(?:đếm|tính|coi|xem|nhẩm|nhớ|nghĩ)"
        r"(?:\s+(?:coi|xem|lại|thử|đã|chút|cái|nè|nha|nghen|ha|hen|nhé))*\b",
        re.IGNORECASE,
    )
)


def extract_household(text: str) -> Extraction | None:
    if withdrawn(text):
        return None  # "Quận một, à không… để tôi hỏi lại đã": nothing in its place
    text = _SPOKEN_WORD.sub(lambda m: _SPOKEN_FORMS[m.group().lower()], text)
    text = without_ages(counted_slips(text))  # "tôi bảy mươi tuổi" says no count
    text = _COUNTING_ALOUD.for_text(text).sub(" ", text)
    if counted_aloud(_fol(text)) is None:  # ("ba... bốn... năm... năm người" counts up)
        text = without_false_starts(text)
    corrected = split_self_correction(text)
    if corrected is not None:
        regrouped = _group_corrected(*corrected)
        if regrouped is not None:
            return regrouped
        # "sáu người à không bảy người" is seven, not thirteen: the count after the
        # correction replaces the one before it ("bốn người, à không, năm, em quên…"),
        # also once the reason is given ("bốn, à không, ông nội mất rồi, còn ba thôi").
        # A count said alone first, then why ("mười hai, em quên hai đứa cháu"): the count.
        first = re.split(r"[,.…]", corrected[1].strip(" ,.…"))[0]
        found = (
            _remaining(corrected[1])
            or _bare(first)
            or _count(corrected[1])
            or _leading_count(corrected[1])
        )
        if found is not None:
            return Extraction(found.value, round(found.confidence * 0.95, 3), found.heard)
    return (
        besides(text, _count)
        or _still(text)
        or _settled(text)
        or _final_count(text)
        or restated_as_group(text)
        or _count(text)
    )


def _remaining(text: str) -> Extraction | None:
    """The count after the last "còn" ("… mất rồi, còn ba thôi", "giờ chỉ còn hai người",
    "còn hai mẹ con"), when it ends the answer. (Typed plain, "con" may also be a child,
    but not one followed by nothing but a count.)"""
    acc = normalise(text).split()
    plain = typed_plain(text)
    still = [i for i, t in enumerate(acc) if t == "còn" or (plain and t == "con")]
    for at in reversed(still):  # typed plain, the last "con" may be the "mẹ con" counted
        rest = [t for t in acc[at + 1 :] if fold(t) not in ("lai", "co")]
        fol = [fold(t) for t in rest if fold(t) not in _AROUND_BARE]
        group = len(fol) == 3 and fol[1] in GROUP_WORDS and fol[2] in GROUP_KIN  # "hai mẹ con"
        found = _bare(" ".join(rest)) or (_count(" ".join(rest)) if group else None)
        if rest and found is not None:
            return found
    return None


def _still(text: str) -> Extraction | None:
    """ "Năm người, mà ông nội mới mất, giờ còn bốn": a count said, then fewer "still" left
    at the end; the later count is the household now."""
    found = _remaining(text)
    if found is None:
        return None
    # The count said before it: the first number, so that "hai" of "còn hai mẹ con" is not.
    fol = _fol(text)
    said = [n for n in find_numbers(fol) if 0 < n.value <= MAX_PEOPLE]
    if not said or said[0].value <= int(found.value):
        return None
    # Why there are fewer must be said between ("…, mà ông nội mới mất, giờ còn bốn"):
    # "năm người, còn hai" may as well be five with two of them away: ask again.
    at = max(i for i, t in enumerate(fol) if t == "con")
    reason = [t for t in fol[said[0].end : at] if t not in _AROUND_BARE and t != "nguoi"]
    return Extraction(found.value, 0.8 if len(reason) >= 2 else 0.4, found.heard)


def _group_corrected(before: str, after: str) -> Extraction | None:
    """ "hai vợ chồng với hai đứa, à không, ba đứa" is five: a correction naming the same
    counter as the last group before it replaces that group, not the whole household."""
    new, old = _fol(after), _fol(before)
    new_n, old_n = find_numbers(new), find_numbers(old)
    if not new_n or not old_n or new_n[0].end >= len(new) or old_n[-1].end >= len(old):
        return None
    noun = new[new_n[0].end]
    listed = _count(before)
    if noun not in PERSON_NOUNS or old[old_n[-1].end] != noun or listed is None:
        return None
    rest = int(listed.value) - old_n[-1].value
    if rest <= 0 or listed.confidence < 0.5 or not 0 < rest + new_n[0].value <= MAX_PEOPLE:
        return None
    return Extraction(str(rest + new_n[0].value), 0.8, f"{before.strip()} … {after.strip()}")


def _fol(text: str) -> list[str]:
    return [fold(t) for t in normalise(text).split()]


# Words of an estimate ("khoảng", "tầm", "cỡ") — with marks only: "tầm" typed plain is "tám".
_ESTIMATE = frozenset({"khoảng", "tầm", "cỡ", "chừng", "độ", "chắc", "gần", "tầm tầm"})
# Words that settle a count after an estimate ("đúng rồi, mười", "tính kỹ thì tám").
_SETTLING = word_set("ma dung roi chinh xac that ra tinh ky thi la de")
_FIRM = ("chinh xac", "that ra", "tinh ky", "dung ra", "tinh ra")


def _settled(text: str) -> Extraction | None:
    """The count a caller settles on after a range or an estimate ("khoảng năm, sáu
    người... à, sáu người", "tầm mười người, đúng rồi, mười"): within the range, or near
    it when said as the exact figure ("khoảng chục người, chính xác là mười hai")."""
    text = text.rstrip(" .!?…,;")
    pause = _LAST_PAUSE.search(text)
    if pause is None or pause.start() == 0:
        return None
    head = [t for t in normalise(text[: pause.start()]).split()]
    estimate = any(t in _ESTIMATE for t in head)
    head_fol = [fold(t) for t in head if t not in _ESTIMATE]
    said = [n for n in find_numbers(head_fol) if 0 < n.value <= MAX_PEOPLE]
    tail = _fol(text[pause.end() :])
    last = _bare(" ".join(t for t in tail if t not in _SETTLING))
    if last is None:
        return None
    if len(said) == 2 and said[1].start == said[0].end and said[1].value == said[0].value + 1:
        low, high = said[0].value, said[1].value
    elif estimate and len(said) == 1:
        low = high = said[0].value
    elif estimate and not said and "chuc" in head_fol:
        low = high = 10  # "khoảng chục người"
    else:
        return None
    firm = any(f" {cue} " in f" {' '.join(tail)} " for cue in _FIRM)
    value = int(last.value)
    if low <= value <= high or (firm and low - 3 <= value <= high + 3):
        return Extraction(last.value, 0.8, " ".join(tail))
    return None


def _final_count(text: str) -> Extraction | None:
    """The count said alone after listing the household ("tui, vợ, ba đứa con... năm"),
    where it is at least the people listed before it (so "bốn người lớn, hai" is not)."""
    pause = _LAST_PAUSE.search(text)
    if pause is None or pause.start() == 0:
        return None
    head, tail = text[: pause.start()], text[pause.end() :]
    last = _bare(tail)
    listed = _count(head)
    if last is None or listed is None or _bare(head) is not None:
        return None
    if int(last.value) < int(listed.value) or listed.confidence < 0.5:
        return None
    return Extraction(last.value, 0.85, last.heard)


def _bare(text: str) -> Extraction | None:
    """A count said by itself: a number with at most "người" and particles around it."""
    fol = [fold(t) for t in normalise(text).split()]
    kept = [t for t in fol if t not in _AROUND_BARE and t != "nguoi"]
    numbers = find_numbers(kept)
    whole = len(numbers) == 1 and numbers[0].end - numbers[0].start == len(kept)
    if whole and 0 < numbers[0].value <= MAX_PEOPLE:
        return Extraction(str(numbers[0].value), 0.75, " ".join(kept))
    return None


def _leading_count(text: str) -> Extraction | None:
    """The number a correction starts with, whatever follows it."""
    acc = normalise(text).split()
    fol = [fold(t) for t in acc]
    start = 0
    while start < len(fol) and fol[start] in _AROUND_BARE:
        start += 1
    numbers = find_numbers(fol)
    if numbers and numbers[0].start == start and 0 < numbers[0].value <= MAX_PEOPLE:
        return Extraction(str(numbers[0].value), 0.75, " ".join(acc[start : numbers[0].end]))
    return None


def _count(text: str) -> Extraction | None:
    text = without_people_away(text)
    norm = normalise(text)
    acc = norm.split()
    fol = [fold(t) for t in acc]
    folded_text = " ".join(fol)
    total, spans = 0, []
    numbers = find_numbers(fol)
    aloud = counted_aloud(fol)
    if aloud is not None:
        return aloud
    # "năm sáu người": five or six, a guess the caller makes, not a count.
    for a, b in pairwise(numbers):
        group = fol[b.start] in GROUP_WORDS and fol[b.end : b.end + 1] == ["chau"]
        if b.start == a.end and b.value == a.value + 1 and a.value < 10 and not group:
            return Extraction(str(b.value), 0.4, " ".join(acc[a.start : b.end]))
    stated = _stated_total(fol, numbers)
    if stated is not None:
        return Extraction(str(stated.value), 0.9, " ".join(acc[stated.start : stated.end + 1]))
    if _UNCOUNTED & set(acc) or (fold(norm) == norm and _uncounted_plain(fol)):
        # "vợ chồng tui với mấy đứa nhỏ": some of the household is not counted.
        return None
    # "ba người: tui, vợ tui với đứa con gái": the count said first is the total.
    # The pauses between the people listed ("má tui, tui với đứa em") part them like "với".
    # ("chỉ", only, folds to "chi" like "chị": kept apart by its mark.)
    # "còn" between the people ("hai vợ chồng, còn ba đứa con") is "and", not a child ("con").
    listed_fol = [
        {"chỉ": "chỉ", "còn": "voi"}.get(t) or fold(t)
        for t in normalise(re.sub(r",|\.\.\.|…", " với ", text)).split()
    ]
    listed_fol = [
        "chỉ" if t == "chi" and listed_fol[i + 1 : i + 2] == ["co"] else t  # "chi co": chỉ có
        for i, t in enumerate(listed_fol)
    ]
    listed = 0
    living = living_with(fol)  # (read before pauses became "với": "ờ, …" is no "ở với")
    if living is not None and not living[0]:  # "sống chung với ba má…": who follows
        listed_fol = ["toi", "voi", *listed_fol[living[1] :]]  # and the caller
    if not any(_is_whole_count(fol, n) for n in numbers):
        listed = people_listed(listed_fol, find_numbers(listed_fol), names_in(text))
    if listed:
        return Extraction(str(listed), 0.85, " ".join(acc))
    # "năm nay" is "this year", never a count.
    for phrase in numbers:
        if spans and phrase.start < spans[-1][1]:
            continue  # the "bà" of "hai bà cháu" is a kin word of the group counted
        nxt = fol[phrase.end] if phrase.end < len(fol) else ""
        if fol[phrase.start] == "nam" and nxt == "nay":
            continue
        after = fol[phrase.end + 1] if phrase.end + 1 < len(fol) else ""
        if nxt in GROUP_WORDS and after in GROUP_KIN and 0 < phrase.value <= MAX_PEOPLE:
            total += phrase.value  # "ba mẹ con": the number counts the whole group
            spans.append((phrase.start, phrase.end + 2))
        elif nxt in PERSON_NOUNS and 0 < phrase.value <= MAX_PEOPLE:
            total += phrase.value
            spans.append((phrase.start, phrase.end + 1))
    fixed = ""
    for words, count in sorted(FIXED_COUNTS, key=lambda wc: -len(wc[0])):
        if f" {words} " in f" {folded_text} ":
            # "vợ"/"chồng"/"mình" are not in PERSON_NOUNS, so "hai vợ chồng" is not also
            # counted as a numbered phrase.
            fixed, total = words, total + count
            break
    whole = any(_is_whole_count(fol, n) for n in numbers)
    if total and spans and not whole and others_joined(fol, spans):
        return None  # "tui với (a word not known) với hai đứa nhỏ": more than the two
    if total and spans and living_with(fol) is not None:
        total += 1  # "tôi nuôi ba đứa cháu": the groups counted, and the caller
    if total:
        heard = " ".join(acc[spans[0][0] : spans[-1][1]]) if spans else fixed
        return Extraction(str(total), 0.9 if spans else 0.8, heard)
    named = _named_one_by_one(fol)
    if named:
        return Extraction(str(named), 0.7, " ".join(acc))
    # A bare count: the whole answer is one small number ("năm", "dạ năm người ạ" handled above).
    kept = [i for i, t in enumerate(fol) if t not in _AROUND_BARE]
    rest = [fol[i] for i in kept]
    if len(rest) == 1 and rest[0] in PRONOUNS and {"thoi", "chi"} & set(fol):
        return Extraction("1", 0.75, " ".join(acc))  # "tui thôi", "chỉ tôi"
    numbers = find_numbers(rest)
    if (
        len(numbers) == 1
        and numbers[0].end - numbers[0].start == len(rest)
        and 0 < numbers[0].value <= MAX_PEOPLE
    ):
        return Extraction(str(numbers[0].value), 0.75, " ".join(acc[i] for i in kept))
    return None


def _is_whole_count(fol: list[str], n: NumberPhrase) -> bool:
    """ "N người" that is not a part of the household ("hai người lớn")."""
    return (
        n.end < len(fol)
        and fol[n.end] in ("nguoi", "khau")
        and (n.end + 1 >= len(fol) or fol[n.end + 1] not in _PART_OF)
        and 0 < n.value <= MAX_PEOPLE
    )


def _stated_total(fol: list[str], numbers: list[NumberPhrase]) -> NumberPhrase | None:
    """The count the caller gives as the total, however the household is described around
    it: one "N người" that is not a part ("hai người lớn"), or "… là N" ending the answer.
    "Sáu người, hai vợ chồng với bốn đứa nhỏ" is six, not twelve."""
    whole = [n for n in numbers if _is_whole_count(fol, n)]
    cued = _cued_last(fol, numbers)
    others = [n for n in whole if n != cued]
    if cued is not None and (not others or cued.value >= others[-1].value):
        return cued  # "… hai người bạn, tính luôn tôi là ba": the total said last
    if len(whole) == 1:
        return whole[0]  # also beside people not counted ("tụi em ở năm người")
    if len(whole) > 1 and len({n.value for n in whole}) == 1:
        return whole[-1]  # "bảy người, đúng bảy người": said again to confirm it
    return None


def _cued_last(fol: list[str], numbers: list[NumberPhrase]) -> NumberPhrase | None:
    """ "… là N" ending the answer."""
    if numbers:
        last = numbers[-1]
        before = " ".join(fol[max(0, last.start - 2) : last.start])
        tail = [t for t in fol[last.end :] if t not in ("nguoi", "a", "da", "thoi", "do")]
        cued = any(f" {before} ".endswith(f" {cue} ") for cue in _TOTAL_CUES)
        if not tail and cued and last.start > 1 and 0 < last.value <= MAX_PEOPLE:
            return last
    return None


# (Here, not in household_people.py: its parts are read past a bare count's particles.)
def _named_one_by_one(fol: list[str]) -> int:
    """ "tui với má tui": the people named, joined by "với"/"và"; 0 unless every part is a
    person word (so "với" in another sense counts nobody)."""
    if not any(t in JOINERS for t in fol):
        return 0
    parts: list[list[str]] = [[]]
    for t in fol:
        if t in JOINERS:
            parts.append([])
        elif t not in _AROUND_BARE or t in _PERSON_WORDS:
            parts[-1].append(t)
    parts = [p for p in parts if p]
    if len(parts) < 2 or not all(p[0] in _PERSON_WORDS and len(p) <= 3 for p in parts):
        return 0
    return len(parts)
