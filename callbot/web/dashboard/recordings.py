"""Serving call recordings to the browser's <audio> element, with HTTP Range requests.

Browsers seek in a WAV by asking for byte ranges (``Range: bytes=START-``); without
``206 Partial Content`` answers, a click on a turn would restart the download and Chrome
would refuse to seek at all. Starlette's ``FileResponse`` (≥ 0.39; see
docs/dependencies.md) answers ranges itself: one range, a suffix (``bytes=-500``), an open
range, several ranges (``multipart/byteranges``), ``If-Range`` against its ETag or
Last-Modified, 416 with ``Content-Range: bytes */SIZE`` past the end, 400 for a malformed
header. This module only adds what is ours: where the file may be, and the headers that
keep personal data out of shared caches.

The path stored on a ticket is relative to the recordings directory. It is resolved there
and refused unless the result is a file inside that directory: no absolute paths, no
``..``, and no symbolic link pointing elsewhere.
"""

from __future__ import annotations

import stat
from pathlib import Path, PurePosixPath

from starlette.responses import FileResponse

# Personal data: never kept by shared caches, never sniffed into something else.
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
# A call writes WAV; `callbot recordings compress` archives it as FLAC (Chromium plays both).
MEDIA_TYPES = {".wav": "audio/wav", ".flac": "audio/flac"}


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


def recording_response(path: Path) -> FileResponse:
    """The recording, whole or in the ranges the request asks for (Starlette reads the
    ``Range`` and ``If-Range`` headers from the request itself). FileNotFoundError if the
    path is not a regular file, so the route answers 404 rather than Starlette's 500."""
    # One stat, here: handed to FileResponse so it does not stat again while sending (a
    # file the retention job deleted in between would be a RuntimeError, a 500, there).
    stat_result = path.stat()
    if not stat.S_ISREG(stat_result.st_mode):
        raise FileNotFoundError(path)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix.lower(), "audio/wav"),
        headers=PRIVATE_HEADERS,
        stat_result=stat_result,
    )
