"""Whisper (faster-whisper / CTranslate2) behind the AsrEngine interface.

Whisper is not a streaming recogniser: a stream only buffers the caller's utterance, and
``finish()`` decodes it in one go on a thread pool, after the endpointer has cut it.

Two choices here are for speed on a small CPU box, measured in docs/performance.md:

* The encoder normally sees a fixed 30 s window (3,000 mel frames), padded with zeros, so a
  2 s answer costs as much as a 30 s one. CTranslate2 accepts a shorter window, so we cut it
  to the utterance plus ``window_pad_s`` (2 s by default): about 4x faster, a few points of
  WER worse. ``window_pad_s=None`` restores the 30 s window.
* One greedy pass (beam 1), no temperature fallback, no timestamps, no previous-text
  conditioning, no VAD filter: the call session already did endpointing, and a turn must
  come back in well under a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callbot.speech.asr.base import Hypothesis
from callbot.speech.asr.choices import Choice, Choices
from callbot.speech.asr.features import log_mel
from callbot.speech.asr.scheduling import DeadlineExecutor, decode_deadline
from callbot.speech.asr.upsample import pcm16_to_float, upsample_8k_to_16k
from callbot.speech.asr.voiced import voiced_span
from telephony.audio_format import SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

WHISPER_RATE = 16_000
FRAMES_PER_SECOND = 100  # mel hop is 10 ms
MAX_WINDOW_FRAMES = 3_000  # Whisper's trained 30 s window
# A caller who talks past this is cut: it bounds memory per stream and decode time per turn.
MAX_UTTERANCE_SECONDS = 60.0
# Peak below this (about -60 dBFS) is line silence: no point in spending a decode on it, and
# Whisper tends to invent a sentence for an empty window.
SILENCE_PEAK = 0.001
# faster-whisper uses 0.6, but the cut window inflates no_speech_prob (a clear 3 s phrase
# scores 0.7 with a 5 s window, 0.3 with 30 s); the endpointer already heard speech.
NO_SPEECH_PROB = 0.9
NO_SPEECH_LOGPROB = -1.0
# Greedy decoding can loop on noise; a turn of speech hardly exceeds this many tokens/s.
TOKENS_PER_SECOND = 20
MAX_TEXT_TOKENS = 200
# Above this gzip compression ratio the text is a loop ("tôi không biết tôi không biết…"),
# which greedy Whisper produces on noise; Whisper's own threshold.
MAX_COMPRESSION_RATIO = 2.4
# Candidate scoring: the reference each candidate is measured against, and how many
# candidate sets keep their reference cached (one per closed question; a few dozen at most).
PRIOR_SILENCE_S = 1.5
MAX_PRIORS = 256

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalise_text(text: str) -> str:
    """Lower case, punctuation gone, single spaces; keeps Vietnamese letters and numerals."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


@dataclass(frozen=True)
class Decoded:
    text: str  # normalised
    confidence: float
    raw_text: str  # as Whisper wrote it, for logs


class WhisperEngine:
    """One CTranslate2 Whisper model per process, shared by every call.

    ``num_workers`` decodes may run at once (each with ``cpu_threads`` threads); more
    ``finish()`` calls wait in the pool's queue. Loading takes about a second: build the
    engine once at start-up, not per call.
    """

    name = "whisper"
    supports_phrases = False  # no grammar: a closed question's answers are scored instead
    supports_choices = True

    def __init__(
        self,
        model_dir: str | Path,
        *,
        cpu_threads: int = 2,
        num_workers: int = 1,
        language: str = "vi",
        window_pad_s: float | None = 2.0,
        compute_type: str = "int8",
        decode_nice: int = 0,
    ) -> None:
        from faster_whisper import WhisperModel  # heavy import: only when the engine is used
        from faster_whisper.tokenizer import Tokenizer

        self.language = language
        self.window_pad_s = window_pad_s
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            local_files_only=True,
        )
        tokenizer = Tokenizer(self._model.hf_tokenizer, True, task="transcribe", language=language)
        self._tokenizer = tokenizer
        self._prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        self._priors: dict[tuple[str, ...], np.ndarray] = {}  # candidate set → scores on silence
        # Earliest deadline first, not first come: a short closed answer overtakes another
        # caller's long description in the queue (scheduling.py).
        self._pool = DeadlineExecutor(num_workers, name="whisper", nice=decode_nice)
        self._closed = False

    def open_stream(
        self, phrases: Sequence[str] | None = None, choices: Choices | None = None
    ) -> WhisperStream:
        if self._closed:
            raise RuntimeError("WhisperEngine is closed")
        return WhisperStream(self, choices)

    async def close(self) -> None:
        self._closed = True
        # Wait for decodes in flight off the loop; then the model goes with the last reference.
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)

    async def transcribe(self, pcm: bytes, choices: Choices | None = None) -> Hypothesis:
        """Decode one complete 8 kHz utterance (what a stream's finish() does); with
        ``choices``, also score the question's expected answers on the same encoding."""
        if self._closed:
            raise RuntimeError("WhisperEngine is closed")
        audio_seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
        deadline = decode_deadline(time.monotonic(), audio_seconds, closed=choices is not None)
        decoded, choice, seconds = await asyncio.wrap_future(
            self._pool.submit(deadline, self._timed_decode, pcm, choices)
        )
        return Hypothesis(
            text=decoded.text,
            confidence=decoded.confidence,
            audio_seconds=audio_seconds,
            decode_seconds=seconds,
            choice=choice,
        )

    def _timed_decode(
        self, pcm: bytes, choices: Choices | None
    ) -> tuple[Decoded, Choice | None, float]:
        # Timed inside the worker: time queued behind other calls' decodes is not decoding.
        started = time.perf_counter()
        if choices is None:
            return self.decode_pcm8k(pcm), None, time.perf_counter() - started
        decoded, choice = self.decode_and_choose_pcm8k(pcm, choices)
        return decoded, choice, time.perf_counter() - started

    # --- blocking work, on the pool ----------------------------------------------------

    def decode_pcm8k(self, pcm: bytes) -> Decoded:
        return self.decode_16k(upsample_8k_to_16k(pcm16_to_float(pcm)))

    def decode_16k(self, audio: np.ndarray) -> Decoded:
        """Blocking: decode float32 16 kHz audio. Public for benchmarks."""
        if audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK:
            return Decoded("", 0.0, "")
        return self._decode_features(self._features(audio))

    def decode_and_choose_pcm8k(self, pcm: bytes, choices: Choices) -> tuple[Decoded, Choice]:
        """Blocking: a closed answer as the call delivers it (8 kHz, with the endpointer's
        pre-roll and trailing silence), cut to its voiced span first (``voiced_span``)."""
        return self.decode_and_choose_16k(
            upsample_8k_to_16k(pcm16_to_float(voiced_span(pcm))), choices
        )

    def decode_and_choose_16k(self, audio: np.ndarray, choices: Choices) -> tuple[Decoded, Choice]:
        """Blocking: free decoding and the question's choice, from one encoder pass over a
        short answer (the encoder is most of the cost of either)."""
        if audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK:
            return Decoded("", 0.0, ""), Choice(None, 0.0, 0.0)
        features = self._features(audio)
        texts, _ = choices.texts()
        if features.shape[-1] > MAX_WINDOW_FRAMES:  # a long speech, not a closed answer
            return self._decode_features(features), Choice(None, 0.0, 0.0)
        encoded = np.asarray(self._encode(features, to_cpu=True))
        decoded = self._decode_features(features, encoded)
        return decoded, choices.pick(self._scores(features, encoded, tuple(texts)))

    def _features(self, audio: np.ndarray) -> np.ndarray:
        # faster-whisper's extractor output, computed faster (features.py); the model's own
        # mel count (80, or 128 for large-v3). The last frame only covers the STFT padding.
        n_mels = self._model.feature_extractor.mel_filters.shape[0]
        return log_mel(audio, n_mels)[:, :-1]

    def _decode_features(self, features: np.ndarray, encoded: np.ndarray | None = None) -> Decoded:
        content = features.shape[-1]
        texts: list[str] = []
        logprobs: list[float] = []
        # Whisper sees at most 30 s at a time; longer turns are decoded window by window.
        for start in range(0, content, MAX_WINDOW_FRAMES):
            chunk = features[:, start : min(content, start + MAX_WINDOW_FRAMES)]
            text, logprob = self._decode_window(chunk, encoded)
            if text:
                texts.append(text)
                logprobs.append(logprob)
        raw = " ".join(texts)
        if not raw:
            return Decoded("", 0.0, "")
        confidence = math.exp(sum(logprobs) / len(logprobs))
        return Decoded(normalise_text(raw), min(1.0, max(0.0, confidence)), raw)

    def _encode(self, chunk: np.ndarray, *, to_cpu: bool = False) -> object:
        """The encoder output for mel features ``chunk`` (at most 30 s), window cut."""
        import ctranslate2

        frames = chunk.shape[-1]
        window = self._window_frames(frames)
        padded = np.zeros((chunk.shape[0], window), dtype=np.float32)
        padded[:, :frames] = chunk
        return self._model.model.encode(
            ctranslate2.StorageView.from_array(padded[np.newaxis]), to_cpu=to_cpu
        )

    def _decode_window(
        self, chunk: np.ndarray, encoded: np.ndarray | None = None
    ) -> tuple[str, float]:
        import ctranslate2

        frames = chunk.shape[-1]
        if encoded is None:
            encoded_view = self._encode(chunk)
        else:
            encoded_view = ctranslate2.StorageView.from_array(encoded)
        seconds = frames / FRAMES_PER_SECOND
        max_new = min(MAX_TEXT_TOKENS, int(seconds * TOKENS_PER_SECOND) + 10)
        result = self._model.model.generate(
            encoded_view,
            [self._prompt],
            beam_size=1,
            max_length=len(self._prompt) + max_new,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        # generate() scores the sum of log-probs divided by the length (length_penalty 1);
        # faster-whisper counts the end token too, and so do we.
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > NO_SPEECH_PROB and avg_logprob < NO_SPEECH_LOGPROB:
            return "", avg_logprob
        text = self._tokenizer.decode(tokens).strip()
        if compression_ratio(text) > MAX_COMPRESSION_RATIO:
            log.debug("dropping a looping hypothesis (%d characters)", len(text))  # not its words
            return "", avg_logprob
        return text, avg_logprob

    # --- scoring candidate answers (constrained recognition) --------------------------

    async def score(self, pcm: bytes, candidates: Sequence[str]) -> list[float]:
        """How well each candidate text explains an 8 kHz utterance (see score_16k)."""
        if self._closed:
            raise RuntimeError("WhisperEngine is closed")
        audio_seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
        deadline = decode_deadline(time.monotonic(), audio_seconds, closed=True)
        return await asyncio.wrap_future(
            self._pool.submit(deadline, self.score_pcm8k, pcm, tuple(candidates))
        )

    def score_pcm8k(self, pcm: bytes, candidates: Sequence[str]) -> list[float]:
        """Blocking: ``score_16k`` of a call's 8 kHz answer, cut to its voiced span."""
        return self.score_16k(upsample_8k_to_16k(pcm16_to_float(voiced_span(pcm))), candidates)

    def score_16k(self, audio: np.ndarray, candidates: Sequence[str]) -> list[float]:
        """Blocking: Whisper as a zero-shot classifier over the candidates' texts.

        The utterance is encoded once; every candidate is then forced through the decoder in
        one batch (CTranslate2's ``align``, which returns each text token's probability)
        and scored by its summed log-probability *minus the same sum given silence*: the
        pointwise mutual information between audio and text, in nats. Without the silence
        term short, frequent words ("vâng", "không") win whatever was said. Higher is better;
        an answer none of the candidates explains scores near or below zero for all.
        """
        candidates = tuple(candidates)
        if not candidates:
            return []
        if audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK:
            return [0.0] * len(candidates)
        features = self._features(audio)[:, :MAX_WINDOW_FRAMES]
        encoded = np.asarray(self._encode(features, to_cpu=True))
        return self._scores(features, encoded, candidates)

    def _scores(
        self, features: np.ndarray, encoded: np.ndarray, candidates: tuple[str, ...]
    ) -> list[float]:
        heard = self._forced_logprobs(features, candidates, encoded)
        return [float(h - p) for h, p in zip(heard, self._prior(candidates), strict=True)]

    def _prior(self, candidates: tuple[str, ...]) -> np.ndarray:
        prior = self._priors.get(candidates)
        if prior is None:
            silence = np.zeros(int(PRIOR_SILENCE_S * WHISPER_RATE), dtype=np.float32)
            features = self._features(silence)
            prior = self._forced_logprobs(features, candidates)
            if len(self._priors) >= MAX_PRIORS:
                self._priors.pop(next(iter(self._priors)))
            self._priors[candidates] = prior
        return prior

    def _forced_logprobs(
        self, features: np.ndarray, candidates: tuple[str, ...], encoded: np.ndarray | None = None
    ) -> np.ndarray:
        import ctranslate2

        if encoded is None:
            encoded = np.asarray(self._encode(features, to_cpu=True))
        # The tokenizer's leading-space forms: that is how words follow the prompt in
        # Whisper's own transcripts. align() itself appends <|notimestamps|> to the start
        # sequence and <|endoftext|> to each text; passing either again shifts every
        # probability by one token and gives the near-zero scores of an earlier attempt.
        tokens = [self._tokenizer.encode(" " + text.strip()) for text in candidates]
        batch = ctranslate2.StorageView.from_array(np.repeat(encoded, len(tokens), axis=0))
        results = self._model.model.align(
            batch, self._tokenizer.sot_sequence, tokens, features.shape[-1]
        )
        return np.array(
            [float(np.sum(np.log(np.maximum(r.text_token_probs, 1e-12)))) for r in results]
        )

    def _window_frames(self, frames: int) -> int:
        if self.window_pad_s is None:
            return MAX_WINDOW_FRAMES
        window = frames + int(self.window_pad_s * FRAMES_PER_SECOND)
        window += window % 2  # the encoder's stride-2 convolution wants an even length
        return min(MAX_WINDOW_FRAMES, window)


class WhisperStream:
    """Buffers one utterance; decoding happens in finish()."""

    _max_bytes = int(MAX_UTTERANCE_SECONDS * SAMPLE_RATE * SAMPLE_WIDTH)

    def __init__(self, engine: WhisperEngine, choices: Choices | None = None) -> None:
        self._engine = engine
        self._choices = choices
        self._buffer = bytearray()
        self._cancelled = False
        self._finished = False
        self._overflow_logged = False

    def accept(self, pcm: bytes) -> None:
        if self._cancelled or self._finished:
            return
        room = self._max_bytes - len(self._buffer)
        if len(pcm) > room and not self._overflow_logged:
            self._overflow_logged = True
            log.warning("utterance longer than %.0f s: the rest is dropped", MAX_UTTERANCE_SECONDS)
        self._buffer += pcm[: max(0, room)]

    async def finish(self) -> Hypothesis:
        self._finished = True
        pcm = bytes(self._buffer)
        self._buffer.clear()
        if self._cancelled:
            return Hypothesis("", 0.0, 0.0, 0.0)
        pcm = pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]
        return await self._engine.transcribe(pcm, self._choices)

    def cancel(self) -> None:
        self._cancelled = True
        self._buffer.clear()
