"""Yes/no answers that turn: a caller who takes an answer back, or qualifies a yes.

"Đúng rồi, ủa khoan, sai số nhà rồi": the answer after "ủa khoan" is the one to file on;
"Không, à mà đúng rồi": so is the one after "à mà"; "Không được... à được": a pause, then
"à" and a new answer. With nothing answered after the turn ("đúng rồi, ủa khoan") the first
answer was taken back and nothing replaced it: unclear.

"Đúng rồi, nhưng số nhà sai": the readback is not right, whatever the "đúng" said, so it is
a "no"; "đúng rồi, nhưng làm ơn tới lẹ giùm" still confirms (the caller only asks to hurry).
Matched on the raw lower-cased text: normalise() drops "à", "ờ" as hesitations.
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.text import MarkedPattern, fold, typed_plain, word_set

# (the pattern, whether nothing answered after it leaves the answer unclear)
_TURNS_MARKED = re.compile(
    r"\b(?:(?:à|ờ|ơ|á)\s+mà(?:\s+(?:không|hông|hổng))?|(?:ủa|à|ờ|ơ)\s+khoan(?:\s+(?:đã|khoan))*"
    r"|mà\s+thôi)\b"
)
# After a pause, "à" and an answer word: "không được... à được được".
# (Not "à không", "à nhầm": split_self_correction reads those.)
_PAUSED_AH_MARKED = re.compile(
    r"(?:\.\.\.|…|,)\s*(?:à|ờ)\s*,?\s+(?=\w)(?!(?:không|hông|hổng|nhầm|lộn|quên|sai)\b)"
)

_TURNS = MarkedPattern.of(_TURNS_MARKED)


def split_turn(text: str) -> tuple[str, bool] | None:
    """(what was said after the last turn in the answer, whether the turn was a taking back
    that leaves the answer unclear when nothing follows it), or None without a turn."""
    text = unicodedata.normalize("NFC", text).lower()
    plain = typed_plain(text)
    turns = list(_TURNS.for_text(text).finditer(text))
    # Typed plain, "a" may be "ạ" ("dạ đúng, a"): only a marked "à" after a pause turns.
    pauses = [] if plain else list(_PAUSED_AH_MARKED.finditer(text))
    marks = sorted(
        [(m, True) for m in turns] + [(m, False) for m in pauses], key=lambda x: x[0].end()
    )
    if not marks:
        return None
    last, takes_back = marks[-1]
    return text[last.end() :], takes_back


# A later clause of a yes that opens with these qualifies it.
_BUT = ("nhưng", "có điều", "chỉ là", "trừ", "mỗi tội")
BUT_PLAIN = tuple(fold(b) for b in _BUT)
# Words that say part of the readback is wrong ("tên bị ghi lộn", "số nhà sai rồi").
_WRONG = ("sai", "lon", "nham", "trat", "chua dung", "khong dung", "khong phai", "chua chinh xac")
_NOT_BEFORE_WRONG = frozenset({"khong", "chua", "chang", "hong", "dau"})
_NOT_AFTER_WRONG = frozenset({"gi", "dau"})
# Words that only ask for haste or help: the yes stands.
_HASTE = ("nhanh", "le", "gap", "som", "mau", "giup", "gium", "dum", "lam on", "cang som")
# "X thì đúng mà Y sai": a bare "mà" contrasts only when a wrong word ends the answer.
_MA_WRONG_END = re.compile(
    r"\bma\b.*\b(?:sai|lon|nham|trat)(?:\s+(?:roi|het|ne|a|do|em|chi|anh|nha|nhe|ca))*\s*$"
)


# A part of the readback said to be wrong, in any clause: "cái số nhà bị trật", "đọc thiếu
# một số", "là Hoa chớ hổng phải Hòa" (folded).
_WRONG_DETAIL = re.compile(
    r"\b(?:sai|lon|nham|trat|thieu)\b(?!\s+(?:gi|dau))|\b(?:cho|chu)\s+(?:khong|hong|hok)\s+phai\b"
)


# A part of the readback said not to be what was read: "cái hẻm hông phải hẻm đó", "tên
# không phải Lan", "quận chưa đúng" (folded). Only with a part named: "không phải lo" is
# "no need to worry".
_PART = r"(?:ten|so|hem|duong|phuong|quan|xa|huyen|dia chi|nha|ap|khu pho|ngo|ngach|kiet|thon)"
_NOT_IT = r"(?:khong|hong|hok|chua|chang|ko) (?:phai|dung|chinh xac)"
_PART_DENIED = re.compile(
    rf"\b{_PART}(?: \w+){{0,2}} {_NOT_IT}\b|\b(?:khong|hong|hok|chang|ko) phai (?:la )?"
    rf"(?:cai )?{_PART}\b"
)
# A "but" that only says when to call ("nhưng gọi buổi tối", "có điều cuối tuần mới gọi"):
# the yes stands. Not where another number or a change comes with it ("số khác", "đổi số").
_CALL_WORDS = frozenset({"goi", "dien", "nhan", "lien"})
_CALL_TIME = re.compile(
    r" (?:buoi (?:toi|sang|trua|chieu)|ban (?:ngay|dem)|cuoi tuan|gio (?:trua|hanh chinh|lam)"
    r"|(?:toi|chieu|trua) (?:nay|mai)|sang mai|ngay mai|(?:sau|truoc|tu) \w+(?: \w+)? gio) "
)
# ("mới" alone is "only then": "cuối tuần mới gọi"; "số mới" is a new number.) Nor where it
# names a number or a person to call ("gọi số của chồng tôi", "gọi cho con trai tôi"): a
# yes to this number cannot be told from it.
_OTHER_NUMBER = frozenset({"khac", "kia", "doi", "nham", "lon", "so", "cua", "chong", "vo"})
_SOMEONE = (" con trai ", " con gai ", " ong xa ", " ba xa ", " nguoi nha ")


def names_another(tail: str) -> bool:
    """Whether a "but" clause (folded) names a number or a person to call."""
    return bool(_OTHER_NUMBER & set(tail.split())) or any(w in f" {tail} " for w in _SOMEONE)


def asks_call_time(tail: str) -> bool:
    """Whether a "but" clause (folded, space-padded) only asks when to call."""
    words = tail.split()
    return (
        _CALL_TIME.search(tail) is not None
        and bool(_CALL_WORDS & set(words))
        and not names_another(tail)
    )


def names_wrong_detail(text: str) -> bool:
    """Whether ``text`` says part of the readback is wrong, not negated ("không sai")."""
    folded = " ".join(
        re.sub(r"[^\w\s]", " ", fold(unicodedata.normalize("NFC", text).lower())).split()
    )
    for m in _WRONG_DETAIL.finditer(folded):
        before = folded[: m.start()].split()[-1:]
        if not (before and before[0] in _NOT_BEFORE_WRONG):
            return True
    return False


def qualified_yes(text: str) -> str | None:
    """For an answer that said yes: "no" where a "but" clause says something is wrong, "yes"
    where it only asks to hurry, "unclear" where it qualifies otherwise, None without one."""
    raw = unicodedata.normalize("NFC", text).lower()
    plain = typed_plain(raw)
    folded = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(raw)).split()) + " "
    if _MA_WRONG_END.search(folded):
        return "no"
    # "Đúng mà cái số nhà bị trật, là hai mươi mốt": a "mà" clause naming a wrong part.
    contrast = re.search(r" ma ", folded)
    if contrast and names_wrong_detail(folded[contrast.end() :]):
        return "no"
    if contrast and _PART_DENIED.search(folded[contrast.end() :]):
        return "no"  # "đúng mà cái hẻm hông phải hẻm đó"
    # The "but" must follow a pause or the yes itself: "nhưng" opens the next clause.
    seen = re.sub(r"[^\w\s,.;:!?…]", " ", fold(raw) if plain else raw)
    buts = BUT_PLAIN if plain else _BUT
    hits = [m for b in buts for m in re.finditer(rf"(?:^|[,.;:!?…]|\s)\s*{b}\b", seen)]
    if not hits:
        return None
    tail = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(seen[min(m.end() for m in hits) :])).split())
    tail += " "
    words = tail.split()
    for phrase in _WRONG:
        for m in re.finditer(rf" {phrase} ", tail):
            before = tail[: m.start()].split()[-1:]
            after = tail[m.end() :].split()
            if before and before[0] in _NOT_BEFORE_WRONG and " " not in phrase:
                continue  # "nhưng không sai": no wrong said
            if after[:1] and after[0] in _NOT_AFTER_WRONG:
                continue  # "sai gì đâu", "sai đâu"
            return "no"
    haste = any(f" {h} " in tail for h in _HASTE)
    if words and (haste or asks_call_time(tail)) and not names_another(tail):
        return "yes"  # (not "nhưng gọi giùm số của con tôi": another number)
    return "unclear"


def one_sound_off(word: str) -> set[str]:
    """``word`` (marked) with one consonant as a recogniser confuses it: s/x, ch/tr,
    d/gi/r/v, kh/h, ph/f opening it, n/ng/nh or c/t/ch closing it. Tones and vowels are
    kept: another tone or vowel is another word too often ("sài", "đụng", "cô")."""
    out: set[str] = set()
    for group in (("s", "x"), ("ch", "tr"), ("d", "gi", "r", "v"), ("kh", "h"), ("ph", "f")):
        for a in (g for g in group if word.startswith(g)):
            out |= {b + word[len(a) :] for b in group if b != a}
    for group in (("ng", "n", "nh"), ("c", "t", "ch")):
        for a in (g for g in group if word.endswith(g) and not word.endswith("h" + g)):
            out |= {word[: -len(a)] + b for b in group if b != a}
    return out


# Real words one consonant from an answer word: heard, they are those words ("khôn": wise,
# "trưa": noon, "chật": tight, "dâng": offer, "vân" as in a name).
_NEAR_REAL = word_set("khôn hôn trưa chật dâng vân")


def one_sound_slips() -> dict[str, str]:
    """Each slip of an answer word → that word; a slip one sound from words of both answers
    tells neither, and is left out."""
    yes = {s: w for w in ("đúng", "được", "phải", "vâng") for s in one_sound_off(w)}
    no = {s: w for w in ("sai", "không", "chưa", "trật") for s in one_sound_off(w)}
    return {
        s: w for s, w in (yes | no).items() if not (s in yes and s in no) and s not in _NEAR_REAL
    }
