"""Callback numbers, spoken or keyed.

Callers read numbers digit by digit ("không chín không…"), in groups ("ba trăm bốn mươi
lăm"), or mixed; Whisper writes numerals ("090 345 6789"). Fillers and hesitations sit between
the groups, and a leading "không" may be the answer "no" rather than a zero. So instead of
trusting the whole run, we look for the sub-run of number phrases whose digits form a valid
Vietnamese number and prefer the longest such sub-run.
"""

from __future__ import annotations

from dataclasses import dataclass

from callbot.nlu.extraction import Extraction
from callbot.nlu.numbers import NUMBER_WORDS, READINGS, NumberPhrase, find_numbers, number_tokens
from callbot.nlu.text import tokens, word_set

MOBILE_PREFIXES = frozenset({"03", "05", "07", "08", "09"})
# Words said around or between digit groups that do not end the number.
_FILLERS = word_set(
    "so la cua toi em minh con chau a o u um uh e thi nhe nha dien thoai di dong "
    "cong cham gach va roi tiep la de sdt"
)
_MAX_FILLER_GAP = 3
_MIN_ATTEMPT_DIGITS = 3


@dataclass(frozen=True)
class PhoneCheck:
    kind: str  # "mobile", "landline" or "" when invalid
    reason: str  # "" when valid


def check_phone(digits: str) -> PhoneCheck:
    """Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, 02x; HCMC 028)."""
    if not digits.isdigit():
        return PhoneCheck("", "not_digits")
    if len(digits) < 3:
        return PhoneCheck("", "too_short")
    if digits.startswith("02"):
        if len(digits) == 11:
            return PhoneCheck("landline", "")
        return PhoneCheck("", "too_short" if len(digits) < 11 else "too_long")
    if digits[:2] not in MOBILE_PREFIXES:
        return PhoneCheck("", "bad_prefix")
    if len(digits) == 10:
        return PhoneCheck("mobile", "")
    return PhoneCheck("", "too_short" if len(digits) < 10 else "too_long")


def _national(digits: str) -> str:
    """+84 / 84 country prefix → the national 0 prefix."""
    if digits.startswith("84") and len(digits) in (11, 12):
        return "0" + digits[2:]
    return digits


def _runs(toks: list[str]) -> list[list[int]]:
    """Indices of number tokens, grouped into runs that fillers (but nothing else) may join."""
    runs: list[list[int]] = []
    current: list[int] = []
    gap = 0
    for i, tok in enumerate(toks):
        if tok.isdigit() or tok in NUMBER_WORDS:
            current.append(i)
            gap = 0
        elif tok in _FILLERS and current and gap < _MAX_FILLER_GAP:
            gap += 1
        else:
            if current:
                runs.append(current)
            current, gap = [], 0
    if current:
        runs.append(current)
    return runs


def _best_span(phrases: list[NumberPhrase]) -> tuple[int, int, str] | None:
    """The longest contiguous run of phrases whose digits make a valid number."""
    best: tuple[int, int, str] | None = None
    for a in range(len(phrases)):
        digits = ""
        for b in range(a, len(phrases)):
            digits += phrases[b].digits
            if len(digits) > 12:
                break
            candidate = _national(digits)
            if check_phone(candidate).kind and (best is None or b - a > best[1] - best[0]):
                best = (a, b, candidate)
    return best


def _from_run(raw: list[str], run: list[int], run_tokens: list[str]) -> Extraction | None:
    """The best number in one run, over the readings of its ambiguous words."""
    best: Extraction | None = None
    for reading in READINGS:
        phrases = find_numbers(run_tokens, reading)
        if not phrases:
            return None
        span = _best_span(phrases)
        if span is None:
            all_digits = _national("".join(p.digits for p in phrases))
            # One or two digits ("không", "tôi không nhớ") are no attempt at a number.
            if best is None and len(all_digits) >= _MIN_ATTEMPT_DIGITS:
                heard = " ".join(raw[run[0] : run[-1] + 1])
                best = Extraction(all_digits, 0.2, heard, reason=check_phone(all_digits).reason)
            continue
        a, b, digits = span
        heard = " ".join(raw[run[phrases[a].start] : run[phrases[b].end - 1] + 1])
        whole = a == 0 and b == len(phrases) - 1
        mobile = check_phone(digits).kind == "mobile"
        # A reading other than the plain one, or a number inside a longer run, is less sure.
        confidence = (0.95 if whole else 0.8) * (1.0 if mobile else 0.95)
        confidence *= 1.0 if reading is READINGS[0] else 0.9
        result = Extraction(digits, round(confidence, 3), heard)
        if best is None or result.confidence > best.confidence:
            best = result
    return best


def extract_phone(text: str) -> Extraction | None:
    """A callback number from an utterance; invalid numbers come back with low confidence."""
    raw = tokens(text)
    folded = number_tokens(raw)
    best: Extraction | None = None
    for run in _runs(folded):
        result = _from_run(raw, run, [folded[i] for i in run])
        if result is None:
            continue
        rank = (result.confidence, len(result.value))
        if best is None or rank > (best.confidence, len(best.value)):
            best = result
    return best


def digits_from_keypad(keys: str) -> Extraction | None:
    """Digits typed on the keypad; '#' ends the entry and '*' restarts it, as on IVRs."""
    if "*" in keys:
        keys = keys.rsplit("*", 1)[1]
    digits = "".join(c for c in keys.split("#", 1)[0] if c.isdigit())
    if not digits:
        return None
    check = check_phone(_national(digits))
    if check.kind:
        return Extraction(_national(digits), 1.0, keys)
    return Extraction(digits, 0.3, keys, reason=check.reason)
