"""`callbot serve` fails fast: every fatal start-up error ends the real process with a
non-zero status and one clear line on stderr (2: settings, 1: the rest), never a traceback
and never a process that keeps running half-started; a good start is ready and stops on
SIGTERM with status 0 (issue 16).

Each case runs ``python -m callbot serve`` as a subprocess under a timeout. Cases that fail
before the model loads take about a second; the good start loads Whisper base."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60  # a process still running after this has not failed fast


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private store, recordings and caches; free ports; nothing from the caller's env."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CALLBOT_STORE_URL": f"sqlite:///{tmp_path / 'tickets.db'}",
        "CALLBOT_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "CALLBOT_PROMPTS_TTS_CACHE_DIR": str(tmp_path / "tts"),
        "CALLBOT_AUDIOSOCKET_PORT": "0",
        "CALLBOT_WEB_PORT": "0",
    }
    if "CALLBOT_MODELS_DIR" in os.environ:
        base["CALLBOT_MODELS_DIR"] = os.environ["CALLBOT_MODELS_DIR"]
    return base


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def serve(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "callbot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return done, time.monotonic() - started


def assert_fails(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == code, done.stderr
    assert last.startswith("callbot"), last
    for word in words:
        assert word in last, last
    return last


def test_audiosocket_port_in_use(env, taken_port):
    env["CALLBOT_AUDIOSOCKET_PORT"] = str(taken_port)
    done, seconds = serve(env, "serve")
    assert_fails(
        done, 1, f"cannot start: AudioSocket on 127.0.0.1:{taken_port}: Address already in use"
    )
    assert seconds < 15  # before the model loads
    done, _ = serve(env, "serve", "--port", str(taken_port))  # the same through --port
    assert_fails(done, 1, f"AudioSocket on 127.0.0.1:{taken_port}")


def test_web_port_in_use_stops_start_up_instead_of_serving_without_a_dashboard(env, taken_port):
    env["CALLBOT_WEB_PORT"] = str(taken_port)
    done, seconds = serve(env, "serve")
    assert_fails(done, 1, f"cannot start: web on 127.0.0.1:{taken_port}: Address already in use")
    assert seconds < 15
    assert "AudioSocket on" not in done.stdout  # never announced as started


@pytest.mark.parametrize(
    ("variables", "args", "words"),
    [
        ({"CALLBOT_AUDIOSOCKET_PORT": "99999"}, (), ["CALLBOT_AUDIOSOCKET_PORT='99999'"]),
        ({}, ("--port", "99999"), ["a port is 0 to 65535"]),
        ({"CALLBOT_ASR_ENGINE": "kaldi"}, (), ["CALLBOT_ASR_ENGINE='kaldi'", "'whisper'"]),
        ({"CALLBOT_ASR_MODEL": "whisper-tiny"}, (), ["unknown model", "whisper-base"]),
        ({"CALLBOT_VAD_AGGRESSIVENESS": "7"}, (), ["less than or equal to 3"]),
        ({"CALLBOT_STORE_URLL": "sqlite:///x.db"}, (), ["did you mean CALLBOT_STORE_URL?"]),
        ({"CALLBOT_DIALOG_MAX_CALL_S": "ten"}, (), ["CALLBOT_DIALOG_MAX_CALL_S='ten'"]),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(env, variables, args, words):
    done, seconds = serve({**env, **variables}, "serve", *args)
    assert_fails(done, 2, *words)
    assert seconds < 15


def test_config_paths_that_do_not_resolve(env, tmp_path):
    done, _ = serve(env, "--config", str(tmp_path / "nope.toml"), "serve")
    assert_fails(done, 2, f"config file {tmp_path / 'nope.toml'} does not exist")
    done, _ = serve({**env, "CALLBOT_CONFIG": str(tmp_path / "nope.toml")}, "serve")
    assert_fails(done, 2, "does not exist")
    done, _ = serve({**env, "CALLBOT_ROUTING_RULES_FILE": str(tmp_path / "r.toml")}, "serve")
    assert_fails(done, 2, "routing.rules_file", "no such file")
    # relative to the file's folder, where there is no prompts/ folder
    conf = tmp_path / "conf" / "callbot.toml"
    conf.parent.mkdir()
    conf.write_text('[prompts]\ndir = "prompts"\n')
    done, seconds = serve(env, "--config", str(conf), "serve")
    assert_fails(done, 2, f"prompts.dir = '{tmp_path / 'conf' / 'prompts'}': no such folder")
    assert seconds < 15


def test_a_model_that_cannot_be_downloaded(env, tmp_path):
    """whisper-small comes from the Hugging Face hub; the proxy it is sent to refuses."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"  # nothing listens there
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = proxy
    env["HF_HOME"] = str(tmp_path / "hf")
    env["CALLBOT_ASR_MODEL"] = "whisper-small"
    env["CALLBOT_ASR_MODELS_DIR"] = str(tmp_path / "models")
    done, _ = serve(env, "serve")
    assert_fails(done, 1, "cannot start: speech model whisper-small", "could not download")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:////proc/callbot/tickets.db", ["ticket store sqlite:////proc/callbot"]),
        ("postgresql://callbot:pw@127.0.0.1:1/test", ["ticket store", "callbot:***@127.0.0.1"]),
    ],
)
def test_a_store_that_cannot_be_opened(env, url, words):
    done, _ = serve({**env, "CALLBOT_STORE_URL": url}, "serve")
    last = assert_fails(done, 1, "cannot start:", *words)
    assert ":pw@" not in done.stderr and ":pw@" not in last  # the password never printed


def test_a_file_that_is_not_a_database(env, tmp_path):
    """Once, the failed open left an SQLite thread behind and the process never exited."""
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    done, seconds = serve({**env, "CALLBOT_STORE_URL": f"sqlite:///{broken}"}, "serve")
    assert_fails(done, 1, f"ticket store sqlite:///{broken}", "file is not a database")
    assert seconds < 15


def test_workers_stop_start_up_when_one_cannot_start(env, taken_port):
    env["CALLBOT_WEB_PORT"] = str(taken_port)  # worker 0 takes web.port, worker 1 the next
    done, _ = serve(env, "serve", "--workers", "2")
    assert_fails(done, 1, "web on 127.0.0.1", "Address already in use", "(worker ")
    env["CALLBOT_WEB_PORT"] = "0"
    env["CALLBOT_AUDIOSOCKET_PORT"] = str(taken_port)
    done, _ = serve(env, "serve", "--workers", "2")
    assert_fails(done, 1, f"AudioSocket on 127.0.0.1:{taken_port}: Address already in use")


def test_a_good_start_is_ready_logs_json_and_stops_with_0(env):
    env["CALLBOT_LOG_FORMAT"] = "json"
    process = subprocess.Popen(
        [sys.executable, "-m", "callbot", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = []
        deadline = time.monotonic() + TIMEOUT_S
        while not any("AudioSocket on" in s["message"] for s in status):
            assert time.monotonic() < deadline and process.poll() is None
            line = process.stdout.readline()  # type: ignore[union-attr]
            if line:
                status.append(json.loads(line))  # status lines are JSON objects too
        web = next(s["message"] for s in status if "web on" in s["message"])
        url = web.split("web on ", 1)[1].rstrip("/")
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "store": "ok", "model": "ok"}
        # no Swagger UI from a CDN (offline); the schema is still there for tools
        assert httpx.get(f"{url}/docs").status_code == 404
        assert httpx.get(f"{url}/api/docs").status_code == 404
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "callbot-1022"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    errors = process.stderr.read()  # type: ignore[union-attr]
    entries = [json.loads(line) for line in errors.splitlines()]  # every log line is JSON
    assert {"time", "level", "logger", "message"} <= entries[0].keys()
    assert any(e["message"].startswith("stopping") for e in entries)


async def test_readiness_names_what_is_not_ready(tmp_path):
    """/readyz is 503 while the store cannot answer or no model is loaded; /healthz stays
    200 (liveness), and neither says why (that goes to the log)."""
    from callbot.config import Settings
    from callbot.server import WebServer
    from callbot.tickets.store.factory import open_store
    from callbot.web.app import create_app

    store = await open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    app = create_app(store, Settings())
    web = WebServer(app, "127.0.0.1", 0)
    port = await web.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not ready", "store": "ok", "model": "not loaded"}
            await store.close()  # the store goes away under a running web app
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["store"] == "unavailable"
            assert str(tmp_path) not in ready.text
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        await web.stop()
