"""Vietnamese number words ↔ numbers, as callers say them and recognisers write them.

Everything here works on *folded* tokens (no diacritics): recognisers often drop tone marks,
and the number vocabulary stays unambiguous without them, with one exception resolved by
position: "mười" (ten) and "mươi" (tens multiplier) both fold to "muoi"; after a digit 2–9 it
is the multiplier, otherwise it is ten. This is how a listener resolves it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callbot.nlu.text import fold_word, tokens, word_set

# Folded digit words. "mốt" (1), "tư" (4), "lăm"/"nhăm" (5) are the forms used after a tens
# word; callers also use them on their own when reading digits, so they are digits anywhere.
DIGIT_WORDS: dict[str, int] = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "nham": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
# "mười" (ten) and "mươi" (tens) fold alike; when the recogniser wrote the tone we keep it.
TEN_UNTONED = "muoi"
TEN_TONED = "muoi=10"
TENS_TONED = "muoi=x10"
CHUC = "chuc"
_TONED_TENS = {"mười": TEN_TONED, "mươi": TENS_TONED}
# Tone slips a recogniser writes for "mười"/"mươi" that are no word of their own ("mừi
# lăm"): read like the untoned "muoi", so the position says ten or tens.
_TEN_SLIPS = {"mừi": TEN_UNTONED, "mưi": TEN_UNTONED}
# "mốt", "lăm", "nhăm" and "tư" are unit forms: never the tens digit before "mươi".
_NEVER_TENS_DIGIT_WORDS = {"mot": (1,), "lam": (5,), "nham": (5,), "tu": (4,)}
_UNIT_ONLY_WORDS = frozenset({"lam", "nham", "tu"})
_UNIT_FORMS = _UNIT_ONLY_WORDS | {"mot"}
HUNDRED = "tram"
EMPTY_TENS = frozenset({"linh", "le"})  # "ba trăm linh năm" = 305
SCALES: dict[str, int] = {"ty": 10**9, "trieu": 10**6, "nghin": 1000, "ngan": 1000}
NUMBER_WORDS = (
    frozenset(DIGIT_WORDS)
    | {TEN_UNTONED, TEN_TONED, TENS_TONED, CHUC, HUNDRED}
    | EMPTY_TENS
    | set(SCALES)
)

# Digit words a recogniser wrote one sound off: a final consonant added or dropped
# ("chính", "bống", "bố", "mộ"), a vowel glide swapped ("sáo", "hay", "bải"). Each is (or
# may be) a word of its own, so it is a digit only where its neighbours say so: inside a run
# of digits (phone) or in the counting position before "người" (household). Keys are as
# written, values the folded digit word; ``DIGIT_SLIPS_PLAIN`` are the same typed plain.
DIGIT_SLIPS: dict[str, str] = {
    "chính": "chin",
    "bống": "bon",
    "bố": "bon",
    "mộ": "mot",
    "sáo": "sau",
    "hay": "hai",
    "hài": "hai",
    "bải": "bay",
    "bái": "bay",
}
DIGIT_SLIPS_PLAIN: dict[str, str] = {
    fold_word(w): d for w, d in DIGIT_SLIPS.items() if fold_word(w) not in DIGIT_WORDS
}
# The spellings of number words as they are written: any other toned form that folds to
# one ("bả", "bà", "nằm") is another word heard there, or a slip of the digit.
NUMBER_SPELLINGS = word_set(
    "không một mốt hai ba bốn tư năm lăm nhăm sáu bảy bẩy tám chín mười mươi chục trăm "
    "linh lẻ nghìn ngàn triệu tỷ tỉ mừi mưi"
)


_DIGIT_SPOKEN = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
# The unit after a tens word takes these forms ("hai mươi mốt", "ba mươi tư", "bốn mươi lăm").
_UNIT_AFTER_TENS = {1: "mốt", 4: "tư", 5: "lăm"}


@dataclass(frozen=True)
class NumberPhrase:
    """A number spoken as one phrase, and the digits a listener would write for it."""

    value: int
    digits: str  # "345" for "ba trăm bốn mươi lăm", "050" for "không trăm năm mươi"
    start: int  # token index of the first word
    end: int  # token index after the last word


def _digit(tokens: list[str], i: int) -> int | None:
    return DIGIT_WORDS.get(tokens[i]) if i < len(tokens) else None


@dataclass(frozen=True)
class Reading:
    """How to resolve the two ambiguities a listener resolves by prosody.

    ``unit_after_tens``: "chín mươi tám lăm" is 98, 5 (True) or 90, 85 (False).
    ``muoi_multiplies``: an untoned "muoi" after a digit is "mươi" (True: "bảy muoi" = 70) or
    "mười" (False: "bảy, muoi tám" = 7, 18).
    """

    unit_after_tens: bool = True
    muoi_multiplies: bool = True


GREEDY = Reading()
READINGS = (GREEDY, Reading(False, True), Reading(True, False), Reading(False, False))


def _is_multiplier(tokens: list[str], i: int, d: int, reading: Reading) -> bool:
    """Is token i a tens multiplier after the digit d?"""
    tok = tokens[i] if i < len(tokens) else ""
    if tok == CHUC:
        return d >= 1
    if d < 2 or d in _NEVER_TENS_DIGIT_WORDS.get(tokens[i - 1], ()):  # "một mươi" is not said
        return False
    return tok == TENS_TONED or (tok == TEN_UNTONED and reading.muoi_multiplies)


def _starts_group(tokens: list[str], i: int, reading: Reading) -> bool:
    """True when the digit at i opens its own tens/hundreds group ("năm trăm", "sáu mươi")."""
    d = _digit(tokens, i)
    if d is None:
        return False
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    return nxt == HUNDRED or _is_multiplier(tokens, i + 1, d, reading)


def _tens_and_units(tokens: list[str], i: int, reading: Reading) -> tuple[int, int] | None:
    """Parse "mười [u]", "d mươi [u]", "d chục [u]" at i → (value 10..99, end)."""
    if i >= len(tokens):
        return None
    d = _digit(tokens, i)
    if tokens[i] in (TEN_TONED, TEN_UNTONED):
        value, j = 10, i + 1
    elif d is not None and _is_multiplier(tokens, i + 1, d, reading):
        value, j = d * 10, i + 2
    else:
        return None
    u = _digit(tokens, j)
    nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
    if (
        u is not None
        and u != 0
        # Unit-only forms ("hai mươi mốt", "bốn mươi lăm") belong to the tens in any reading.
        and (reading.unit_after_tens or value == 10 or tokens[j] in _UNIT_FORMS)
        and not _starts_group(tokens, j, reading)
        # "chín mươi, tám lăm": a digit followed by a unit-only word is a colloquial pair.
        and nxt not in _UNIT_ONLY_WORDS
    ):
        value, j = value + u, j + 1
    return value, j


def _tens_after_hundred(tokens: list[str], j: int, reading: Reading) -> tuple[int, int] | None:
    """The tens said without "mươi" after "trăm": "hai trăm mốt" is 210, "một trăm hai
    mốt" 121 (a digit and a unit form, "hai mốt" for "hai mươi mốt"); "linh"/"lẻ" say 201."""
    d = _digit(tokens, j)
    if d is None or d == 0 or _starts_group(tokens, j, reading):
        return None
    nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
    if nxt in _UNIT_FORMS and d >= 2 and not _starts_group(tokens, j + 1, reading):
        return d * 10 + DIGIT_WORDS[nxt], j + 2
    # "mốt", "tư", "lăm" are never a digit of their own after "trăm": the tens, whatever
    # follows ("hai trăm mốt, ba bốn…"); another digit may be read digit by digit.
    if _digit(tokens, j + 1) is None or tokens[j] in _UNIT_FORMS:
        return d * 10, j + 1
    return None


def _below_thousand(tokens: list[str], i: int, reading: Reading) -> tuple[int, str, int] | None:
    """Parse one group below 1000 at i → (value, digits as spoken, end)."""
    d = _digit(tokens, i)
    if d is not None and i + 1 < len(tokens) and tokens[i + 1] == HUNDRED:
        value, j = d * 100, i + 2
        if j < len(tokens) and tokens[j] in EMPTY_TENS and _digit(tokens, j + 1) is not None:
            value, j = value + DIGIT_WORDS[tokens[j + 1]], j + 2
        else:
            rest = _tens_and_units(tokens, j, reading) or _tens_after_hundred(tokens, j, reading)
            if rest is not None:
                value, j = value + rest[0], rest[1]
        return value, f"{value:03d}", j
    tens = _tens_and_units(tokens, i, reading)
    if tens is not None:
        return tens[0], f"{tens[0]:02d}", tens[1]
    if d is not None:
        return d, str(d), i + 1
    return None


def parse_number_at(tokens: list[str], i: int, reading: Reading = GREEDY) -> NumberPhrase | None:
    """The longest number phrase starting at number token i, or None if none starts there.

    ``tokens`` are folded tokens, ideally from :func:`number_tokens` (which keeps "mười" and
    "mươi" apart when the recogniser wrote their tones). Handles "ba trăm linh năm",
    "hai mươi mốt", "mười lăm", "hai nghìn không trăm linh năm", "một triệu hai trăm
    nghìn"; a numeral ("345") is a phrase of its own.
    """
    if i >= len(tokens):
        return None
    if tokens[i].isdigit():
        return NumberPhrase(int(tokens[i]), tokens[i], i, i + 1)
    first = _below_thousand(tokens, i, reading)
    if first is None:
        return None
    value, digits, j = first
    total, last_scale, scaled = 0, 10**12, False
    while j < len(tokens) and tokens[j] in SCALES and SCALES[tokens[j]] < last_scale:
        last_scale = SCALES[tokens[j]]
        total += value * last_scale
        value, j, scaled = 0, j + 1, True
        if j < len(tokens) and tokens[j] in EMPTY_TENS and _digit(tokens, j + 1) is not None:
            value, j = DIGIT_WORDS[tokens[j + 1]], j + 2  # "hai nghìn lẻ năm"
            break
        group = _below_thousand(tokens, j, reading)
        if group is None:
            break
        value, _, j = group
    total += value
    return NumberPhrase(total, str(total) if scaled else digits, i, j)


def number_tokens(words: list[str]) -> list[str]:
    """Fold normalised tokens for number parsing, keeping toned "mười"/"mươi" apart."""
    return [_TONED_TENS.get(w) or _TEN_SLIPS.get(w) or fold_word(w) for w in words]


def words_to_number(text: str) -> int | None:
    """The number a whole utterance says ("mười hai" → 12, "12" → 12), None otherwise."""
    toks = number_tokens(tokens(text))
    if not toks:
        return None
    phrase = parse_number_at(toks, 0)
    if phrase is None or phrase.end != len(toks):
        return None
    return phrase.value


def find_numbers(tokens: list[str], reading: Reading = GREEDY) -> list[NumberPhrase]:
    """Every number phrase in a folded token list, left to right, not overlapping."""
    found: list[NumberPhrase] = []
    i = 0
    while i < len(tokens):
        phrase = parse_number_at(tokens, i, reading)
        if phrase is None:
            i += 1
        else:
            found.append(phrase)
            i = phrase.end
    return found


def _group_words(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; ``full`` says "không trăm"/"linh" inside a larger number."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGIT_SPOKEN[hundreds], "trăm"]
    if rest == 0:
        return words
    tens, unit = divmod(rest, 10)
    if tens == 0:
        if hundreds or full:
            words.append("linh")
        words.append(_DIGIT_SPOKEN[unit])
    elif tens == 1:
        words.append("mười")
        if unit:
            words.append("lăm" if unit == 5 else _DIGIT_SPOKEN[unit])
    else:
        words += [_DIGIT_SPOKEN[tens], "mươi"]
        if unit:
            words.append(_UNIT_AFTER_TENS.get(unit, _DIGIT_SPOKEN[unit]))
    return words


def number_to_words(n: int) -> str:
    """Standard reading of 0 ≤ n < 10**12 ("305" → "ba trăm linh năm")."""
    if not 0 <= n < 10**12:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return "không"
    words: list[str] = []
    for scale_word, scale in (("tỷ", 10**9), ("triệu", 10**6), ("nghìn", 1000), ("", 1)):
        group, n = divmod(n, scale)
        if group:
            words += _group_words(group, full=bool(words))
            if scale_word:
                words.append(scale_word)
    return " ".join(words)


def digits_to_words(digits: str) -> str:
    """Digit by digit, as a readback of a phone number ("0903" → "không chín không ba")."""
    return " ".join(_DIGIT_SPOKEN[int(c)] for c in digits if c.isdigit())


# Counters other than "người" ("bốn mạng", "ba mống") and "người"/"mình" heard one sound
# off ("ba ngườ", "một mìn"): read as "người"/"mình" right after a number word only.
_COUNTER_FORMS = {"mạng": "người", "mống": "người", "ngườ": "người", "ngừ": "người", "mìn": "mình"}
_COUNTERS = frozenset({"người", "mình", "khẩu", "nhân"})
_COUNTERS_PLAIN = frozenset({"nguoi", "khau"})  # ("mình", "nhân" typed plain are other words)
# What may follow a count that ends the answer ("bống người thôi", "chính người ạ").
_COUNT_TAIL = word_set("ạ à a thôi tất cả nha nhé hà đó luôn vậy hết")
_WORD = re.compile(r"\w+", re.UNICODE)


def counted_slips(text: str) -> str:
    """Number words heard one sound off, read as digits in the counting position only:
    before a counter that ends the answer ("chính người") or after "mười" ("mười bố
    người"), so "bố tôi" and "chính người nhà tôi" stay words."""
    words = list(_WORD.finditer(text))
    # "mừi ba người": a tone slip of "mười"/"mươi" (no word of its own), read as either.
    low = [TEN_UNTONED if m.group().lower() in _TEN_SLIPS else m.group().lower() for m in words]
    for i, w in enumerate(low[:-1]):  # typed plain, "mui" (mũi, mùi) before a digit word
        if w == "mui" and low[i + 1] in DIGIT_WORDS:
            low[i] = TEN_UNTONED
    for i, w in enumerate(low[:-1]):  # "mường người": "mười" with its final sound off
        if fold_word(w) == "muong" and fold_word(low[i + 1]) in _COUNTERS_PLAIN:
            low[i] = TEN_UNTONED
    for i, w in enumerate(low):
        if (
            w in _COUNTER_FORMS
            and i
            and (fold_word(low[i - 1]) in NUMBER_WORDS or low[i - 1] in DIGIT_SLIPS)
        ):
            low[i] = _COUNTER_FORMS[w]
    out, at = [], 0
    for i, m in enumerate(words):
        w = low[i] if low[i] != m.group().lower() else m.group()  # names keep their capital
        if low[i] in DIGIT_SLIPS and i + 1 < len(low) and low[i + 1] in _COUNTERS:
            ends = all(t in _COUNT_TAIL for t in low[i + 2 :])
            close = text[m.end() : words[i + 1].start()].isspace()
            if close and (ends or (i and fold_word(low[i - 1]) == "muoi")):
                w = digits_to_words(str(DIGIT_WORDS[DIGIT_SLIPS[low[i]]]))
        out.append(text[at : m.start()] + w)
        at = m.end()
    return "".join(out) + text[at:]
