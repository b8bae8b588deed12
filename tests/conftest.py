"""Fixtures shared across test files (store fixtures: conftest_store.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def whisper_engine():
    """The offline default recogniser, loaded once for every test that needs it."""
    from callbot.speech.asr.factory import AsrSettings, build_engine

    engine = build_engine(AsrSettings(engine="whisper"))
    yield engine
    import asyncio

    asyncio.run(engine.close())
