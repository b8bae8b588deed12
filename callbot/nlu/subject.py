"""Who needs the help: the caller, their family, a neighbour, someone else."""

from __future__ import annotations

import re

from callbot.nlu.choice import spoken_choice
from callbot.nlu.extraction import Extraction
from callbot.nlu.hesitation import not_an_answer_yet, withdrawn
from callbot.nlu.keywords import CueHit, score_cues
from callbot.nlu.subject_cues import (  # the table; its names are this module's too
    CUES as _CUES,
)
from callbot.nlu.subject_cues import (
    EXACT_CUES,
    EXACT_CUES_PLAIN,
    FAMILY,
    NEIGHBOUR,
    OTHER,
    SELF,
    SUBJECTS,
)
from callbot.nlu.subject_ties import NEIGHBOUR_TIES
from callbot.nlu.text import (
    HESITATIONS,
    MarkedPattern,
    contains_phrase,
    fold,
    normalise,
    split_self_correction,
    typed_plain,
    word_set,
)
from callbot.nlu.yes_no_spelling import respellings, respelt

# Third parties outrank the caller: "hàng xóm tôi" mentions "tôi" but is about the neighbour.
_PRIORITY = {NEIGHBOUR: 4, OTHER: 3, FAMILY: 2, SELF: 1}
# The labels whose cues name a person outright at weight 3.
_NAMED = (NEIGHBOUR, OTHER)
# A stranger is "other" wherever they are ("ông cụ ngoài đầu hẻm, không quen biết").
_STRANGER = ("không quen", "hổng quen", "hông quen", "người lạ", "lạ hoắc", "không biết là ai")
# A question about the menu, or a guess put as one ("cả xóm hay sao ta"), names no one
# whatever people it mentions: the bot asks again.
# A replacement that opens by naming someone ("cho …", "là …").
_NEW_PERSON = re.compile(r"(?:dạ |thì )?(?:cho|là|la) ")
_ASKING = ("số mấy", "hay sao ta", "sao ta", "hay sao đó")
# Cues heard only with other tone marks add up to less than this: "cho ổng" (for him) is
# not "cho ông" said by an old man of himself.
_LEAST_SCORE = 0.5


# A clause mark becomes this token, which no cue matches across: "… không chị, tôi chỉ
# muốn hỏi" ends one clause on the operator's "chị" and opens the next on the caller's
# "tôi", not "chị tôi" (the caller's sister).
_BREAK = "qqbreakqq"
_CLAUSE_MARK = re.compile(r"[,.;:!?…]+")
# Answers that name no one: anyone will do, the caller does not know about it, or only asks
# ("cho ai cũng được, tui hổng rành", "tôi chỉ muốn hỏi thông tin thôi", "cái đó để làm gì
# vậy?"). Their weak cues (the "tui" of "tui hổng rành") are no answer; a full one is.
_NAMES_NO_ONE = (
    "ai cũng được",
    "người nào cũng được",
    "ai cũng xong",
    "chẳng biết",
    "chả biết",
    "hỏi thông tin",
    "hỏi thăm thông tin",
    "hỏi cho biết",
    "hỏi thôi",
    "có quan trọng không",
    "để làm gì",
    # Asking back, or objecting to the question ("sao phải hỏi cái đó", "hỏi chi vậy", "tui
    # chỉ muốn biết có được giúp không"): no one named.
    "làm chi",
    "hỏi chi",
    "sao phải",
    "chỉ muốn biết",
    *(f"{no} rành" for no in ("không", "hổng", "hông", "chẳng", "chả", "ko")),
    *(f"{it} {you}" for it in ("tùy", "tuỳ") for you in ("chị", "anh", "em", "cô", "chú", "bác")),
)
_NAMES_NO_ONE_FOLDED = tuple(fold(p) for p in _NAMES_NO_ONE)
# A caller who will first consult someone ("em phải hỏi lại tổ trưởng đã nha chị", "để tôi
# hỏi vợ tôi đã"): the one asked is not who the help is for, and no one is named yet.
_CONSULTING = MarkedPattern.of(
    re.compile(
        r"\b(?:hỏi|bàn|xin phép|thưa)\b(?: \w+){0,5} đã"
        r"(?: (?:nha|nhé|nhe|nghen|nghe|ạ|chị|anh|em|cô|chú|bác|con|cháu|ha|hen))*$"
    )
)

# "Chị gái tôi ở cùng xóm": where a relative lives, not a neighbour; with words of nearness
# between ("ảnh ở ngay sát vách", "bả ở luôn nhà đối diện"), too.
_LIVES_AT = ("o", "song")  # folded: "ở", "sống"
_NEARNESS = word_set("ngay luon cung gan sat ke")  # folded: "ngay", "luôn", "cũng", "gần"…
_FAMILY_CUES = {FAMILY: _CUES[FAMILY]}  # one table object: score_cues keeps it sorted
_OWN = frozenset(("toi", "tui", "em", "minh", "con", "chau"))
_OF = "cua"  # folded "của"


def _kin_who_lives_there(norm: str, hits: dict[str, CueHit], full: float) -> bool:
    """Whether the neighbour cue only says where a relative named before it lives."""
    toks = norm.split()
    start = hits[NEIGHBOUR].first[0]
    at = start - 1
    while at > 0 and start - at <= 2 and fold(toks[at]) in _NEARNESS:
        at -= 1
    if FAMILY not in hits or at < 0 or fold(toks[at]) not in _LIVES_AT:
        return False
    family = score_cues(" ".join(toks[:at]), _FAMILY_CUES).get(FAMILY)
    if family is None or family.score < full:
        return False
    # Only a relative said as the caller's own ("chị gái tôi"): "ông chú ở sát vách" is an
    # old man next door, the title not a tie.
    end = family.first[1]
    if end + 1 < len(toks) and fold(toks[end]) == _OF:
        end += 1  # "em ruột của tôi"
    return fold(toks[end - 1]) in _OWN or (end < len(toks) and fold(toks[end]) in _OWN)


# "Nhà tui có mình tui", "nhà em chỉ có mỗi mình em": the caller's home holds the caller
# alone, so its "nhà tui" is where they live, not a relative; "… mình tôi với đứa con" is
# not alone (folded).
_ALONE = re.compile(
    r"\b(?:(?:mot|moi|co) minh (?:toi|tui|em|con|chau|minh)|(?:o|song) (?:co )?mot minh)\b"
    r"(?! (?:voi|va|cung|ca)\b)"
)
_HOME = {FAMILY: (("nhà tôi", 2), ("nhà tui", 2), ("nhà em", 2), ("nhà mình", 2), ("nhà con", 2))}


def _lives_alone(norm: str, hits: dict[str, CueHit]) -> CueHit | None:
    """The caller, where the family named is only their home and they say they live in
    it alone."""
    alone = _ALONE.search(fold(norm))
    if alone is None or FAMILY not in hits:
        return None
    home = score_cues(norm, _HOME).get(FAMILY)
    if home is None or home.score < hits[FAMILY].score:
        return None  # a relative named too: "nhà tui có mình tui với má tui"
    start = fold(norm)[: alone.start()].count(" ")
    span = (start, start + alone.group().count(" ") + 1)
    prev = hits.get(SELF)
    return CueHit(SELF, 2.0 + (prev.score if prev else 0.0), prev.first if prev else span)


# The residents' group's roles name the neighbour the answer is for only after its "cho"
# ("cho cô Ba tổ trưởng"): elsewhere the head of the block is who told the caller, or the
# caller ("cho ba tui, tổ trưởng nói là được hỗ trợ", "tôi là tổ trưởng, cho bà cụ…").
_ROLES = {NEIGHBOUR: NEIGHBOUR_TIES}
_ROLE_WORDS = tuple(tuple(fold(cue).split()) for cue, _ in NEIGHBOUR_TIES)
_FOR = "cho"
_SHARING = frozenset(("cung", "chung"))  # folded "cùng", "chung"
_TITLE_AND_NAME = 3  # words between "cho" and the role: "cho chú Tư tổ trưởng"


def _role_not_for(toks: list[str], hits: dict[str, CueHit]) -> bool:
    """Whether the neighbour cues are only a role of the residents' group not said as the
    one the help is "cho" (for)."""
    neighbour = hits.get(NEIGHBOUR)
    roles = score_cues(" ".join(toks), _ROLES).get(NEIGHBOUR) if neighbour else None
    if roles is None or roles.score < neighbour.score:
        return False
    folded = [fold(t) for t in toks]
    start = min(  # the first role said (``first`` is the longest cue's)
        i
        for cue in _ROLE_WORDS
        for i in range(len(toks) - len(cue) + 1)
        if tuple(folded[i : i + len(cue)]) == cue
    )
    if start > 0 and fold(toks[start - 1]) in _SHARING:
        return False  # "ở chung tổ dân phố với tui": the block shared, not its head
    before = toks[max(0, start - 1 - _TITLE_AND_NAME) : start]
    if _BREAK in before:
        before = before[len(before) - before[::-1].index(_BREAK) :]
    return _FOR not in before


def _clauses(text: str) -> str:
    """The normalised text with a ``_BREAK`` token between its written clauses."""
    norm = normalise(_CLAUSE_MARK.sub(f" {_BREAK} ", text))
    toks = norm.split()
    kept = [t for i, t in enumerate(toks) if t != _BREAK or (i > 0 and toks[i - 1] != _BREAK)]
    while kept and kept[-1] == _BREAK:
        kept.pop()
    return " ".join(kept)


def _names_no_one(norm: str) -> bool:
    """Whether the answer leaves the choice open or only asks (``_NAMES_NO_ONE``)."""
    folded = fold(norm)
    if folded == norm:
        return any(contains_phrase(folded, p) for p in _NAMES_NO_ONE_FOLDED)
    return any(f" {p} " in f" {norm} " for p in _NAMES_NO_ONE)


def subject_from_key(digit: str) -> str | None:
    if len(digit) == 1 and digit in "1234":
        return SUBJECTS[int(digit) - 1]
    return None


# Every word of the cues, as it should be written: "bà ngọai" (the tone mark on the other
# vowel, as an older keyboard habit puts it) is "bà ngoại", the same letters and tone.
_RESPELLINGS = respellings(
    word
    for table in (_CUES, EXACT_CUES)
    for cues in table.values()
    for cue, _ in cues
    for word in cue.split()
)
_WORD = re.compile(r"\w+")


def _respelt(text: str) -> str:
    """``text`` with each cue word written askew written as it should be."""
    return _WORD.sub(lambda m: respelt(m.group().lower(), _RESPELLINGS) or m.group(), text)


def extract_subject(text: str) -> Extraction | None:
    text = _respelt(text)
    if withdrawn(text):
        return None  # "Quận một, à không… để tôi hỏi lại đã": nothing in its place
    norm = normalise(text)
    choice = spoken_choice(norm, len(SUBJECTS))
    if choice is not None:
        return Extraction(SUBJECTS[choice - 1], 0.9, norm)
    corrected = split_self_correction(text)
    if corrected is not None and corrected[1].strip(" ,.…"):
        # "Gia đình… à không, cho mình tôi thôi": who the caller settled on.
        found = _settled_on(*corrected)
        if found is not None:
            return found
        # Someone new named in words no cue knows ("à thôi, cho cả dãy trọ luôn"): the one
        # taken back is no answer. A detail added ("hai đứa, à không, ba đứa") keeps it.
        if _NEW_PERSON.match(normalise(corrected[1])):
            return None
    if any(contains_phrase(fold(norm), fold(p)) for p in _ASKING):
        return None  # "người thuê nhà thì chọn số mấy?": asks, names no one
    if _trails_off(text, norm):
        return None
    clauses = _clauses(text)
    consulting = _CONSULTING.for_text(norm)
    if any(consulting.search(clause.strip()) for clause in clauses.split(_BREAK)):
        return None
    return _read(clauses)


def _settled_on(before: str, after: str) -> Extraction | None:
    """Who the caller named after correcting themselves. The person taken back, named
    again after the mark, is why, not who: "Cho mẹ tôi, à không, cho tôi, mẹ tôi ổn rồi";
    "Cho mẹ em, à lộn, cho em, mẹ em có người lo rồi": the one the clause after the mark
    names ("cho em"), however weak its cue, where the rest names the one taken back."""
    found = extract_subject(after)
    dropped = extract_subject(before)
    if found is None or dropped is None or found.value != dropped.value:
        return found
    opening = _CLAUSE_MARK.split(after.strip(" ,.…"))[0]
    if _NEW_PERSON.match(normalise(opening)):
        named = _read(_clauses(opening))
        if named is not None and named.value != dropped.value:
            return named
    return _read(_clauses(after), dropped=found.value) or found


def _trails_off(text: str, norm: str) -> bool:
    """Whether the answer is only a weak cue (the bare "tui" of "tui cũng…") trailing off
    into a pause or a filler: a caller still looking for words, not naming themselves."""
    end = text.strip().lower()
    last = end.split()[-1] if end else ""
    # (A final "à" is a particle, "tui ở một mình à"; a filler counts after a pause only.)
    filler = last in HESITATIONS and last != "à" and ("..." in end or "…" in end)
    if not (end.endswith(("...", "…")) or filler):
        return False
    hits = score_cues(norm, _CUES, near=True)
    return max((h.score for h in hits.values()), default=0.0) < 1.0


def _hits(norm: str) -> dict[str, CueHit]:
    """The cues heard, with those matched only exactly as written (``EXACT_CUES``)."""
    hits = score_cues(norm, _CUES, near=True)
    toks = norm.split()
    exact = EXACT_CUES_PLAIN if typed_plain(norm) else EXACT_CUES
    for label, cues in exact.items():
        for cue, weight in cues:
            words = cue.split()
            starts = [i for i in range(len(toks)) if toks[i : i + len(words)] == words]
            if not starts:
                continue
            span = (starts[0], starts[0] + len(words))
            prev = hits.get(label)
            first = min(prev.first, span) if prev else span
            hits[label] = CueHit(label, weight + (prev.score if prev else 0.0), first)
    return hits


def _read(norm: str, dropped: str | None = None) -> Extraction | None:
    """The subject the cues of ``norm`` name; ``dropped``: a label taken back, left out
    (then only another one named outright, with a full cue, is an answer)."""
    hits = _hits(norm)
    # Typed without any marks, a cue written with marks counts half ("gia dinh") and one
    # written without ("cho tui") fully: a full cue is then half the weight, or "cho tui
    # voi gia dinh" would be the caller alone.
    full = 1.0 if typed_plain(norm) else 2.0
    if _role_not_for(norm.split(), hits):
        del hits[NEIGHBOUR]
    if dropped is not None:
        hits = {label: h for label, h in hits.items() if label != dropped and h.score >= full}
    if not hits:
        return None
    # A person named outright (a weight-3 cue: "hàng xóm", "người quen", a trade) outranks
    # where someone is met ("chú bán vé số hay ghé đầu hẻm" is not a neighbour).
    best = max(
        hits.values(),
        key=lambda h: (
            h.score >= full,
            h.label in _NAMED and h.score >= 1.5 * full,
            _PRIORITY[h.label],
            h.score,
        ),
    )
    if best.label == NEIGHBOUR and _kin_who_lives_there(norm, hits, full):
        best = hits[FAMILY]
    if best.label == FAMILY:
        best = _lives_alone(norm, hits) or best
    if best.score < _LEAST_SCORE:
        return None
    if OTHER in hits and any(contains_phrase(fold(norm), fold(p)) for p in _STRANGER):
        best = hits[OTHER]
    if best.score < 2.0 and (not_an_answer_yet(norm) or _names_no_one(norm)):
        return None  # "để tôi coi": the "tôi" of a caller still thinking is not "self"
    confidence = 0.5 + 0.45 * min(best.score, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(norm.split()))
