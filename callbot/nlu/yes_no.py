"""Yes/no answers, to the readback ("Số điện thoại là …, đúng không ạ?") and to closed questions.

"không" is both "no" and the digit zero; only the question tells which, so the dialog passes
``expect``: with ``expect="yes_no"`` a bare "không" is "no"; with anything else (the bot
asked for digits) an utterance made only of number words is not a yes/no answer.
"""

from __future__ import annotations

import re

from callbot.nlu.extraction import Extraction
from callbot.nlu.numbers import NUMBER_WORDS
from callbot.nlu.text import fold, normalise, word_set

_CLAUSE_MARK = re.compile(r"[,.;:!?…]")
_BREAK = "qqbreakqq"

YES = "yes"
NO = "no"
EXPECT_YES_NO = "yes_no"
UNCLEAR = 0.45  # below ivr.MIN_CONFIDENCE: asked again

# Folded two-word phrases, checked before single words: a negated "yes" word is "no" and a
# negated "no" word is "yes" ("không sai" = correct).
_NEGATORS = frozenset({"khong", "chua", "chang", "hong", "ko", "k", "dau"})
_YES_WORDS = word_set(
    "dung vang phai u um uh uhm co roi ok oke okay duoc chuan yes dong chinh chac"
)
_NO_WORDS = word_set("khong ko hong hok sai chua nham no khoi")
# Acknowledgement particles: yes when nothing else is said ("dạ", "ờ").
_WEAK_YES = frozenset({"da", "o", "a"})
# Phrases checked before single words ("sai rồi" is no although "rồi" alone is yes).
_NO_PHRASES = (
    "chua dung",
    "chua chinh xac",
    "khong chinh xac",
    "chua phai",
    "khong phai",
    "sai roi",
    "nham roi",
)
_YES_PHRASES = ("khong sai", "chua sai", "khong nham", "chinh xac", "dung roi", "dong y")
# Hesitant or puzzled answers ("chắc vậy", "không biết nữa", "gì ạ?", "đúng hả?") are not a
# firm yes or no, whatever answer words they contain: unclear, and the bot asks again.
_HEDGES = (
    "khong biet",
    "hong biet",
    "khong ro",
    "khong nho",
    "khong hieu",
    "chua chac",
    "co le",
    "hinh nhu",
    "chac vay",
    "chac la",
    "chac the",
    "chac khong",
    "de xem",
    "de toi xem",
    "de em xem",
    "de con xem",
    "cai gi",
    "gi a",
    "gi vay",
    "gi the",
    "noi lai",
    "lap lai",
    "nghe khong ro",
    "sao a",
    "phai khong",
    "dung khong",
    "khong ta",
    "hả",
    "hở",
    "nhỉ",
    "chắc",
    "hay sao",
    "khong chac",
    "cung duoc",
    "sao cung duoc",
    "tùy",
    "tuỳ",
)


def yes_no_from_key(digit: str) -> str | None:
    """IVR convention used by the readback prompt: 1 = đúng (yes), 2 = sai (no)."""
    return {"1": YES, "2": NO}.get(digit)


def extract_yes_no(text: str, *, expect: str = EXPECT_YES_NO) -> Extraction | None:
    # Whisper's punctuation separates answers: "Không, sai rồi." is no, "không sai" is yes.
    # A clause mark becomes a token that no phrase matches across.
    acc = normalise(_CLAUSE_MARK.sub(f" {_BREAK} ", text)).split()
    fol = [fold(t) for t in acc]
    if not any(t != _BREAK for t in fol):
        return None
    if expect != EXPECT_YES_NO and all(
        t in NUMBER_WORDS or t.isdigit() or t == _BREAK for t in fol
    ):
        return None  # digits, not an answer: "không chín không…"
    padded = " " + " ".join(fol) + " "
    exact = " " + " ".join(acc) + " "
    hedged = any(f" {h} " in (exact if h != fold(h) else padded) for h in _HEDGES)
    if hedged and " chac chan " not in padded:  # "chắc chắn" is sure, not a hedge
        return Extraction(YES, UNCLEAR, " ".join(t for t in acc if t != _BREAK))
    # Earliest decisive cue wins: callers lead with the answer ("dạ không, sai rồi").
    cues: list[tuple[int, str, int]] = []  # (token position, answer, tokens long)
    for phrases, answer in ((_NO_PHRASES, NO), (_YES_PHRASES, YES)):
        for phrase in phrases:
            pos = padded.find(f" {phrase} ")
            if pos != -1:
                cues.append((padded[: pos + 1].count(" ") - 1, answer, phrase.count(" ") + 1))
    covered = {p + k for p, _, n in cues for k in range(n)}
    for i, tok in enumerate(fol):
        if i in covered:
            continue
        nxt = fol[i + 1] if i + 1 < len(fol) else ""
        if tok in _NEGATORS and nxt in _YES_WORDS:
            cues.append((i, NO, 2))
            covered |= {i, i + 1}
        elif tok in _NEGATORS and nxt in ("sai", "nham"):
            cues.append((i, YES, 2))
            covered |= {i, i + 1}
        elif tok in _NO_WORDS:
            cues.append((i, NO, 1))
        elif tok in _YES_WORDS:
            cues.append((i, YES, 1))
    if not cues:
        if any(t in _WEAK_YES for t in fol) and len(fol) <= 3:
            return Extraction(YES, 0.6, " ".join(t for t in acc if t != _BREAK))
        return None
    cues.sort()
    first_pos, answer, length = cues[0]
    agree = all(a == answer for _, a, _ in cues)
    heard = " ".join(t for t in acc[first_pos : first_pos + length] if t != _BREAK)
    # Cues that disagree ("không sai rồi": Whisper dropped the comma of "Không, sai rồi", or
    # the caller meant "not wrong") are an unclear answer, below the dialog's acceptance
    # threshold: the bot asks again rather than file a ticket the caller did not confirm.
    return Extraction(answer, 0.92 if agree else UNCLEAR, heard)
