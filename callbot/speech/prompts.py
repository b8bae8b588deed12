"""The bot's voice: prompt texts, their rendered audio, and assembling what the dialog says.

Prompt texts live in ``prompts/texts.toml``; their audio in ``prompts/audio/<name>.wav``
(rendered once by ``callbot prompts render``, committed). A city replaces any of them with
a studio recording of the same name, in place or in an override folder. Readback of digits
is assembled from the ``digit_N`` pieces, so it needs no speech synthesis at run time; only
free text (``Text`` pieces) goes to the TTS engine.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from callbot.speech.pieces import Digits, Piece, Prompt, Text
from callbot.speech.tts import EspeakTts
from callbot.speech.wav import read_wav_8k, write_wav_8k
from telephony.audio_format import BYTES_PER_MS

if TYPE_CHECKING:  # config imports this module for its defaults
    from callbot.config import PromptSettings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROMPTS_DIR = PROJECT_ROOT / "prompts"
DIGIT_GAP = bytes(60 * BYTES_PER_MS)  # between digits, so "0 9 0" is not one blur
PIECE_GAP = bytes(150 * BYTES_PER_MS)


class PromptError(LookupError):
    pass


def load_texts(prompts_dir: Path) -> dict[str, str]:
    """Every ``[prompts]`` table in the folder's TOML files (texts.toml, places.toml…)."""
    if not (prompts_dir / "texts.toml").exists():
        raise PromptError(f"no prompt texts at {prompts_dir / 'texts.toml'}")
    texts: dict[str, str] = {}
    for path in sorted(prompts_dir.glob("*.toml")):
        try:
            with open(path, "rb") as f:
                texts.update(tomllib.load(f)["prompts"])
        except (tomllib.TOMLDecodeError, KeyError) as error:
            raise PromptError(f"{path}: {error}") from error
    return texts


class PromptLibrary:
    def __init__(
        self,
        prompts_dir: Path = DEFAULT_PROMPTS_DIR,
        *,
        tts: EspeakTts | None = None,
        override_dir: Path | None = None,
    ) -> None:
        self.prompts_dir = prompts_dir
        self.override_dir = override_dir
        self.tts = tts or EspeakTts()
        self.texts = load_texts(prompts_dir)
        self._audio: dict[str, bytes] = {}

    def audio_path(self, name: str) -> Path:
        return self.prompts_dir / "audio" / f"{name}.wav"

    def audio(self, name: str) -> bytes:
        """The prompt's 8 kHz audio, from an override, the rendered file, or TTS."""
        cached = self._audio.get(name)
        if cached is not None:
            return cached
        if name not in self.texts:
            raise PromptError(f"unknown prompt {name!r} (not in {self.prompts_dir}/texts.toml)")
        candidates = [self.audio_path(name)]
        if self.override_dir is not None:
            candidates.insert(0, self.override_dir / f"{name}.wav")
        for path in candidates:
            if path.exists():
                pcm = read_wav_8k(path)
                break
        else:
            log.warning("prompt %s has no rendered audio; synthesising it", name)
            pcm = self.tts.synthesize(self.texts[name])
        self._audio[name] = pcm
        return pcm

    def preload(self) -> None:
        """Load every prompt now, so the first call does not pay for disk reads."""
        for name in self.texts:
            self.audio(name)

    async def speak(self, pieces: Iterable[Piece]) -> bytes:
        parts: list[bytes] = []
        for piece in pieces:
            match piece:
                case Prompt(name):
                    parts.append(self.audio(name))
                case Digits(digits):
                    parts.append(DIGIT_GAP.join(self.audio(f"digit_{d}") for d in digits))
                case Text(text):
                    parts.append(await self.tts.synthesize_async(text))
        return PIECE_GAP.join(parts)

    def text_of(self, pieces: Iterable[Piece]) -> str:
        """What the bot said, as text, for the transcript."""
        words: list[str] = []
        for piece in pieces:
            match piece:
                case Prompt(name):
                    words.append(self.texts.get(name, name))
                case Digits(digits):
                    words.append(" ".join(digits))
                case Text(text):
                    words.append(text)
        return " ".join(words)

    def reload_texts(self) -> None:
        self.texts = load_texts(self.prompts_dir)

    def render_all(self, *, force: bool = False, names: Iterable[str] | None = None) -> list[Path]:
        """(Re)render prompts with the TTS engine; keeps existing files unless ``force``."""
        written = []
        for name in names or self.texts:
            path = self.audio_path(name)
            if path.exists() and not force:
                continue
            write_wav_8k(path, self.tts.synthesize(self.texts[name]))
            self._audio.pop(name, None)
            written.append(path)
        return written


def prompt_library(settings: PromptSettings) -> PromptLibrary:
    """The prompt library the settings describe: folder, override folder, TTS voice."""
    tts = EspeakTts(voice=settings.tts_voice, cache_dir=Path(settings.tts_cache_dir))
    override = Path(settings.override_dir) if settings.override_dir else None
    return PromptLibrary(Path(settings.dir), tts=tts, override_dir=override)
