"""What goes wrong making a model ready; each message says what to do."""

from __future__ import annotations


class ModelError(RuntimeError):
    """A model cannot be made ready; the message says what to do."""


class ChecksumError(ModelError):
    pass
