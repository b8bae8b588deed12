"""The people a household answer names one by one: "tui, bà xã, với hai đứa con" is four.

The kin words, pairs ("vợ chồng", "ông bà") and groups ("ba mẹ con") a caller counts the
household in, and the count a list of them adds up to; household.py decides which reading
of the answer to trust.
"""

from __future__ import annotations

import re

from callbot.nlu.numbers import NumberPhrase
from callbot.nlu.text import fold, word_set

# Folded words that, right after a number, say it counts people ("năm người", "ba đứa con").
PERSON_NOUNS = word_set("nguoi khau nhan thanh dua chau be con dua tre ong ba co chu mieng suat")
# ("hai mẹ con", "hai bà cháu", "hai bố con" are counted as groups: household.py.)
# "ba mẹ con em" is three: a number before a pair of kin words names everyone in it.
GROUP_WORDS = word_set("me bo ba cha ong anh chi ma tia")
GROUP_KIN = word_set("con chau em")
# Phrases that are a count by themselves.
FIXED_COUNTS: tuple[tuple[str, int], ...] = (
    ("song mot minh", 1),
    ("o mot minh", 1),
    ("co mot minh", 1),
    ("chi co minh toi", 1),
    ("chi minh toi", 1),
    ("mot minh toi", 1),
    ("mot minh", 1),
    ("co minh toi", 1),
    ("minh toi", 1),
    ("minh tui", 1),
    ("minh em", 1),
    ("chi co toi", 1),
    ("chi co tui", 1),
    ("chi co em", 1),
    ("chi co con", 1),
    ("co minh tui", 1),
    ("co minh em", 1),
    ("co minh con", 1),
    ("minh en", 1),  # Southern "mình ên": alone
    ("vo chong", 2),
    ("hai vo chong", 2),
)
# The words that join the people listed ("tui với má tui").
JOINERS = word_set("voi va them")
# The most people one household answer may count.
MAX_PEOPLE = 60

# A household listed person by person and group by group, joined by "với"/"và"/"thêm":
# "tui, bà xã, với hai đứa con" is four, "vợ chồng em với đứa con gái" three.
_PAIRS = (("vo", "chong"), ("ong", "ba"), ("bo", "me"), ("ba", "me"), ("cha", "me"),
          ("ba", "ma"), ("me", "cha"), ("anh", "chi"))  # fmt: skip
_ONE_PERSON = word_set(
    "toi tui em minh vo chong con chau me ma ba bo cha tia ong co di chu bac cau mo thim "
    "anh chi dua thang be"
)
PRONOUNS = word_set("toi tui em minh")
# In-laws and spouses named in two words (folded): one person each.
_KIN_COMPOUNDS = frozenset(
    tuple(pair.split())
    for pair in (
        "me vo", "me chong", "bo vo", "bo chong", "ba vo", "ba chong", "cha vo", "cha chong",
        "anh vo", "em vo", "chi vo", "anh chong", "em chong", "chi chong", "ba xa", "ong xa",
        "con dau", "con re", "chi dau", "em dau", "anh re", "em re",
    )
)  # fmt: skip
# Words that describe the person or group just named ("ông bà nội", "đứa con gái", "hai
# vợ chồng tui"): part of that unit, not another person.
_DESCRIBING = word_set(
    "noi ngoai gia lon nho tre be con chau trai gai ruot xa dau re toi tui em minh ut cu nit"
)
# Whose couple "vợ chồng" is, said right after it with no "với" between: "vợ chồng đứa con
# trai", "vợ chồng thằng út", "vợ chồng anh hai" are that person and their spouse.
_COUPLE_OF = word_set("dua thang con chau be anh chi")
# (and "vậy thôi", "vậy đó" that end a hesitant list, "thì" of "ờ... thì...")
_LIST_FILLERS = word_set("da vang a o u thi thoi nua nha nhe ne co gom la cua chỉ vay")


def names_in(text: str) -> frozenset[str]:
    """Folded words written capitalised inside a sentence: the names of people listed
    ("thằng Tí, con Mén"), which describe the person just named."""
    words = re.findall(r"\w+", text)
    starts = {m.group(1) for m in re.finditer(r"(?:^|[.!?…])\s*(\w+)", text)}
    return frozenset(fold(w.lower()) for w in words if w[:1].isupper() and w not in starts)


def _pair_at(fol: list[str], i: int) -> bool:
    return tuple(fol[i : i + 2]) in _PAIRS


def people_listed(
    fol: list[str], numbers: list[NumberPhrase], names: frozenset[str] = frozenset()
) -> int:
    """The people of a list joined by "với"/"và"/"thêm"; 0 unless every word is read as a
    person, a numbered group ("ba đứa nhỏ"), a pair ("vợ chồng", "ông bà") or a word
    describing them, so that a sentence about something else counts nobody."""
    if not any(t in JOINERS for t in fol):
        return 0
    at = {n.start: n for n in numbers}
    total, units, i, fresh = 0, 0, 0, True
    while i < len(fol):
        t = fol[i]
        if t == "con" and i + 1 in at:
            t = "voi"  # "…, con ba đứa nhỏ" typed plain: "còn" (and), not a child
        if t == "do" and fol[i - 1 : i] == ["vay"]:
            t = "vay"  # "vậy đó" ends the list ("đó" alone may be "dợ", vợ)
        if t in JOINERS or t in _LIST_FILLERS:
            fresh, i = fresh or t in JOINERS, i + 1
            continue
        num = at.get(i)
        nxt = fol[num.end] if num and num.end < len(fol) else ""
        if num and _pair_at(fol, num.end):
            if num.value != 2:
                return 0  # "ba vợ chồng": not a way a household is counted
            total, i = total + 2, num.end + 2
        elif num and nxt in GROUP_WORDS and fol[num.end + 1 : num.end + 2] in (["con"], ["em"]):
            total, i = total + num.value, num.end + 2  # "ba mẹ con", "hai anh em"
        elif num and (nxt in PERSON_NOUNS or nxt == "em") and 0 < num.value <= MAX_PEOPLE:
            total, i = total + num.value, num.end + 1
        elif tuple(fol[i : i + 2]) in _KIN_COMPOUNDS:
            total, i = total + 1, i + 2  # "mẹ vợ", "con dâu": one person
        elif _pair_at(fol, i):
            total, i = total + 2, i + 2
            if fol[i : i + 1] in (["chong"], ["vo"]) and fol[i - 2 : i] != ["vo", "chong"]:
                i += 1  # "ba má chồng": the husband's parents, still two
        elif t in ("con", "chau") and _owner_before(fol, i):
            i += 1  # "nhà con có ba, má…": the caller calls themself "con" here
            continue
        elif t in _ONE_PERSON:
            if t in PRONOUNS and (not fresh or _owner_before(fol, i)):
                i += 1  # "con tui", "nhà em có…": whose, not who
                continue
            total, i = total + 1, i + 1
        else:
            return 0
        units, fresh = units + 1, False
        if fol[i - 2 : i] == ["vo", "chong"] and i < len(fol) and fol[i] in _COUPLE_OF:
            i += 1  # "(hai) vợ chồng đứa con trai": the son and his wife, two, not three
        if fol[i - 1] in _BY_BIRTH_ORDER and i in at and _birth_order(fol, at[i]):
            i = at[i].end  # "anh hai", "chị Ba", "chú Tư": who they are, not how many
        while i < len(fol) and (fol[i] in _DESCRIBING or fol[i] in names):
            i += 1
        i = _after_birth(fol, i)
    return total if units >= 2 and total <= MAX_PEOPLE else 0


# "đứa con gái mới sinh (tháng trước)": when the person just named was born describes them.
_BORN = (("moi", "sinh"), ("moi", "de"), ("so", "sinh"), ("moi", "sanh"))
_WHEN = (("thang", "truoc"), ("tuan", "truoc"), ("nam", "ngoai"), ("hom", "qua"),
         ("thang", "roi"), ("tuan", "roi"))  # fmt: skip


def _after_birth(fol: list[str], i: int) -> int:
    """The index after a birth said of the person just named ("mới sinh tháng trước")."""
    if tuple(fol[i : i + 2]) not in _BORN:
        return i
    i += 2
    return i + 2 if tuple(fol[i : i + 2]) in _WHEN else i


# Southern families name siblings, uncles and aunts by birth order: "anh hai" is the eldest
# brother, "cô Út" the youngest aunt.
_BY_BIRTH_ORDER = word_set("anh chi co chu cau di thim bac")


def _birth_order(fol: list[str], number: NumberPhrase) -> bool:
    nxt = fol[number.end : number.end + 1]
    one_word = number.end - number.start == 1
    return one_word and 2 <= number.value <= 10 and not (nxt and nxt[0] in PERSON_NOUNS)


def _owner_before(fol: list[str], i: int) -> bool:
    """Whether the pronoun at i says whose household it is: "nhà (của) em có…"."""
    before = [t for t in fol[max(0, i - 2) : i] if t != "cua"]
    return before[-1:] == ["nha"]


def others_joined(fol: list[str], spans: list[tuple[int, int]]) -> bool:
    """Whether people other than the numbered groups are joined to them ("với"/"và"): the
    list could not be read whole, so the groups' count is only part of the household."""
    if not any(t in JOINERS for t in fol):
        return False
    inside = {i for a, b in spans for i in range(a, b)}
    for i, t in enumerate(fol):
        if i - 1 in inside and t in _DESCRIBING:
            inside.add(i)  # "một đứa con nít", "hai đứa nhỏ tui": the group described
        elif i not in inside and (t in PRONOUNS or t in _ONE_PERSON):
            return True
    return False


# "ở với…", "sống chung với…", "nuôi…": the caller is one of the household though the answer
# names only the others ("ở với con gái và con rể", "tôi nuôi ba đứa cháu").
_LIVES_WITH = ("o voi", "song voi", "o chung voi", "song chung voi", "nuoi", "cham")


def living_with(fol: list[str]) -> tuple[bool, int] | None:
    """Where an answer that starts with a verb of living with or caring for others ("ở với
    con gái", "tôi nuôi ba đứa cháu") names them: (whether a pronoun named the caller
    first, the index after the verb); None for any other answer."""
    start = 0
    while start < len(fol) and fol[start] in ("da", "thi", "vang"):
        start += 1
    pronoun = start < len(fol) and fol[start] in PRONOUNS
    at = start + pronoun
    for verb in _LIVES_WITH:
        words = verb.split()
        if fol[at : at + len(words)] == words and at + len(words) < len(fol):
            return pronoun, at + len(words)
    return None
