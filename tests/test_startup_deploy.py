"""docs/deploy/ says only what works: the systemd unit is valid (systemd-analyze verify,
where installed) and its ExecStart command line runs; the container file copies paths that
exist, sets valid settings and runs its command; the production settings file loads.

The container image itself is built only where a Docker daemon answers (not on the machine
this was written on: a docker client, no daemon) and CALLBOT_TEST_DOCKER=1 asks for it."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callbot.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "docs" / "deploy"
VENV_CALLBOT = Path(sys.executable).parent / "callbot"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "callbot.service", encoding="utf-8")
    return parser


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callbot", *argv],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_unit_runs_callbot_serve_and_restarts_only_when_it_can_help():
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/callbot/.venv/bin/callbot" and argv[-1] == "serve"
    helped = run([*argv[1:], "--help"])  # the same options, parsed by the real parser
    assert helped.returncode == 0 and helped.stdout.startswith("usage: callbot serve")
    # the settings file it names, as docs/deploy/callbot.toml ships it, is valid settings
    config = argv[argv.index("--config") + 1]
    assert config == "/etc/callbot/callbot.toml"
    shown = run(["--config", str(DEPLOY / "callbot.toml"), "config"])
    assert shown.returncode == 0, shown.stderr
    assert 'url = "sqlite:////var/lib/callbot/callbot.db"' in shown.stdout
    # bad settings exit 2 (tests/test_startup.py): the unit must not restart on those
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    # it waits for calls to end: longer than the longest call
    assert float(service["TimeoutStopSec"]) > load_settings(env={}).dialog.max_call_s


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path):
    """systemd's own checker, on a copy pointing at this checkout's callbot (and at root,
    as the callbot user does not exist here): unknown keys or a bad command line fail."""
    text = (DEPLOY / "callbot.service").read_text(encoding="utf-8")
    text = text.replace("/opt/callbot/.venv/bin/callbot", str(VENV_CALLBOT))
    text = re.sub(r"^(User|Group)=callbot$", r"\1=root", text, flags=re.M)
    copy = tmp_path / "callbot.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def containerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined."""
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def test_the_container_file_copies_what_exists_and_sets_valid_settings():
    steps = containerfile()
    for instruction, rest in steps:
        if instruction == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    env: dict[str, str] = {}
    for instruction, rest in steps:
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
    settings = load_settings(env={k: v for k, v in env.items() if k.startswith("CALLBOT_")})
    assert settings.audiosocket.host == "0.0.0.0" and settings.log.format == "json"
    assert settings.store.url.startswith("sqlite:////var/lib/callbot/")
    (cmd,) = [json.loads(rest) for instruction, rest in steps if instruction == "CMD"]
    assert cmd[0] == "callbot"
    helped = run([*cmd[1:], "--help"])
    assert helped.returncode == 0 and helped.stdout.startswith("usage: callbot serve")
    (check,) = [rest for instruction, rest in steps if instruction == "HEALTHCHECK"]
    assert "/readyz" in check
    # runtime install only: the dev extras (Playwright, the Korean test model) stay out
    assert not any("[dev]" in rest for instruction, rest in steps if instruction == "RUN")


def _docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(
    os.environ.get("CALLBOT_TEST_DOCKER") != "1" or not _docker_daemon(),
    reason="set CALLBOT_TEST_DOCKER=1 where a Docker daemon runs (needs PyPI and Debian)",
)
def test_the_container_image_builds():
    done = subprocess.run(
        ["docker", "build", "-f", str(DEPLOY / "Containerfile"), "-t", "callbot-1022:test", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
