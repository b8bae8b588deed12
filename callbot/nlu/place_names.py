"""The names of one scheme's units, indexed once, and the match of the words heard against them.

A name is matched exactly (diacritics kept, then folded), then by sound ("go vac" for "Gò
Vấp"), then fuzzily; place.py decides which scheme to look in and what the match means.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from callbot.nlu.admin_units import AdminUnit, districts_2021, wards_2025
from callbot.nlu.place_sound import nearest_by_sound, sound_distance
from callbot.nlu.text import fold, normalise

_MAX_NAME_TOKENS = 4
# A name one sound from what was heard ("go vac", "hop mon"): below an exact match, above
# the dialog's acceptance even when the name is both a district and a ward.
_SOUND_CONFIDENCE = 0.8


@dataclass(frozen=True)
class NameIndex:
    """Names of one scheme, precomputed once: accented and folded, without type words."""

    accented: dict[str, tuple[AdminUnit, ...]]
    folded: dict[str, tuple[AdminUnit, ...]]
    folded_keys: tuple[str, ...]
    first_syllables: frozenset[str]


def _build_index(units: tuple[AdminUnit, ...], extra: dict[str, AdminUnit]) -> NameIndex:
    accented: dict[str, list[AdminUnit]] = {}
    folded: dict[str, list[AdminUnit]] = {}
    names = [(normalise(u.short), u) for u in units] + [(normalise(k), u) for k, u in extra.items()]
    for name, unit in names:
        accented.setdefault(name, []).append(unit)
        folded.setdefault(fold(name), []).append(unit)
    return NameIndex(
        {k: tuple(v) for k, v in accented.items()},
        {k: tuple(v) for k, v in folded.items()},
        tuple(folded),
        frozenset(k.split()[0] for k in folded),
    )


@lru_cache(maxsize=1)
def district_index() -> NameIndex:
    named = tuple(u for u in districts_2021() if not u.short.isdigit())
    return _build_index(named, {})


@lru_cache(maxsize=1)
def ward_index() -> NameIndex:
    return _build_index(wards_2025(), {})


def match_name(
    acc: list[str],
    fol: list[str],
    start: int,
    index: NameIndex,
    cutoff: float | None,
    *,
    bare: bool = False,
    sound: bool = False,
) -> tuple[tuple[AdminUnit, ...], float, int] | None:
    """Best name of ``index`` at token ``start`` → (units, confidence, end), longest first.

    Exact matches (accented, then folded) win; the fuzzy match (``cutoff`` set) forgives a
    misheard syllable ("bình thạch") but not a shifted start ("ở bình tân").
    """
    longest = min(len(fol), start + _MAX_NAME_TOKENS)
    for end in range(longest, start, -1):
        units = index.accented.get(" ".join(acc[start:end]))
        if units:
            return units, 0.95, end
        units = index.folded.get(" ".join(fol[start:end]))
        if units:
            return units, 0.9, end
    if cutoff is None:
        return None
    tones = any(a != f for a, f in zip(acc, fol, strict=True))
    if sound:
        for end in range(longest, start, -1):
            heard = " ".join(acc[start:end])
            strict = bare and not tones
            near = nearest_by_sound(heard, index.accented, tones=tones, consonants_only=strict)
            if near is not None:
                return index.accented[near[0]], _SOUND_CONFIDENCE - 0.08 * near[1], end
    if bare and fol[start] not in index.first_syllables:
        return None
    best: tuple[tuple[AdminUnit, ...], float, int] | None = None
    best_score = 0.0
    for end in range(start + 1, longest + 1):
        query = " ".join(fol[start:end])
        if len(query) < 4:
            continue
        hit = process.extractOne(query, index.folded_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
        if bare and hit is not None:
            # A name said bare, amid other words, is taken only a sound away from what was
            # heard ("hòa đồng" shares letters with "an đông", not sounds).
            heard = " ".join(acc[start:end])
            names = [k for k in index.accented if fold(k) == hit[0]]
            near = (sound_distance(heard, k, tones=tones, consonants_only=not tones) for k in names)
            if not any(d is not None and d <= 1 for d in near):
                continue
        if hit is not None and hit[1] >= best_score:
            best_score = hit[1]
            confidence = 0.55 + 0.3 * (hit[1] - cutoff) / (100.0 - cutoff)
            best = (index.folded[hit[0]], confidence, end)
    return best
