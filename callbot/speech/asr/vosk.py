"""Vosk (Kaldi) behind the AsrEngine interface: true streaming, decoded as audio arrives.

One ``vosk.Model`` per process is shared by every call (it is thread-safe); each stream
owns one ``KaldiRecognizer``, which is not. So a stream never has more than one decode job
in the pool, and every recogniser call holds the stream's lock. ``accept`` runs on the event
loop: it only appends to a buffer and, once enough audio is waiting, hands a drain job to
the pool; audio that arrives while a job runs is picked up by that same job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from callbot.speech.asr.base import Hypothesis
from callbot.speech.asr.choices import Choices
from callbot.speech.asr.priority import lower_this_thread
from telephony.audio_format import BYTES_PER_MS, SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

# Waking a pool thread for every 20 ms frame costs more than the decode of 20 ms; 100 ms
# keeps partial decoding close to real time with a fifth of the hand-offs.
MIN_BATCH_BYTES = 100 * BYTES_PER_MS
UNKNOWN_WORD = "[unk]"


def has_dynamic_graph(model_dir: Path) -> bool:
    """Grammars (phrase lists) need the Gr.fst + HCLr.fst pair instead of a static HCLG."""
    for graph in (model_dir / "graph", model_dir):
        if (graph / "Gr.fst").exists() and (graph / "HCLr.fst").exists():
            return True
    return False


class VoskEngine:
    name = "vosk"
    # A closed question's answers become the recogniser's grammar (the text then goes
    # through the NLU like any other); no per-answer scores come back.
    supports_choices = False

    def __init__(self, model_dir: str | Path, *, threads: int = 2, decode_nice: int = 0) -> None:
        import vosk  # heavy native import: only when the engine is used

        vosk.SetLogLevel(-1)  # Kaldi logs every recogniser to stderr otherwise
        self._vosk = vosk
        self.model_dir = Path(model_dir)
        self._model = vosk.Model(str(self.model_dir))
        self.supports_phrases = has_dynamic_graph(self.model_dir)
        self._pool = ThreadPoolExecutor(  # below the loop's priority (priority.py)
            max_workers=threads,
            thread_name_prefix="vosk",
            initializer=lower_this_thread,
            initargs=(decode_nice,),
        )
        self._closed = False

    def open_stream(
        self, phrases: Sequence[str] | None = None, choices: Choices | None = None
    ) -> VoskStream:
        if self._closed:
            raise RuntimeError("VoskEngine is closed")
        if choices is not None:
            phrases = choices.texts()[0]  # every way of giving the expected answers
        grammar = self._grammar(phrases) if phrases and self.supports_phrases else None
        if grammar:
            recognizer = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar)
        else:
            if phrases:
                log.debug("phrase list not usable with this model: decoding freely")
            recognizer = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        recognizer.SetWords(True)  # per-word confidences, averaged into the hypothesis'
        return VoskStream(recognizer, self._pool)

    async def close(self) -> None:
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)

    def _known(self, word: str) -> bool:
        return self._model.vosk_model_find_word(word) >= 0

    def _grammar(self, phrases: Sequence[str]) -> str | None:
        """JSON grammar of the phrases whose words the model knows (Kaldi would drop the
        others with a warning per stream), plus "[unk]" so an answer off the list is not
        forced onto it."""
        usable = [p.lower() for p in phrases if all(self._known(w) for w in p.lower().split())]
        if len(usable) < len(phrases):
            log.debug(
                "phrases with words unknown to the model dropped: %d", len(phrases) - len(usable)
            )
        if not usable:
            return None
        if self._known(UNKNOWN_WORD):
            usable.append(UNKNOWN_WORD)
        return json.dumps(usable, ensure_ascii=False)


class VoskStream:
    def __init__(self, recognizer, pool: ThreadPoolExecutor) -> None:
        self._recognizer = recognizer
        self._pool = pool
        self._pending = bytearray()
        self._pending_lock = threading.Lock()  # accept() on the loop, drain in a worker
        self._decoder_lock = threading.Lock()  # one recogniser call at a time
        self._job: Future[None] | None = None
        self._words: list[str] = []
        self._confs: list[float] = []
        self._audio_bytes = 0
        self._decode_seconds = 0.0
        self._cancelled = False
        self._finished = False

    def accept(self, pcm: bytes) -> None:
        if self._cancelled or self._finished:
            return
        with self._pending_lock:
            self._pending += pcm
            self._audio_bytes += len(pcm)
            ready = len(self._pending) >= MIN_BATCH_BYTES
        if ready and (self._job is None or self._job.done()):
            self._job = self._pool.submit(self._drain)

    async def finish(self) -> Hypothesis:
        self._finished = True
        if self._cancelled:
            return Hypothesis("", 0.0, 0.0, 0.0)
        loop = asyncio.get_running_loop()
        # _final takes the decoder lock, so it runs after any drain job still in flight.
        text, confidence = await loop.run_in_executor(self._pool, self._final)
        return Hypothesis(
            text=text,
            confidence=confidence,
            audio_seconds=self._audio_bytes / (SAMPLE_RATE * SAMPLE_WIDTH),
            decode_seconds=self._decode_seconds,
        )

    def cancel(self) -> None:
        self._cancelled = True
        with self._pending_lock:
            self._pending.clear()

    # --- in the pool -------------------------------------------------------------------

    def _take(self) -> bytes:
        with self._pending_lock:
            # Whole samples only: a frame may end mid-sample in theory.
            n = len(self._pending) - len(self._pending) % SAMPLE_WIDTH
            chunk = bytes(self._pending[:n])
            del self._pending[:n]
        return chunk

    def _drain(self) -> None:
        with self._decoder_lock:
            while not self._cancelled and (chunk := self._take()):
                started = time.perf_counter()
                if self._recognizer.AcceptWaveform(chunk):
                    # Kaldi found an endpoint inside the turn: keep that segment's words.
                    self._collect(self._recognizer.Result())
                self._decode_seconds += time.perf_counter() - started

    def _final(self) -> tuple[str, float]:
        self._drain()
        with self._decoder_lock:
            started = time.perf_counter()
            self._collect(self._recognizer.FinalResult())
            self._decode_seconds += time.perf_counter() - started
        words = [w for w in self._words if w != UNKNOWN_WORD]
        confs = [c for w, c in zip(self._words, self._confs, strict=True) if w != UNKNOWN_WORD]
        if not words:
            return "", 0.0
        return " ".join(words).lower(), sum(confs) / len(confs)

    def _collect(self, result_json: str) -> None:
        result = json.loads(result_json)
        entries = result.get("result")
        if entries:
            for entry in entries:
                self._words.append(entry["word"])
                self._confs.append(float(entry.get("conf", 0.0)))
        elif text := result.get("text", "").strip():
            # No word list (should not happen with SetWords): unknown confidence, say so.
            for word in text.split():
                self._words.append(word)
                self._confs.append(0.5)
