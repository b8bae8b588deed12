"""Text to 8 kHz speech with espeak-ng's Vietnamese voice.

Used to render prompts once (``callbot prompts render``) and, at run time, only for free
text that has no pre-rendered piece. Results are cached on disk by voice and text, so a
phrase is synthesised once per machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from callbot.speech.resample import resample, to_pcm16
from telephony.audio_format import SAMPLE_RATE


class TtsError(RuntimeError):
    pass


class EspeakTts:
    def __init__(self, voice: str = "vi", speed_wpm: int = 150, cache_dir: Path | None = None):
        self.voice = voice
        self.speed_wpm = speed_wpm
        self.cache_dir = cache_dir

    def _command(self, text: str) -> list[str]:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise TtsError(
                "espeak-ng is not installed: run `apt-get install espeak-ng` (Debian/Ubuntu) "
                "to render prompts or speak free text"
            )
        return [exe, "-v", self.voice, "-s", str(self.speed_wpm), "--stdout", text]

    def _cache_path(self, text: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{self.voice}|{self.speed_wpm}|{text}".encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.pcm"

    def synthesize(self, text: str) -> bytes:
        """Blocking; for renders and tools. The call path uses ``synthesize_async``."""
        cached = self._read_cache(text)
        if cached is not None:
            return cached
        done = subprocess.run(self._command(text), capture_output=True, timeout=60, check=False)
        return self._finish(text, done.returncode, done.stdout, done.stderr)

    async def synthesize_async(self, text: str) -> bytes:
        cached = self._read_cache(text)
        if cached is not None:
            return cached
        process = await asyncio.create_subprocess_exec(
            *self._command(text), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        stdout, stderr = await process.communicate()
        return self._finish(text, process.returncode or 0, stdout, stderr)

    def _read_cache(self, text: str) -> bytes | None:
        path = self._cache_path(text)
        if path is not None and path.exists():
            return path.read_bytes()
        return None

    def _finish(self, text: str, returncode: int, stdout: bytes, stderr: bytes) -> bytes:
        if returncode != 0 or not stdout:
            raise TtsError(f"espeak-ng failed ({returncode}): {stderr.decode(errors='replace')}")
        with wave.open(io.BytesIO(stdout), "rb") as wav:
            rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        pcm = to_pcm16(resample(samples, rate, SAMPLE_RATE))
        path = self._cache_path(text)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pcm)
            tmp.replace(path)
        return pcm
