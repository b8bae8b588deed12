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


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a browser test module (call require_chromium() at its top)."""
    try:
        from browser import chromium_browser
    except ImportError:  # run from the repository root as a package
        from tests.browser import chromium_browser
    with chromium_browser() as chromium:
        yield chromium
