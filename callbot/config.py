"""Settings: defaults that work out of the box, a TOML file, then environment variables.

Every setting is ``[section] key`` in the TOML file and ``CALLBOT_SECTION_KEY`` in the
environment (the environment wins), e.g. ``[store] url`` / ``CALLBOT_STORE_URL``. Secrets
(the AMI password) belong in the environment, not in the file. ``callbot config`` prints
the effective settings with secrets masked; ``example_toml()`` documents every key.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callbot.call.endpointer import EndpointerSettings
from callbot.speech.prompts import DEFAULT_PROMPTS_DIR, PROJECT_ROOT

DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class ConfigError(ValueError):
    pass


@dataclass
class AudioSocketSettings:
    host: str = "127.0.0.1"  # AudioSocket has no authentication: loopback unless told
    port: int = 9092
    allow: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])  # peer IPs / CIDRs
    max_payload: int = 4096  # bytes; a larger announced frame closes the connection
    uuid_timeout_s: float = 5.0  # a peer that sends no UUID frame in time is dropped


@dataclass
class AsrSettings:
    engine: str = "whisper"  # "whisper" or "vosk"
    model: str = ""  # a name from `callbot models list`; empty = the engine's default
    # Whisper: `workers` decodes at once, `threads` each. On 2 vCPU, 2 workers × 1 thread
    # decode 11.4 utterances/s against 7.0 for 1 × 2 (bench/bench_asr_concurrency.py).
    threads: int = 1
    workers: int = 2
    models_dir: str = ""  # empty: $CALLBOT_MODELS_DIR, else asr_models/cache
    # Whisper: seconds of padding after the utterance in the encoder window; 0 = Whisper's
    # standard 30 s window (about 4x slower on CPU, slightly more accurate).
    window_pad_s: float = 2.0
    language: str = "vi"


@dataclass
class VadSettings:
    aggressiveness: int = 2
    start_speech_ms: int = 100
    barge_in_ms: int = 240
    end_silence_ms: int = 700
    max_utterance_ms: int = 12_000
    no_speech_timeout_ms: int = 6_000

    def endpointer(self) -> EndpointerSettings:
        return EndpointerSettings(**dataclasses.asdict(self))


@dataclass
class DialogSettings:
    keypad_digit_timeout_s: float = 3.0  # a pause this long ends a keyed number
    max_call_s: float = 600.0  # a call longer than this is ended (ticket kept)


@dataclass
class StoreSettings:
    url: str = f"sqlite:///{DEFAULT_VAR_DIR / 'callbot.db'}"


@dataclass
class RecordingSettings:
    dir: str = str(DEFAULT_VAR_DIR / "recordings")
    enabled: bool = True


@dataclass
class PromptSettings:
    dir: str = str(DEFAULT_PROMPTS_DIR)
    override_dir: str = ""  # a folder of studio recordings named like prompts/audio/*.wav
    tts_voice: str = "vi"  # espeak-ng voice: vi, vi-vn-x-south, vi-vn-x-central
    tts_cache_dir: str = str(DEFAULT_VAR_DIR / "tts-cache")


@dataclass
class AmiSettingsSection:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "callbot"
    secret: str = ""  # set CALLBOT_AMI_SECRET in the environment
    queue: str = "support"
    overflow_mode: str = "observe"  # "observe" (dialplan decides) or "rules"
    max_wait_s: float = 20.0
    max_queue_len: int = 10
    correlation_wait_s: float = 1.0  # how long a new call waits for its UserEvent
    # Also record on the Asterisk side with MixMonitor into this folder (on the Asterisk
    # machine; needs write class "system"). Empty: only the callbot's own recording.
    mixmonitor_dir: str = ""


@dataclass
class WebSettings:
    enabled: bool = True  # dashboard, Open311 API and /metrics, served by `callbot serve`
    host: str = "127.0.0.1"
    port: int = 8022
    # Signs session cookies. Set CALLBOT_WEB_SECRET_KEY in production; when empty a random
    # key is made at start-up (sessions then end when the server restarts).
    secret_key: str = ""
    secure_cookies: bool = False  # true behind HTTPS
    timezone: str = "Asia/Ho_Chi_Minh"


# --- Issue 5: routing, outbox, Open311, retention (docs/tickets.md) -------------------------


@dataclass
class RoutingSettings:
    rules_file: str = str(PROJECT_ROOT / "config" / "routing.toml")


@dataclass
class OutboxSettings:
    enabled: bool = True  # `callbot serve` delivers to agencies' webhooks
    poll_interval_s: float = 2.0  # how often the worker looks for due deliveries
    batch: int = 20  # deliveries claimed at once
    concurrency: int = 8  # POSTs in flight at once
    max_attempts: int = 10  # then the delivery is marked failed
    backoff_base_s: float = 30.0  # 1st retry after ~30 s, then ×2 each time …
    backoff_max_s: float = 3600.0  # … up to an hour
    lease_s: float = 120.0  # a claimed delivery whose worker died is retried after this
    timeout_s: float = 10.0  # per HTTP request


@dataclass
class Open311Settings:
    # The environment variable holding the API keys that may POST requests, comma-separated;
    # "chat:KEY" files tickets on the chat channel, a bare key on the web channel.
    api_keys_env: str = "CALLBOT_OPEN311_API_KEYS"
    max_body_bytes: int = 65_536
    max_results: int = 1000
    default_days: int = 90  # GET without dates: the last 90 days (as the spec suggests)


@dataclass
class RetentionSettings:
    enabled: bool = True  # `callbot serve` runs the purge job
    interval_s: float = 3600.0
    # Days after a ticket's last change before its personal data is purged, per status
    # ("closed=90"); statuses not listed use default_days.
    periods: list[str] = field(default_factory=lambda: ["closed=90", "rejected=90"])
    default_days: int = 365


@dataclass
class Settings:
    audiosocket: AudioSocketSettings = field(default_factory=AudioSocketSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    dialog: DialogSettings = field(default_factory=DialogSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    recordings: RecordingSettings = field(default_factory=RecordingSettings)
    prompts: PromptSettings = field(default_factory=PromptSettings)
    ami: AmiSettingsSection = field(default_factory=AmiSettingsSection)
    web: WebSettings = field(default_factory=WebSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)  # issue 5
    outbox: OutboxSettings = field(default_factory=OutboxSettings)  # issue 5
    open311: Open311Settings = field(default_factory=Open311Settings)  # issue 5
    retention: RetentionSettings = field(default_factory=RetentionSettings)  # issue 5


SECRET_KEYS = {("ami", "secret"), ("web", "secret_key")}


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    # Annotations are strings here (postponed evaluation): "int", "list[str]", …
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    kind = list if name.startswith("list") else {"str": str, "int": int, "float": float}.get(name)
    if name == "bool":
        kind = bool
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind is int:
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            return int(value)
        if kind is float:
            return float(value)
        if kind is list:
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            if not isinstance(value, list):
                raise ValueError(f"expected a list, got {value!r}")
            return [str(item) for item in value]
        if kind is str:
            if not isinstance(value, str | int | float):
                raise ValueError(f"expected text, got {value!r}")
            return str(value)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    return value


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    if path is None and env.get("CALLBOT_CONFIG"):
        path = Path(env["CALLBOT_CONFIG"])
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    settings = Settings()
    sections = {f.name: f for f in dataclasses.fields(Settings)}
    for section_name in data:
        if section_name not in sections:
            raise ConfigError(f"{path}: unknown section [{section_name}]")
    for section_name in sections:
        section = getattr(settings, section_name)
        keys = {f.name: f for f in dataclasses.fields(section)}
        from_file = data.get(section_name, {})
        if not isinstance(from_file, dict):
            raise ConfigError(f"{path}: [{section_name}] must be a table")
        for key in from_file:
            if key not in keys:
                raise ConfigError(f"{path}: unknown setting {section_name}.{key}")
        for key, spec in keys.items():
            env_name = f"CALLBOT_{section_name}_{key}".upper()
            if env_name in env:
                value, where = env[env_name], env_name
            elif key in from_file:
                value, where = from_file[key], f"{path}: {section_name}.{key}"
            else:
                continue
            setattr(section, key, _coerce(value, spec.type, where))
    return settings


def describe(settings: Settings) -> str:
    """The effective settings as TOML, secrets masked."""
    lines = []
    for section_field in dataclasses.fields(settings):
        section = getattr(settings, section_field.name)
        lines.append(f"[{section_field.name}]")
        for key_field in dataclasses.fields(section):
            value = getattr(section, key_field.name)
            if (section_field.name, key_field.name) in SECRET_KEYS and value:
                value = "********"
            lines.append(f"{key_field.name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
