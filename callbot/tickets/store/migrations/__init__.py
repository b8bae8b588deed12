"""Schema migrations, one numbered module per step (``0001_initial.py``, ``0002_…``).

Each module holds the step's SQL for both engines, side by side, as ``SQLITE`` and
``POSTGRES``: the two differ only where they must (types, identity columns, JSON). Stores apply
the pending steps in order inside one transaction and record each in ``schema_migrations``,
so opening a store twice, or from several machines at once, applies every step exactly once.
Never edit a step that has shipped; add the next number.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

_STEP_FILE = re.compile(r"^(\d{4})_(\w+)\.py$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: str
    postgres: str


def all_migrations() -> list[Migration]:
    """Every step, in version order."""
    steps = []
    for path in sorted(Path(__file__).parent.iterdir()):
        match = _STEP_FILE.match(path.name)
        if match is None:
            continue
        module = importlib.import_module(f"{__name__}.{path.stem}")
        steps.append(
            Migration(int(match[1]), match[2], module.SQLITE.strip(), module.POSTGRES.strip())
        )
    versions = [step.version for step in steps]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return steps
