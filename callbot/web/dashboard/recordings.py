"""Serving call recordings to the browser's <audio> element, with HTTP Range requests.

Browsers seek in a WAV by asking for byte ranges (``Range: bytes=START-``); without
``206 Partial Content`` answers, a click on a turn would restart the download and Chrome
would refuse to seek at all. One range per request is all <audio> asks for; a multi-range
request gets the whole file (200), which RFC 9110 allows.

The path stored on a ticket is relative to the recordings directory. It is resolved there
and refused unless the result is a file inside that directory: no absolute paths, no
``..``, and no symbolic link pointing elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.responses import Response, StreamingResponse

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")  # ASCII digits, bigint range


class RecordingPathError(ValueError):
    """The stored path points outside the recordings directory, or is malformed."""


def resolve_recording(recordings_dir: Path, stored: str) -> Path:
    """The recording's file inside ``recordings_dir``; RecordingPathError if it would
    leave it. May return a path that does not exist (the caller answers 404)."""
    relative = PurePosixPath(stored.replace("\\", "/"))
    if not stored or relative.is_absolute() or ".." in relative.parts or "\x00" in stored:
        raise RecordingPathError(stored)
    root = recordings_dir.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or candidate == root:
        raise RecordingPathError(stored)
    return candidate


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class UnsatisfiableRange(ValueError):
    pass


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, None for the whole file; UnsatisfiableRange → 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # multi-range or another unit: send the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0:
            raise UnsatisfiableRange(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise UnsatisfiableRange(header)
    return ByteRange(start, end)


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        remaining = length
        while remaining > 0:
            chunk = file.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def recording_response(path: Path, range_header: str | None) -> Response:
    size = path.stat().st_size
    headers = {
        "Accept-Ranges": "bytes",
        # Personal data: never kept by shared caches.
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    try:
        wanted = parse_range(range_header, size)
    except UnsatisfiableRange:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if wanted is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(_read(path, 0, size), media_type="audio/wav", headers=headers)
    headers["Content-Length"] = str(wanted.length)
    headers["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    return StreamingResponse(
        _read(path, wanted.start, wanted.length),
        status_code=206,
        media_type="audio/wav",
        headers=headers,
    )
