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
from callbot.nlu.text import HESITATIONS, contains_phrase, fold, normalise, split_self_correction

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


# "Chị gái tôi ở cùng xóm": where a relative lives, not a neighbour.
_LIVES_AT = ("o", "song")  # folded: "ở", "sống"
_FAMILY_CUES = {FAMILY: _CUES[FAMILY]}  # one table object: score_cues keeps it sorted
_OWN = frozenset(("toi", "tui", "em", "minh", "con", "chau"))


def _kin_who_lives_there(norm: str, hits: dict[str, CueHit], full: float) -> bool:
    """Whether the neighbour cue only says where a relative named before it lives."""
    toks = norm.split()
    start = hits[NEIGHBOUR].first[0]
    if FAMILY not in hits or start == 0 or fold(toks[start - 1]) not in _LIVES_AT:
        return False
    family = score_cues(" ".join(toks[: start - 1]), _FAMILY_CUES).get(FAMILY)
    if family is None or family.score < full:
        return False
    # Only a relative said as the caller's own ("chị gái tôi"): "ông chú ở sát vách" is an
    # old man next door, the title not a tie.
    end = family.first[1]
    return fold(toks[end - 1]) in _OWN or (end < len(toks) and fold(toks[end]) in _OWN)


def subject_from_key(digit: str) -> str | None:
    if len(digit) == 1 and digit in "1234":
        return SUBJECTS[int(digit) - 1]
    return None


def extract_subject(text: str) -> Extraction | None:
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
    return _read(norm)


def _settled_on(before: str, after: str) -> Extraction | None:
    """Who the caller named after correcting themselves. The person taken back, named
    again after the mark, is why, not who: "Cho mẹ tôi, à không, cho tôi, mẹ tôi ổn rồi"."""
    found = extract_subject(after)
    dropped = extract_subject(before)
    if found is None or dropped is None or found.value != dropped.value:
        return found
    return _read(normalise(after), dropped=found.value) or found


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
    exact = EXACT_CUES_PLAIN if fold(norm) == norm else EXACT_CUES
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
    full = 1.0 if fold(norm) == norm else 2.0
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
    if best.score < _LEAST_SCORE:
        return None
    if OTHER in hits and any(contains_phrase(fold(norm), fold(p)) for p in _STRANGER):
        best = hits[OTHER]
    if best.score < 2.0 and not_an_answer_yet(norm):
        return None  # "để tôi coi": the "tôi" of a caller still thinking is not "self"
    confidence = 0.5 + 0.45 * min(best.score, 2.0) / 2.0
    return Extraction(best.label, round(confidence, 3), best.heard(norm.split()))
