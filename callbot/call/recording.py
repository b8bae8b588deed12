"""One stereo WAV per call: caller on the left, bot on the right, time-aligned.

Both channels advance on the call's 20 ms frame clock: each tick writes the frame the bot
sent and whatever caller audio arrived since the previous tick (silence if none — a muted
or Local channel sends nothing). The file is written as the call goes and its header is
rewritten every second, so a crash or SIGKILL leaves a valid WAV of everything up to then.

Recording must never take a call down: a full disk is logged once, counted on the
recording, and the call carries on (its ticket and transcript are still saved).
"""

from __future__ import annotations

import contextlib
import logging
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from telephony.audio_format import FRAME_BYTES, SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

CHANNELS = 2
HEADER_BYTES = 44
HEADER_EVERY_FRAMES = 50  # 1 s
# Caller audio may arrive in bursts; beyond this backlog it is written at once (both channels
# padded) rather than drifting further from the bot channel.
MAX_CALLER_BACKLOG = 10 * FRAME_BYTES


def wav_header(data_bytes: int, *, channels: int = CHANNELS, rate: int = SAMPLE_RATE) -> bytes:
    block_align = channels * SAMPLE_WIDTH
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        channels,
        rate,
        rate * block_align,
        block_align,
        SAMPLE_WIDTH * 8,
        b"data",
        data_bytes,
    )


def interleave(left: bytes, right: bytes) -> bytes:
    """Two mono s16le buffers of equal length → one stereo buffer."""
    stereo = np.empty(len(left) // SAMPLE_WIDTH * 2, dtype="<i2")
    stereo[0::2] = np.frombuffer(left, dtype="<i2")
    stereo[1::2] = np.frombuffer(right, dtype="<i2")
    return stereo.tobytes()


class CallRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._caller_backlog = bytearray()
        self._data_bytes = 0
        self._frames_since_header = 0
        self.failed: str | None = None  # why the recording stopped, if it did
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "wb")  # noqa: SIM115 — lives as long as the call
            self._file.write(wav_header(0))
        except OSError as error:
            self._fail(error)

    @property
    def duration_ms(self) -> int:
        return self._data_bytes // (CHANNELS * SAMPLE_WIDTH) * 1000 // SAMPLE_RATE

    def caller_audio(self, pcm: bytes) -> None:
        self._caller_backlog += pcm

    def bot_frame(self, frame: bytes) -> None:
        """Called once per clock tick with the frame the bot just sent."""
        backlog = self._caller_backlog
        if len(backlog) > MAX_CALLER_BACKLOG:
            # Write the burst now, the bot side padded with silence after this frame.
            caller = bytes(backlog)
            bot = frame + bytes(len(caller) - len(frame)) if len(caller) > len(frame) else frame
            caller = caller.ljust(len(bot), b"\0")
            backlog.clear()
        else:
            caller = bytes(backlog[:FRAME_BYTES]).ljust(FRAME_BYTES, b"\0")
            del backlog[:FRAME_BYTES]
            bot = frame
        self._write(interleave(caller, bot))

    def close(self) -> None:
        """Write what the caller said after the last tick and finalise the header."""
        if self._caller_backlog:
            rest = bytes(self._caller_backlog)
            if len(rest) % 2:
                rest = rest[:-1]
            self._caller_backlog.clear()
            self._write(interleave(rest, bytes(len(rest))))
        if self._file is not None:
            try:
                self._rewrite_header()
                self._file.close()
            except OSError as error:
                self._fail(error)
            self._file = None

    def _write(self, stereo: bytes) -> None:
        if self._file is None:
            return
        try:
            self._file.write(stereo)
            self._data_bytes += len(stereo)
            self._frames_since_header += 1
            if self._frames_since_header >= HEADER_EVERY_FRAMES:
                self._rewrite_header()
        except OSError as error:
            self._fail(error)

    def _rewrite_header(self) -> None:
        assert self._file is not None
        self._frames_since_header = 0
        self._file.seek(0)
        self._file.write(wav_header(self._data_bytes))
        self._file.seek(0, 2)
        self._file.flush()

    def _fail(self, error: OSError) -> None:
        self.failed = f"{type(error).__name__}: {error.strerror or error}"
        log.error("recording %s stopped: %s", self.path.name, self.failed)
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None
