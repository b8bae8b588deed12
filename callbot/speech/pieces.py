"""What the bot can say, as data: the vocabulary shared by the dialog (which decides what
to say) and the prompt library (which turns it into 8 kHz audio). It lives here, below
both, so the renderer never has to import the dialog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    """A pre-rendered prompt from prompts/, by name."""

    name: str


@dataclass(frozen=True)
class Digits:
    """Digits read one by one from pre-rendered pieces (phone numbers, ticket numbers)."""

    digits: str


@dataclass(frozen=True)
class Text:
    """Free text that has no pre-rendered piece: spoken by the TTS engine."""

    text: str


Piece = Prompt | Digits | Text
