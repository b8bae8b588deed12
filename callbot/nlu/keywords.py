"""Cue-phrase scoring shared by the closed-class extractors (case type, subject, correction).

Cues are written with their diacritics and matched with them first; a match with tone marks
removed counts less (see ``score_cues``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from callbot.nlu.place_sound import sound_distance, syllable_parts, tone_of
from callbot.nlu.text import fold, word_set


@dataclass(frozen=True)
class CueHit:
    label: str
    score: float
    first: tuple[int, int]  # token span (start, end) of the label's first cue found

    def heard(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens[self.first[0] : self.first[1]])


# A cue word heard without its tone marks ("trung" for "trứng": the recogniser dropped
# them) counts this much of the cue's weight; one heard with *other* marks that fold the
# same ("cơ" for "có", "đôi" for "đói", "sủa" for "sữa") is most likely another word and
# counts far less. A cue counts by its least exact word.
DROPPED_MARKS_WEIGHT = 0.5
OTHER_MARKS_WEIGHT = 0.25


def _word_weight(heard: str, heard_folded: str, cue: str, cue_folded: str) -> float:
    if heard == cue:
        return 1.0
    if heard_folded != cue_folded:
        return 0.0
    return DROPPED_MARKS_WEIGHT if heard == heard_folded else OTHER_MARKS_WEIGHT


# Southern forms of words the cue tables write the Northern way: "hông ai lo" is "không ai
# lo", "hổng thấy dìa" is "không thấy về". Written once here, not as twin cues in every table.
# "chưa lãnh tiền": Southern "lãnh" for "nhận" (receive).
_SOUTHERN = {"không": ("hông", "hổng"), "về": ("dìa",), "vậy": ("dzậy", "dậy"), "nhận": ("lãnh",)}


def with_southern_forms(
    cues: Mapping[str, Sequence[tuple[str, float]]],
) -> dict[str, tuple[tuple[str, float], ...]]:
    """The cue table with each cue also written with the Southern forms of its words."""
    expanded: dict[str, tuple[tuple[str, float], ...]] = {}
    for label, table in cues.items():
        out = dict.fromkeys(table)
        for cue, weight in table:
            words = cue.split()
            for i, word in enumerate(words):
                for southern in _SOUTHERN.get(word, ()):
                    out[(" ".join([*words[:i], southern, *words[i + 1 :]]), weight)] = None
        expanded[label] = tuple(out)
    return expanded


@lru_cache(maxsize=64)
def _cue_tokens(
    cues: tuple[tuple[str, float], ...],
) -> tuple[tuple[tuple[str, ...], tuple[str, ...], float], ...]:
    return tuple((tuple(c.split()), tuple(fold(c).split()), w) for c, w in cues)


_Flat = list[tuple[tuple[str, ...], tuple[str, ...], float, str]]
_Twins = dict[tuple[str, ...], list[tuple[tuple[str, ...], float, str]]]
_TABLES: dict[int, tuple[object, _Flat, _Twins]] = {}


def _tables(cues: Mapping[str, Sequence[tuple[str, float]]]) -> tuple[_Flat, _Twins]:
    """Every label's cues, longest first, and each folded form → the cues (of any label)
    that fold to it, in that order (kept per cue table: the tables are constants)."""
    kept = _TABLES.get(id(cues))
    if kept is not None and kept[0] is cues:
        return kept[1], kept[2]
    flat = sorted(
        (
            (exact, plain, weight, label)
            for label, cs in cues.items()
            for exact, plain, weight in _cue_tokens(tuple(cs))
        ),
        key=lambda t: -len(" ".join(t[0])),
    )
    twins: _Twins = {}
    for exact, plain, weight, label in flat:
        twins.setdefault(plain, []).append((exact, weight, label))
    if len(_TABLES) < 64:
        _TABLES[id(cues)] = (cues, flat, twins)
    return flat, twins


def _span_weight(
    toks: list[str], folded: list[str], start: int, cue: tuple[str, ...], plain: tuple[str, ...]
) -> float:
    """How much a cue counts where its folded form was found: by its least exact word."""
    return min(
        _word_weight(toks[start + i], folded[start + i], word, plain[i])
        for i, word in enumerate(cue)
    )


def score_cues(
    text: str, cues: Mapping[str, Sequence[tuple[str, float]]], *, near: bool = False
) -> dict[str, CueHit]:
    """Sum the weights of each label's cues found as whole words in normalised ``text``.

    Tones first: a cue written exactly as heard counts fully; one that matches only with
    tone marks removed counts less (``DROPPED_MARKS_WEIGHT``, ``OTHER_MARKS_WEIGHT``).
    Longest cues first, and a cue found
    inside a longer cue already counted (of any label) is not counted again, so "không có gì
    ăn" does not also count as "có".

    ``near``: a cue of two or more words heard one sound off, over words no cue has taken
    ("việc khát", "hàn xóm", "hết gạ"), counts too, at ``NEAR_WEIGHT`` (``_near_hits``);
    only in text with tone marks: typed plain, a slip is beyond telling ("cho"/"trọ").
    """
    toks = text.split()
    folded = [fold(t) for t in toks]
    # Where each folded word occurs: a cue is only tried where its first word is (the
    # urgency cues are hundreds, run over a whole call's words, on the event loop).
    where: dict[str, list[int]] = {}
    for i, word in enumerate(folded):
        where.setdefault(word, []).append(i)
    spans_used: list[tuple[int, int]] = []
    hits: dict[str, CueHit] = {}
    flat, twins = _tables(cues)
    for exact, plain, _weight, _label in flat:
        n = len(exact)
        for start in where.get(plain[0], ()):
            end = start + n
            if end > len(toks) or tuple(folded[start:end]) != plain:
                continue
            if any(a <= start and end <= b for a, b in spans_used):
                continue
            # Cues that fold alike ("hông"/"hổng", "bạn thân"/"bản thân"): the one written
            # as heard counts, whichever label it is (the first of equals, as before).
            # (Typed plain, "ban than" is the table's first: the menu's "bản thân".)
            factor, label, weight = max(
                (
                    (_span_weight(toks, folded, start, twin, plain), twin_label, twin_weight)
                    for twin, twin_weight, twin_label in twins[plain]
                ),
                key=lambda t: t[0],
            )
            spans_used.append((start, end))
            prev = hits.get(label)
            first = prev.first if prev else (start, end)
            hits[label] = CueHit(label, (prev.score if prev else 0.0) + weight * factor, first)
            break
    if near and fold(text) != text:
        _near_hits(toks, flat, spans_used, hits)
    return hits


# A cue heard one sound off counts a little more than one heard without its tone marks:
# enough that "hàn xóm nhà tôi" is still the neighbour, not the "nhà tôi" beside it.
NEAR_WEIGHT = 0.75
# Words that say little of a cue: a slip beside one of them is another phrase ("bị bể" is
# not "bị bỏ", "là em" not "nhà em").
_FUNCTION_WORDS = word_set(
    "bị là cho của có không được đã và với ở thì mà một các những cái con tôi tui em anh "
    "chị mình nó ổng bả"
)


def _one_slip(heard: Sequence[str], cue: Sequence[str]) -> bool:
    """Whether ``heard`` is ``cue`` with one syllable slipped: the others said as written
    (one of them a word of its own, not a function word), the slipped one with the same
    initial sound and the same tone."""
    slipped = [i for i, (h, c) in enumerate(zip(heard, cue, strict=True)) if h != c]
    if len(slipped) != 1:
        return False
    if all(c in _FUNCTION_WORDS for i, c in enumerate(cue) if i != slipped[0]):
        return False
    h, c = heard[slipped[0]], cue[slipped[0]]
    return tone_of(h) == tone_of(c) and syllable_parts(fold(h))[0] == syllable_parts(fold(c))[0]


def _near_hits(
    toks: list[str], flat: _Flat, spans_used: list[tuple[int, int]], hits: dict[str, CueHit]
) -> None:
    """Add cues of two or more words heard one sound off (text with tone marks), over words
    no cue has taken.

    The sound is that of place names (``place_sound``: initial, vowel and final, with the
    finals and initials the South says alike as one), and the tones must be the same: a
    word heard with another tone ("bạn thân" for "bản thân") is most likely another word,
    as in ``_word_weight``.
    """
    free = [not any(a <= i < b for a, b in spans_used) for i in range(len(toks))]
    heard_words = set(toks)
    for exact, _plain, weight, label in flat:
        n = len(exact)
        if n < 2:
            continue  # one syllable one sound off is another word too often ("gà", "gạo")
        if not any(w in heard_words for w in exact):
            continue  # all but one of its words must be heard as written
        for start in range(len(toks) - n + 1):
            if not all(free[start : start + n]):
                continue
            heard = toks[start : start + n]
            if not _one_slip(heard, exact):
                continue
            d = sound_distance(" ".join(heard), " ".join(exact), tones=False)
            if d is None or d > 1:
                continue
            free[start : start + n] = [False] * n
            prev = hits.get(label)
            first = prev.first if prev else (start, start + n)
            hits[label] = CueHit(label, (prev.score if prev else 0.0) + weight * NEAR_WEIGHT, first)
            break
