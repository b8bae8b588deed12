"""The call page's player: per-speaker lanes drawn from the turns' offsets.

Supervisors of contact-centre tools expect to see who spoke when before they press play
(issue 16). The lanes are an SVG drawn on the server — one row for the caller, one for the
bot, a block per turn at its place in the recording — so they print and need no script;
``dashboard.js`` moves a playhead over them, highlights the turn being played, and makes a
click on a block seek there. SVG attributes rather than inline styles place the blocks:
the pages' Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

from callbot.tickets.model import Speaker, Turn

LANE_WIDTH = 1000  # SVG units across the whole recording
LANES = (Speaker.CALLER, Speaker.BOT)
MIN_BLOCK_MS = 400  # a turn without an end (or a keypad press) still shows


def _flac_duration_ms(path: Path) -> int | None:
    import av  # PyAV, faster-whisper's dependency: only for archived recordings

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if stream.duration is None or stream.time_base is None:
                return None
            return round(float(stream.duration * stream.time_base) * 1000)
    except (OSError, av.error.FFmpegError, IndexError):
        return None


@dataclass(frozen=True)
class Block:
    speaker: str
    lane: int  # 0: caller, 1: bot
    start_ms: int
    x: float
    width: float


@dataclass(frozen=True)
class Lanes:
    duration_ms: int
    blocks: list[Block]


def recording_duration_ms(path: Path) -> int | None:
    """The recording's length from its header (WAV, or the FLAC of the archive,
    callbot/recordings_archive.py), or None when it cannot be read."""
    if path.suffix == ".flac":
        return _flac_duration_ms(path)
    try:
        with wave.open(str(path), "rb") as recording:
            rate = recording.getframerate()
            return round(recording.getnframes() * 1000 / rate) if rate else None
    except (OSError, EOFError, wave.Error):
        return None


def lanes(turns: list[Turn], duration_ms: int | None) -> Lanes | None:
    """Blocks for every caller and bot turn that has an offset, scaled to the recording's
    length (or, when that is unknown, to the last turn's end). None without offsets."""
    timed = [t for t in turns if t.start_ms is not None and t.speaker in LANES]
    if not timed:
        return None
    ends = []
    for index, turn in enumerate(timed):
        assert turn.start_ms is not None
        later = [t.start_ms for t in timed[index + 1 :] if t.start_ms is not None]
        end = turn.end_ms if turn.end_ms is not None else (later[0] if later else None)
        ends.append(max(end or 0, turn.start_ms + MIN_BLOCK_MS))
    total = max(duration_ms or 0, max(ends), 1)
    blocks = [
        Block(
            speaker=str(turn.speaker),
            lane=LANES.index(turn.speaker),
            start_ms=turn.start_ms or 0,
            x=round((turn.start_ms or 0) / total * LANE_WIDTH, 1),
            width=round(max(end - (turn.start_ms or 0), 1) / total * LANE_WIDTH, 1),
        )
        for turn, end in zip(timed, ends, strict=True)
    ]
    return Lanes(total, blocks)
