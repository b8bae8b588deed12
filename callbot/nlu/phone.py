"""Callback numbers, spoken or keyed.

Callers read numbers digit by digit ("không chín không…"), in groups ("ba trăm bốn mươi
lăm"), or mixed; Whisper writes numerals ("090 345 6789"). Fillers and hesitations sit between
the groups, and a leading "không" may be the answer "no" rather than a zero. So instead of
trusting the whole run, we look for the sub-run of number phrases whose digits form a valid
Vietnamese number and prefer the longest such sub-run.
Where a caller corrects or takes back the number is phone_corrections.py; which words
are heard as digits, phone_words.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from callbot.nlu import hesitation
from callbot.nlu.extraction import Extraction
from callbot.nlu.numbers import (
    NUMBER_WORDS,
    READINGS,
    NumberPhrase,
    find_numbers,
    number_tokens,
)
from callbot.nlu.phone_corrections import (
    GROUP_BREAK,
    correction,
    last_digits_fix,
    said_groups,
    withdrawal,
    without_rejected,
)
from callbot.nlu.phone_parts import PartFix, part_fix
from callbot.nlu.phone_restarts import new_starts, stutters_joined, without_restarts
from callbot.nlu.phone_words import SOUTHERN_ZERO, digit_view, spelled_repeats
from callbot.nlu.text import tokens, word_set

MOBILE_PREFIXES = frozenset({"03", "05", "07", "08", "09"})
_STUTTER_JOINED = 0.55  # just over acceptance, under hearing.WEAK_READING
# Words said around or between digit groups that do not end the number.
_FILLERS = word_set(
    "so la cua toi em minh con chau a o u um uh e thi nhe nha dien thoai di dong "
    "cong cham gach va roi tiep la de sdt hinh nhu"
)
_MAX_FILLER_GAP = 3
_MIN_ATTEMPT_DIGITS = 3
_ACROSS_PAUSE = 0.8
# A digit read from a word heard one sound off, or the landline's dropped leading zero:
# right most of the time, so accepted, but below a number heard as it was said.
_GUESSED = 0.85
# A fragment said again in full after a pause ("ba ba... ba ba một"): the restart is the
# caller's reading, but the fragment dropped is our guess.
_RESTARTED = 0.9


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


def _valid(digits: str) -> str:
    """The valid number the digits say, or "": a landline may be read without its leading
    zero ("hai tám, ba tám…"), ten digits from 2; a mobile without it is too often a digit
    missed to guess at."""
    candidate = _national(digits)
    if check_phone(candidate).kind:
        return candidate
    if len(digits) == 10 and digits.startswith("2"):
        return "0" + digits
    return ""


def _best_span(phrases: list[NumberPhrase]) -> tuple[int, int, str] | None:
    """The longest contiguous run of phrases whose digits make a valid number."""
    best: tuple[int, int, str] | None = None
    for a in range(len(phrases)):
        digits = ""
        for b in range(a, len(phrases)):
            digits += phrases[b].digits
            if len(digits) > 12:
                break
            candidate = _valid(digits)
            if candidate and (best is None or b - a > best[1] - best[0]):
                best = (a, b, candidate)
    return best


def _readings(
    run: list[int], run_tokens: list[str], pauses: frozenset[int]
) -> list[tuple[list[NumberPhrase], float]]:
    """Each reading of a run's ambiguous words, and how likely it is: parsed with every
    phrase ending at a pause the caller made (``pauses``: raw token indices that follow
    one: "tam, muoi hai" is 8, 12, not 80, 2), and parsed freely, less likely where a
    phrase then runs across a pause."""
    cuts = [j for j in range(1, len(run)) if run[j] in pauses]
    found: list[tuple[list[NumberPhrase], float]] = []
    for reading in READINGS:
        likely = 1.0 if reading is READINGS[0] else 0.9
        free = find_numbers(run_tokens, reading)
        if cuts:
            within = [
                NumberPhrase(p.value, p.digits, p.start + a, p.end + a)
                for a, b in pairwise([0, *cuts, len(run_tokens)])
                for p in find_numbers(run_tokens[a:b], reading)
            ]
            found.append((within, likely))
            across = any(run[k] in pauses for p in free for k in range(p.start + 1, p.end))
            likely *= _ACROSS_PAUSE if across else 1.0
        found.append((free, likely))
    return found


def _from_run(
    raw: list[str],
    run: list[int],
    run_tokens: list[str],
    pauses: frozenset[int] = frozenset(),
    slips: frozenset[int] = frozenset(),
) -> Extraction | None:
    """The best number in one run, over the readings of its ambiguous words."""
    best: Extraction | None = None
    for phrases, likely in _readings(run, run_tokens, pauses):
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
        if _overlong(phrases, a, b, run_tokens):
            # More digits were said than a number holds (an 11-digit mobile): cutting them
            # to a valid length would file a number nobody said.
            if best is None:
                best = Extraction(digits, 0.2, heard, reason="too_long")
            continue
        mobile = check_phone(digits).kind == "mobile"
        # A reading other than the plain one, or a number inside a longer run, is less sure.
        confidence = (0.95 if whole else 0.8) * (1.0 if mobile else 0.95)
        confidence *= likely
        first, last = run[phrases[a].start], run[phrases[b].end - 1]
        said = "".join(p.digits for p in phrases[a : b + 1])
        if digits == "0" + said or any(first <= i <= last for i in slips):
            confidence *= _GUESSED  # the zero was added, or a digit read from a slip
        result = Extraction(digits, round(confidence, 3), heard)
        if best is None or result.confidence > best.confidence:
            best = result
    return best


def _overlong(phrases: list[NumberPhrase], a: int, b: int, run_tokens: list[str]) -> bool:
    """Digits said right after the number, or before it other than a lone "không" (which
    may be the answer "no": "không, số tôi là …")."""
    if b < len(phrases) - 1:
        return True
    before = phrases[:a]
    return bool(before) and not (
        len(before) == 1 and run_tokens[before[0].start : before[0].end] == ["khong"]
    )


def extract_phone(text: str) -> Extraction | None:
    """A callback number from an utterance; invalid numbers come back with low confidence.

    A self-correction ("… bảy tám, à nhầm, tám chín") is honoured: the number after it if it
    is whole, else the number before it with its last group replaced by the new one; if
    neither makes a valid number the answer is unclear, never the two stitched together.
    """
    text = spelled_repeats(text)  # "hai số năm": 55
    withdrawn = withdrawal(text)
    if withdrawn is not None:
        # "…, à thôi, tôi không muốn để số": the number said is taken back; one said
        # after that is the caller's answer.
        fresh = _extract(text[withdrawn.end() :])
        if fresh is not None and fresh.confidence >= 0.5:
            return fresh
        return Extraction("", 0.2, text.strip(), reason="withdrawn")
    if hesitation.withdrawn(text, digits=True):
        return None  # "… à không, để tôi coi lại số đã": nothing in its place
    part = part_fix(text)
    fixed_part = _with_part(part) if part is not None else None
    if fixed_part is not None:
        return fixed_part
    fix = last_digits_fix(text)
    if fix is not None:
        fixed = _with_last_digits(*fix)
        # "số đầu là…" also opens a number read from its start: a fix only of one said.
        if fixed is not None and (fixed.value or not fix[3]):
            return fixed
    corrected = correction(text)
    if corrected is None:
        return _extract(text)
    before, after = corrected
    after = without_rejected(before, after)
    if not after.strip(" ,.…"):
        # "… chín năm bẩy à không": nothing follows, so that "không" is the digit zero
        # after a hesitation, not a correction.
        return _extract(text)
    fresh = _extract(after)
    if fresh is not None and fresh.confidence >= 0.5:
        return Extraction(fresh.value, round(fresh.confidence * 0.95, 3), fresh.heard)
    replaced = _replace_last_group(before, after)
    if replaced is not None:
        return replaced
    return Extraction("", 0.2, after.strip(), reason="self_correction") if after else None


def _with_last_digits(before: str, new: str, count: int, first: bool) -> Extraction | None:
    """ "…, một một một một, à số cuối là hai": the number said, its last ``count``
    digits (its first, ``first``: "à nhầm, số đầu là…") replaced by the ones said again;
    unclear unless that makes a valid number."""
    split = correction(before)
    if split is not None and not split[1].strip(" ,.…"):
        before = split[0]  # "…, à không, số cuối là hai": the mark names no digit
    said = _extract(before)
    heard = f"{before.strip(' ,.…')} … {new}"
    if said is None or said.confidence < 0.5 or len(new) != count:
        return Extraction("", 0.2, heard, reason="self_correction")
    digits = new + said.value[count:] if first else said.value[:-count] + new
    if check_phone(digits).kind != check_phone(said.value).kind:
        return Extraction("", 0.2, heard, reason="self_correction")
    return Extraction(digits, round(said.confidence * 0.9, 3), heard)


def _with_part(fix: PartFix) -> Extraction | None:
    """ "…, à nhầm, nhóm giữa là hai hai năm": the number said with the part named replaced;
    None (read as said) where it names no part of a number said whole."""
    before = fix.before
    split = correction(before)
    if split is not None and not split[1].strip(" ,.…"):
        before = split[0]  # "…, à nhầm, chữ số thứ năm là tám": the mark names no digit
    said = _extract(before)
    groups = said_groups(before)
    if said is None or said.confidence < 0.5 or "".join(groups) != said.value:
        return None
    digits = fix.applied(groups)
    if digits is None or check_phone(digits).kind != check_phone(said.value).kind:
        return None
    heard = f"{before.strip(' ,.…')} … {fix.new}"
    return Extraction(digits, round(said.confidence * 0.9, 3), heard)


# (Here, not in phone_corrections.py: where the caller went back to is told by which
# digits make a valid number.)
def _replace_last_group(before: str, after: str) -> Extraction | None:
    new_phrases = find_numbers(number_tokens(tokens(after)))
    groups = said_groups(before)
    if not groups or not new_phrases:
        return None
    said = "".join(p.digits for p in new_phrases)
    digits = _valid("".join(groups[:-1]) + said)
    if not digits:
        # "không chín không một hai à không một ba bốn…": the caller went back a few digits
        # and read on; the length a number has says where they went back to. They go back
        # to the start of a group they said, never into one: "không hai tám, ba tám sáu, à
        # quên, ba chín sáu, …" with a digit too many is no "02" and what follows.
        kept = "".join(groups)
        keep = (11 if kept.startswith("02") else 10) - len(said)
        starts = {len("".join(groups[:k])) for k in range(len(groups) + 1)}
        digits = _valid(kept[:keep] + said)
        if not 0 < keep <= len(kept) or keep not in starts or not digits:
            return None
    # A guess at which group was corrected: the readback (digit by digit) is where the
    # caller confirms it.
    return Extraction(digits, 0.6, f"{before.strip()} … {after.strip()}")


def _pauses(text: str) -> frozenset[int]:
    """Indices of the tokens that follow a written pause (comma, dot, ellipsis)."""
    found, at = set(), 0
    for chunk in GROUP_BREAK.split(text):
        if at:
            found.add(at)
        at += len(tokens(chunk))
    return frozenset(found)


def _extract(text: str) -> Extraction | None:
    found = _extract_said(text)
    if found is not None and found.confidence >= 0.5:
        return found
    restarted = without_restarts(text)
    again = _extract_said(restarted) if restarted else None
    if again is not None and again.confidence >= 0.5:
        return Extraction(again.value, round(again.confidence * _RESTARTED, 3), again.heard)
    for start in new_starts(text):
        # The number read whole from where the caller started over; only if nothing before
        # it made one (a number may well say its first digits again later on).
        again = _extract_said(start)
        if (
            again is not None
            and again.confidence >= 0.5
            and "".join(said_groups(start)) == again.value
        ):
            return Extraction(again.value, round(again.confidence * _RESTARTED, 3), again.heard)
    joined = stutters_joined(text)
    again = _extract_said(joined) if joined else None
    if again is not None and again.confidence >= 0.5:
        # A digit said again at a pause may be a stutter or the next digit ("chín… chín
        # chín tám"): taken, but weakly (a doubtful transcript's weak reading is dropped).
        return Extraction(again.value, _STUTTER_JOINED, again.heard)
    return found


def _extract_said(text: str) -> Extraction | None:
    raw = tokens(text)
    found = _read_digits(raw, _pauses(text), final_zero=True)
    if (found is None or found.confidence < 0.5) and SOUTHERN_ZERO.intersection(raw):
        # "… bốn năm sáu chín hông (chị)?": the caller asks back, and that "hông" is no
        # eleventh digit. (A zero first: "… bốn năm sáu hông" may end on one.)
        tagged = _read_digits(raw, _pauses(text), final_zero=False)
        if tagged is not None and tagged.confidence >= 0.5:
            return tagged
    return found


def _read_digits(raw: list[str], pauses: frozenset[int], *, final_zero: bool) -> Extraction | None:
    folded, slips = digit_view(raw, final_zero=final_zero)
    best: Extraction | None = None
    for run in _runs(folded):
        result = _from_run(raw, run, [folded[i] for i in run], pauses, slips)
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
