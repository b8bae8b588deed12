"""Who calls: which caller script, and how the person behaves on top of it.

Scripts come from callbot/simulation/callers.toml, weighted (``keypad-essentials=3,
speech-first=1``). Behaviours are drawn independently, in set proportions
(``barge=0.1,hangup=0.05,silent=0.05``; the rest follow their script):

- ``normal``: waits for each prompt to end, answers as scripted.
- ``barge``: answers while the question is still playing (barge-in).
- ``hangup``: hangs up after answering a few questions (an early hang-up).
- ``silent``: never answers (the bot re-asks, then gives up).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from callbot.simulation.scripts import CallerScript


class Behaviour(StrEnum):
    NORMAL = "normal"
    BARGE = "barge"
    HANGUP = "hangup"
    SILENT = "silent"


def _parse_weights(text: str, what: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            weight = float(value) if sep else 1.0
        except ValueError:
            raise ValueError(f"bad {what} weight {item!r}: use name=number") from None
        if weight < 0:
            raise ValueError(f"negative {what} weight {item!r}")
        weights[name.strip()] = weight
    return weights


def parse_behaviour_mix(text: str) -> dict[Behaviour, float]:
    """``barge=0.1,hangup=0.05`` → proportions for every behaviour (normal gets the rest)."""
    raw = _parse_weights(text, "behaviour")
    mix: dict[Behaviour, float] = {}
    for name, share in raw.items():
        try:
            mix[Behaviour(name)] = share
        except ValueError:
            known = ", ".join(b.value for b in Behaviour)
            raise ValueError(f"unknown behaviour {name!r} (one of {known})") from None
    others = sum(v for k, v in mix.items() if k is not Behaviour.NORMAL)
    if others > 1 + 1e-9:
        raise ValueError(f"behaviour shares add up to {others:.2f} > 1")
    mix.setdefault(Behaviour.NORMAL, max(0.0, 1 - others))
    return {b: mix.get(b, 0.0) for b in Behaviour}


@dataclass(frozen=True)
class PlannedCall:
    script: CallerScript
    behaviour: Behaviour
    hangup_after: int  # questions answered before an early hang-up (``hangup`` only)
    seed: int  # per-call randomness (think time, barge-in moment)


class CallerMix:
    """Draws (script, behaviour) for each call from one seeded generator."""

    def __init__(
        self,
        scripts: list[CallerScript],
        *,
        script_weights: str = "",
        behaviours: str = "",
        rng: random.Random,
    ) -> None:
        by_name = {s.name: s for s in scripts}
        weights = _parse_weights(script_weights, "script") if script_weights else {}
        for name in weights:
            if name not in by_name:
                raise ValueError(f"no caller script {name!r} (have: {', '.join(by_name)})")
        self.scripts = [by_name[n] for n in weights] if weights else list(scripts)
        self.script_weights = [weights[s.name] for s in self.scripts] if weights else None
        self.behaviours = parse_behaviour_mix(behaviours)
        self.rng = rng

    def draw(self) -> PlannedCall:
        script = self.rng.choices(self.scripts, weights=self.script_weights)[0]
        behaviour = self.rng.choices(list(self.behaviours), weights=self.behaviours.values())[0]
        return PlannedCall(
            script, behaviour, hangup_after=self.rng.randint(1, 4), seed=self.rng.getrandbits(32)
        )
