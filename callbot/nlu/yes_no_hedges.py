"""Hedged and puzzled yes/no answers: "chắc vậy", "không biết nữa", "gì ạ?", "hình như sai".

A hedge is no firm answer whatever answer words it holds (yes_no.py reads it as unclear and
the bot asks again); a softener ("hình như", "chắc là") is read past, so that a softened no
stays a no and a softened yes never confirms a ticket.
"""

from __future__ import annotations

import re

from callbot.nlu.text import fold, fold_word

# A hedged but committed yes ("chắc là đúng", "hình như đúng rồi"): just above the
# acceptance threshold (extraction.ACCEPT_CONFIDENCE, 0.5) and below hearing.WEAK_READING
# (0.6), so that it counts only from a transcript the recogniser was sure of.
HEDGED_YES = 0.55

# The token a clause mark becomes in yes_no.py's reading, so that no phrase matches across
# it; here because a hedge ("chắc không?") may end at one.
CLAUSE_BREAK = "qqbreakqq"

# Hesitant or puzzled answers ("chắc vậy", "không biết nữa", "gì ạ?", "đúng hả?") are not a
# firm yes or no, whatever answer words they contain: unclear, and the bot asks again.
_HEDGES = (
    "chua chac",
    "chua biet",  # undecided: "chắc… chưa biết nữa", not a "chưa" (not yet) that says no
    "de xem",
    "de toi xem",
    "de em xem",
    "de con xem",
    "de coi",
    "de toi coi",
    "de tui coi",
    "de em coi",
    "cai gi",
    "gi a",
    "gi vay",
    "gi the",
    "noi lai",
    "doc lai",
    "lap lai",
    "nghe khong ro",
    "gần đúng",
    "khong nghe",
    "quên",
    "chua nghe",
    "sao a",
    "phai khong",
    "dung khong",
    "khong ta",
    "hả",
    "hở",
    "nhỉ",
    "hay sao",
    "sao cung duoc",
    "tùy",
    "tuỳ",
    "khong kip",
    "nhanh qua",
    # Checking the line is no answer: "alo, alo, nghe không em?".
    "alo",
    "a lo",
    "nghe khong",
    "nghe ko",
    "nghe hong",
    "co nghe",
    # Puzzled: "sao dzậy?", "ủa vậy là sao".
    "sao vay",
    "sao dzay",
    "sao day",
    "la sao",
    "sao ha",
)
# Not knowing, however negated: "hổng hiểu", "chẳng nhớ", "không chắc".
_HEDGES += tuple(
    f"{neg} {verb}"
    for neg in ("khong", "hong", "chang", "cha", "ko")
    for verb in ("biet", "ro", "nho", "hieu", "chac")
)
# Softeners: "hình như sai thì phải" is a no said softly (the bot only asks what is wrong),
# but "chắc là đúng" must not confirm a ticket: read without them, a no stays a no and a
# yes becomes unclear. (Not "chắc chắn": sure.)
# "chắc vậy" ("probably so") is one too: alone it answers nothing (unclear), after an answer
# ("tôi nghĩ là đúng, chắc vậy") it softens it.
_SOFTENERS = (
    "hình như là",
    "hình như",
    "có lẽ là",
    "có lẽ",
    "chắc là vậy",
    "chắc là thế",
    "chắc vậy",
    "chắc dzậy",
    "chắc thế",
    "chắc là",
    "chắc",
    "thì phải",
)
# "chắc" is also "sure": "chắc không?" ending a clause may ask "are you sure?".
_SURE_ASKED = re.compile(
    rf"\bchac (?:khong|hong|ko)(?: (?:a|em|chi|anh|ha|vay|ta))*(?: {CLAUSE_BREAK}|$)"
)
# ("em nói lại đi" without "để" asks the agent, addressed as "em", to repeat: a hedge.)
_RESTATING = re.compile(
    r" (?:(?:để|de) (?:tôi|tui|em|con|mình|toi|minh)|tôi|tui|toi)"
    r" (?:nói|đọc|noi|doc) (?:lại|lai)(?= )"
)


# "đọc lại" followed by a verdict reports on the readback ("chị đọc lại đúng hết rồi", "em
# đọc lại sai tên"): no request to read it again, so no hedge.
_READBACK_JUDGED = re.compile(
    r" (?:đọc|nói|lặp|doc|noi|lap) (?:lại|lai)(?: (?:hết|het))?"
    r"(?= (?:đúng|chính xác|chuẩn|sai|trật|lộn|nhầm|thiếu|dung|chinh xac|chuan|sai|trat|lon"
    r"|nham|thieu|(?:không|hông|khong|hong) (?:có )?(?:sai|nhầm|nham)"
    r"|(?:không|hông|chưa|khong|hong|chua) (?:đúng|dung)) )"
)
# Thinking aloud before answering ("để xem… ừ, đúng rồi"): a hedge only where nothing is
# answered after it (yes_no.py reads what follows).
_DELIBERATION = re.compile(
    r"\bde (?:(?:toi|tui|em|con|minh|chi|anh) )?(?:(?:nghi|nho) )?(?:xem|coi|nghi|nho)"
    r"(?: (?:lai|nao|da|thu|chut|cai|coi|xem|ha))*\b"
)


def deliberation_end(plain: list[str], clause_break: str = CLAUSE_BREAK) -> int | None:
    """The index of the clause break closing the last deliberation ("để xem", "để tôi coi")
    in ``plain`` (folded tokens), or None without one closed by a break."""
    joined = " ".join(plain)
    last = None
    for m in _DELIBERATION.finditer(joined):
        last = m
    if last is None:
        return None
    start = joined[: last.end()].count(" ") + 1  # tokens up to the deliberation's end
    for i in range(start, len(plain)):
        if plain[i] == clause_break:
            return i
        if plain[i] not in ("a", "da", "o"):
            return None  # the clause goes on: "để xem đúng không"
    return None


# The caller did not hear the question ("nói gì tui hổng nghe", "không nghe rõ"): its "không"
# is not a no. Only where the clause ends there: "hổng nghe ai nói vậy" is a no.
_NOT_HEARD = re.compile(
    rf"\b(?:khong|hong|hok|chua) nghe(?: (?:ro|gi|duoc|kip|thay|het))*(?: (?:a|chi|em|anh))?"
    rf"\s*(?:{CLAUSE_BREAK}|$)"
)


_FORGOT_TO_SAY = re.compile(r" (?:quên|quen) (?=(?:nói|kể|dặn|báo|noi|ke|dan|bao) )")


def is_hedged(exact: str, folded: str, plain: list[str]) -> bool:
    """Whether the answer hedges or is puzzled. ``exact`` and ``folded``: its normalised
    tokens (clause breaks kept) joined and padded with spaces, as written and folded;
    ``plain``: the folded tokens."""
    # Typed without any marks, "chac dung" is "chắc đúng": the marked hedges count folded.
    # "để tôi nói lại": the caller offers to say it again (after a "no"), not puzzlement.
    hedge_exact = _READBACK_JUDGED.sub(" ", _RESTATING.sub(" ", exact))
    # "mà con quên nói là …": the caller adds what they forgot to say, not that they forget.
    hedge_exact = _FORGOT_TO_SAY.sub(" ", hedge_exact)
    hedge_folded = " " + fold(hedge_exact.strip()) + " "
    if exact == folded:
        found = any(f" {fold(h)} " in hedge_folded for h in _HEDGES)
    else:
        found = any(f" {h} " in (hedge_exact if h != fold(h) else hedge_folded) for h in _HEDGES)
    # "cũng được" ("fine, whatever") opening the answer hedges; after a firm yes ("được chớ,
    # gọi số này cũng được") it agrees.
    found = found or " cung duoc " in hedge_folded.split(CLAUSE_BREAK)[0]
    if _NOT_HEARD.search(" ".join(plain)):
        return True
    return found or _SURE_ASKED.search(" ".join(plain)) is not None


def without_softeners(acc: list[str], *, typed_plain: bool) -> list[str]:
    """The tokens without the softening phrases ("hình như", "chắc là", "thì phải")."""
    seen = [fold_word(t) for t in acc] if typed_plain else acc
    out, i = [], 0
    while i < len(acc):
        for soft in _SOFTENERS:
            words = (fold(soft) if typed_plain else soft).split()
            after = fold_word(acc[i + len(words)]) if i + len(words) < len(acc) else ""
            if seen[i : i + len(words)] == words and after != "chan":
                i += len(words)
                break
        else:
            out.append(acc[i])
            i += 1
    return out
