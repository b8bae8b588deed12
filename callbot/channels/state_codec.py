"""The dialog's state as JSON, so a text conversation can pause for hours, survive a
restart and be answered by any process: ``encode(DialogState) -> str`` and back.

Written field by field (not pickled): a stored state must stay readable by the next
release, and a state from a newer one (an unknown field) is refused rather than guessed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from callbot.call.dialog import DialogState, Phase
from callbot.tickets.model import SlotSource, SlotValue

FORMAT = 1


class StateFormatError(ValueError):
    """A stored conversation state this code cannot read."""


def encode(state: DialogState, seq: int) -> str:
    """``seq``: the number the conversation's next turn gets."""
    data: dict[str, Any] = {"format": FORMAT, "seq": seq}
    for field in dataclasses.fields(state):
        value = getattr(state, field.name)
        if isinstance(value, Phase):
            value = value.value
        elif isinstance(value, set):
            value = sorted(value)
        elif field.name == "slots":
            value = {
                name: [slot.value, str(slot.source), slot.confidence, slot.heard]
                for name, slot in value.items()
            }
        data[field.name] = value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> tuple[DialogState, int]:
    """The state and the next turn's number."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise StateFormatError("not a conversation state of this format")
        seq = data.pop("seq", None)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise StateFormatError("no turn number")
        state = DialogState()
        known = {field.name for field in dataclasses.fields(state)}
        unknown = set(data) - known
        if unknown:
            raise StateFormatError(f"unknown state fields: {sorted(unknown)}")
        for name, value in data.items():
            default = getattr(state, name)
            if name == "phase":
                value = Phase(value)
            elif name == "offered":
                value = {str(item) for item in value}
            elif name == "slots":
                value = {
                    slot_name: SlotValue(slot_name, str(v), SlotSource(src), float(c), str(h))
                    for slot_name, (v, src, c, h) in value.items()
                }
            elif name == "missing":
                value = {str(k): str(v) for k, v in value.items()}
            elif isinstance(default, str) and not isinstance(value, str):
                raise StateFormatError(f"{name} is not text")
            elif isinstance(default, bool) and not isinstance(value, bool):
                raise StateFormatError(f"{name} is not a boolean")
            elif (
                isinstance(default, int)
                and type(value) is not int
                and not isinstance(default, bool)
            ):
                raise StateFormatError(f"{name} is not a number")
            setattr(state, name, value)
        return state, seq
    except StateFormatError:
        raise
    except (ValueError, TypeError, AttributeError) as error:
        raise StateFormatError(f"unreadable conversation state: {error}") from None
