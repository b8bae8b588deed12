"""Settings: defaults, TOML file, environment; clear errors; secrets masked; the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callbot.config import ConfigError, describe, load_settings

ROOT = Path(__file__).parents[1]


def test_defaults_work_out_of_the_box():
    s = load_settings(env={})
    assert s.audiosocket.host == "127.0.0.1"  # no authentication: loopback unless told
    assert s.asr.engine == "whisper" and s.store.url.startswith("sqlite:///")


def test_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "callbot.toml"
    path.write_text('[audiosocket]\nport = 9100\nallow = ["10.0.0.0/8"]\n[ami]\nenabled = true\n')
    s = load_settings(path, env={"CALLBOT_AUDIOSOCKET_PORT": "9200"})
    assert s.audiosocket.port == 9200
    assert s.audiosocket.allow == ["10.0.0.0/8"]
    assert s.ami.enabled is True
    s = load_settings(path, env={"CALLBOT_AUDIOSOCKET_ALLOW": "127.0.0.1, 10.1.2.3"})
    assert s.audiosocket.allow == ["127.0.0.1", "10.1.2.3"]


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[nope]\nx = 1\n", {}, "unknown section [nope]"),
        ("[store]\nuri = 'x'\n", {}, "unknown setting store.uri"),
        ("[audiosocket]\nport = 'many'\n", {}, "audiosocket.port"),
        ("", {"CALLBOT_AMI_ENABLED": "maybe"}, "CALLBOT_AMI_ENABLED: not a boolean"),
        ("[vad\n", {}, "callbot.toml"),
    ],
)
def test_bad_settings_name_the_place(tmp_path, text, env, message):
    path = tmp_path / "callbot.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_settings(path, env=env)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nothing.toml", env={})


def test_secrets_are_masked():
    text = describe(load_settings(env={"CALLBOT_AMI_SECRET": "hunter2"}))
    assert "hunter2" not in text and 'secret = "********"' in text


def test_example_settings_file_parses():
    load_settings(ROOT / "callbot.example.toml", env={})


def test_cli_reports_bad_settings_and_helps():
    bad = subprocess.run(
        [sys.executable, "-m", "callbot", "config"],
        env={"CALLBOT_AUDIOSOCKET_PORT": "x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "CALLBOT_AUDIOSOCKET_PORT" in bad.stderr
    helped = subprocess.run(
        [sys.executable, "-m", "callbot", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "simulate", "demo", "models", "prompts", "chat"):
        assert command in helped.stdout
