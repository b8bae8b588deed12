"""The ``[surge]`` settings (issue 17 item 4), beside config.py (which holds the rest).

Off unless ``max_calls`` is set: the capacity of one machine depends on its cores and the
recogniser (docs/scaling.md measures it per deployment), so no default would be honest.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)
Fraction = Annotated[float, Field(gt=0, le=1)]


@dataclass(config=STRICT)
class SurgeSettings:
    max_calls: Annotated[int, Field(ge=0)] = 0
    """calls in progress this process can take (docs/scaling.md); 0: surge mode off"""
    on_fraction: Fraction = 0.9
    """surge mode goes on at this share of max_calls in progress"""
    off_fraction: Fraction = 0.75
    """and off only once back down to this share (hysteresis)"""
    callbacks_per_operator_hour: Annotated[float, Field(gt=0)] = 4.0
    """callbacks one operator on duty makes an hour, for the estimate the caller hears"""
