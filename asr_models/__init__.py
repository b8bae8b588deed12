"""Speech model registry and fetcher: which models exist and how to make them ready.

Weights live in the cache (``asr_models/cache/`` or ``$CALLBOT_MODELS_DIR``), never in git.
"""

from asr_models.fetch import (
    ChecksumError,
    ModelError,
    ensure,
    fetch_model,
    list_models,
    run_models_command,
    verify,
    verify_model,
)
from asr_models.registry import MODELS, ModelSpec, SourceKind, get

__all__ = [
    "MODELS",
    "ChecksumError",
    "ModelError",
    "ModelSpec",
    "SourceKind",
    "ensure",
    "fetch_model",
    "get",
    "list_models",
    "run_models_command",
    "verify",
    "verify_model",
]
