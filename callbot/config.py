"""Settings: defaults that work out of the box, a TOML file, then environment variables.

Every setting is ``[section] key`` in the TOML file and ``CALLBOT_SECTION_KEY`` in the
environment (the environment wins), e.g. ``[store] url`` / ``CALLBOT_STORE_URL``. Secrets
(the AMI password) belong in the environment, not in the file.

Each section is a pydantic dataclass: still a plain dataclass to the code that reads it
(``dataclasses.replace`` works), and validated whenever it is built (types, ranges,
choices), so a mistake stops start-up with one line naming where it was written. A
``CALLBOT_`` variable that names no setting is an error when it starts like a section
(``CALLBOT_STORE_URLL``) and a warning otherwise (``environment_warnings``).

Relative paths in a file are relative to that file's folder; in the environment, to the
current directory. ``callbot config`` prints the effective settings with secrets masked;
``callbot config --example`` prints ``callbot.example.toml``, which is generated from the
classes below (a test keeps the committed file equal to it).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import zoneinfo
from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic import model_validator as _model_validator
from pydantic.dataclasses import dataclass

from asr_models.registry import MODELS
from callbot import config_file, config_surge
from callbot.call.endpointer import EndpointerSettings
from callbot.config_file import ConfigError as ConfigError
from callbot.config_file import LocalPathMarker
from callbot.config_notify import NotifySettings as NotifySettings
from callbot.speech.prompts import DEFAULT_PROMPTS_DIR, PROJECT_ROOT

DEFAULT_VAR_DIR = PROJECT_ROOT / "var"

# A new setting that is a path on this machine is a LocalPath (see LocalPathMarker).
LocalPath = Annotated[str, LocalPathMarker()]
StoreUrl = Annotated[str, LocalPathMarker(url=True)]  # sqlite:///relative/file.db
Port = Annotated[int, Field(ge=0, le=65535)]  # 0: any free port (tests, --workers)


def port_number(text: str) -> int:
    """A command-line ``Port`` (argparse ``type=``): 0 to 65535, 0 for any free one."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {port}")
    return port


Seconds = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]
Days = Annotated[int, Field(ge=0)]
Millis = Annotated[int, Field(gt=0)]


def networks(entries: list[str]) -> list[str]:
    """IPs or CIDRs, each checked (ipaddress's ValueError names the bad one)."""
    for entry in entries:
        ipaddress.ip_network(entry, strict=False)
    return entries


# Every section: unknown keys are refused; a string right under a setting documents it
# (it is printed above the key in callbot.example.toml).
STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


@dataclass(config=STRICT)
class AudioSocketSettings:
    host: str = "127.0.0.1"
    """AudioSocket has no authentication: loopback unless told"""
    port: Port = 9092
    """0: any free port (printed at start)"""
    allow: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    """peer IPs or CIDRs that may connect"""
    max_payload: Annotated[int, Field(ge=320, le=65535)] = 4096
    """bytes; a larger announced frame closes the connection"""
    uuid_timeout_s: Seconds = 5.0
    """a peer that sends no UUID frame in time is dropped"""

    @field_validator("allow")
    @classmethod
    def _networks(cls, allow: list[str]) -> list[str]:
        return networks(allow)


@dataclass(config=STRICT)
class AsrSettings:
    engine: Literal["whisper", "vosk"] = "whisper"
    model: str = ""
    """a name from `callbot models list`; empty: the engine's default"""
    threads: Count = 1
    """Whisper: `workers` decode at once, `threads` each. On 2 vCPU, 2 workers x 1 thread
    decode 11.4 utterances/s against 7.0 for 1 x 2 (bench/bench_asr_concurrency.py)."""
    workers: Count = 2
    models_dir: LocalPath = ""
    """empty: $CALLBOT_MODELS_DIR, else asr_models/cache"""
    window_pad_s: Annotated[float, Field(ge=0)] = 2.0
    """Whisper: seconds of padding after the utterance in the encoder window; 0 = the
    standard 30 s window (about 4x slower on CPU, slightly more accurate)"""
    language: str = "vi"
    decode_nice: Annotated[int, Field(ge=0, le=19)] = 10
    """decode threads' nice value (Linux): they yield the CPU to the calls' audio; 0 = same"""

    @field_validator("model")
    @classmethod
    def _known(cls, model: str) -> str:
        if model and model not in MODELS:
            raise ValueError(f"unknown model; known: {', '.join(MODELS)}")
        return model

    @_model_validator(mode="after")
    def _model_fits_engine(self) -> AsrSettings:
        spec = MODELS.get(self.model) if self.model else None
        if spec is not None and spec.engine != self.engine:
            raise ValueError(f"model {self.model!r} is for {spec.engine}, not {self.engine}")
        return self


@dataclass(config=STRICT)
class VadSettings:
    aggressiveness: Annotated[int, Field(ge=0, le=3)] = 2
    """WebRTC VAD: 0 (lenient) to 3 (strict)"""
    start_speech_ms: Millis = 100
    barge_in_ms: Millis = 240
    end_silence_ms: Millis = 700
    max_utterance_ms: Millis = 12_000
    no_speech_timeout_ms: Millis = 6_000

    def endpointer(self) -> EndpointerSettings:
        return EndpointerSettings(**dataclasses.asdict(self))


@dataclass(config=STRICT)
class DialogSettings:
    keypad_digit_timeout_s: Seconds = 3.0
    """a pause this long ends a keyed number"""
    max_call_s: Seconds = 600.0
    """a call longer than this is ended (ticket kept)"""


@dataclass(config=STRICT)
class StoreSettings:
    url: StoreUrl = f"sqlite:///{DEFAULT_VAR_DIR / 'callbot.db'}"
    """sqlite:///path/to/file.db or postgresql://user@host/database (docs/store.md)"""
    spool_dir: LocalPath = ""
    """journals of writes the store refused (disk full…); empty: "spool" beside recordings.dir"""

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if url.partition("://")[0] not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("a store URL starts with sqlite:/// or postgresql://")
        return url


@dataclass(config=STRICT)
class RecordingSettings:
    dir: LocalPath = str(DEFAULT_VAR_DIR / "recordings")
    enabled: bool = True


@dataclass(config=STRICT)
class PromptSettings:
    dir: LocalPath = str(DEFAULT_PROMPTS_DIR)
    override_dir: LocalPath = ""
    """a folder of studio recordings named like prompts/audio/*.wav"""
    tts_voice: str = "vi"
    """espeak-ng voice: vi, vi-vn-x-south, vi-vn-x-central"""
    tts_cache_dir: LocalPath = str(DEFAULT_VAR_DIR / "tts-cache")


@dataclass(config=STRICT)
class AmiSettingsSection:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: Port = 5038
    username: str = "callbot"
    secret: str = ""
    """set CALLBOT_AMI_SECRET in the environment"""
    queue: str = "support"
    overflow_mode: Literal["observe", "rules"] = "observe"
    """observe: the dialplan decides; rules: the callbot applies max_wait_s, max_queue_len"""
    max_wait_s: Seconds = 20.0
    max_queue_len: Count = 10
    emergency_queue_prio: Annotated[int, Field(ge=1)] = 100
    """QUEUE_PRIO an emergency hand-back rejoins the queue with (above HANDBACK_PRIO)"""
    correlation_wait_s: Annotated[float, Field(ge=0)] = 1.0
    """how long a new call waits for its UserEvent"""
    mixmonitor_dir: str = ""
    """also record on the Asterisk side with MixMonitor into this absolute folder (on the
    Asterisk machine; needs write class "system"). Empty: only the callbot's own recording."""

    @field_validator("mixmonitor_dir")
    @classmethod
    def _absolute(cls, folder: str) -> str:
        if folder and not folder.startswith("/"):
            raise ValueError("a folder on the Asterisk machine: give an absolute path")
        return folder


@dataclass(config=STRICT)
class WebSettings:
    enabled: bool = True
    """dashboard, Open311 API and /metrics, served by `callbot serve`"""
    host: str = "127.0.0.1"
    port: Port = 8022
    """0: any free port (printed at start); with --workers N, worker i uses port + i"""
    secret_key: str = ""
    """signs session cookies. Set CALLBOT_WEB_SECRET_KEY in production; when empty a random
    key is made at start-up (sessions then end when the server restarts)."""
    secure_cookies: bool = False
    """true behind HTTPS"""
    timezone: str = "Asia/Ho_Chi_Minh"
    trusted_proxies: list[str] = field(default_factory=list)
    """reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed; from any other
    peer the header is ignored, so a client cannot choose its address for sign-in limits"""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, proxies: list[str]) -> list[str]:
        return networks(proxies)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone (e.g. Asia/Ho_Chi_Minh)") from None
        return name


@dataclass(config=STRICT)
class LogSettings:
    format: Literal["text", "json"] = "text"
    """json: one JSON object per line on stderr (status lines too, on stdout)"""
    level: Literal["debug", "info", "warning", "error"] = "info"
    """`callbot -v` is debug"""


# --- Issue 5: routing, outbox, Open311, retention (docs/tickets.md) -------------------------


@dataclass(config=STRICT)
class RoutingSettings:
    rules_file: LocalPath = str(PROJECT_ROOT / "config" / "routing.toml")


@dataclass(config=STRICT)
class OutboxSettings:
    enabled: bool = True
    """`callbot serve` delivers to agencies' webhooks"""
    poll_interval_s: Seconds = 2.0
    """how often the worker looks for due deliveries"""
    batch: Count = 20
    """deliveries claimed at once"""
    concurrency: Count = 8
    """POSTs in flight at once"""
    max_attempts: Count = 10
    """then the delivery is marked failed"""
    backoff_base_s: Seconds = 30.0
    """1st retry after ~30 s, then x2 each time …"""
    backoff_max_s: Seconds = 3600.0
    """… up to an hour"""
    lease_s: Seconds = 120.0
    """a claimed delivery whose worker died is retried after this"""
    timeout_s: Seconds = 10.0
    """per HTTP request"""


@dataclass(config=STRICT)
class Open311Settings:
    api_keys_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = (
        "CALLBOT_OPEN311_API_KEYS"
    )
    """the environment variable holding the API keys that may POST requests, comma-separated;
    "chat:KEY" files tickets on the chat channel, a bare key on the web channel"""
    max_body_bytes: Count = 65_536
    max_results: Count = 1000
    default_days: Count = 90
    """GET without dates: the last 90 days (as the spec suggests)"""


@dataclass(config=STRICT)
class RetentionSettings:
    enabled: bool = True
    """`callbot serve` runs the purge job"""
    interval_s: Seconds = 3600.0
    periods: list[str] = field(default_factory=lambda: ["closed=90", "rejected=90"])
    """days after a ticket's last change before its personal data is purged, per status
    ("closed=90"); statuses not listed use default_days"""
    default_days: Days = 365


# --- Issue 19: text channels (docs/channels.md) ---------------------------------------------


@dataclass(config=STRICT)
class ZaloSettings:
    enabled: bool = False
    """answer the Zalo Official Account's webhook at /channels/zalo/webhook. Its secrets come
    from the environment only: CALLBOT_ZALO_OA_SECRET_KEY (checks the webhook's signature),
    CALLBOT_ZALO_APP_SECRET_KEY and CALLBOT_ZALO_REFRESH_TOKEN (the first refresh token;
    the newest one is then kept in the store)"""
    app_id: str = ""
    """the Zalo app linked to the OA (not secret: it is in every event)"""
    api_url: str = "https://openapi.zalo.me"
    """the OA API (send messages)"""
    oauth_url: str = "https://oauth.zaloapp.com"
    """where access tokens are refreshed"""
    send_attempts: Count = 4
    """tries per reply before it is given up (logged)"""
    send_backoff_s: Seconds = 1.0
    """1st retry after ~1 s, then x2 each time"""
    timeout_s: Seconds = 10.0
    """per HTTP request to Zalo"""


@dataclass(config=STRICT)
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
    log: LogSettings = field(default_factory=LogSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)  # issue 5
    outbox: OutboxSettings = field(default_factory=OutboxSettings)  # issue 5
    open311: Open311Settings = field(default_factory=Open311Settings)  # issue 5
    retention: RetentionSettings = field(default_factory=RetentionSettings)  # issue 5
    zalo: ZaloSettings = field(default_factory=ZaloSettings)  # issue 19
    notify: NotifySettings = field(default_factory=NotifySettings)  # issue 18
    surge: config_surge.SurgeSettings = field(default_factory=config_surge.SurgeSettings)


SECRET_KEYS = frozenset({("ami", "secret"), ("web", "secret_key")})
# CALLBOT_ variables that are read but are not settings (models, tests, benchmarks, the
# routing rules' webhook secrets by the naming docs/tickets.md uses).
OTHER_VARIABLES = {
    "CALLBOT_CONFIG",
    "CALLBOT_MODELS_DIR",
    "CALLBOT_CHROMIUM",
    "CALLBOT_SCREENSHOTS",
    # The Zalo OA's secrets (docs/channels.md): read from the environment only, never a file.
    "CALLBOT_ZALO_OA_SECRET_KEY",
    "CALLBOT_ZALO_APP_SECRET_KEY",
    "CALLBOT_ZALO_REFRESH_TOKEN",
    # The SMS gateway's keys (issue 18, docs/tickets.md): environment only.
    "CALLBOT_NOTIFY_SMS_API_KEY",
    "CALLBOT_NOTIFY_SMS_SECRET_KEY",
}
OTHER_PREFIXES = ("CALLBOT_TEST_", "CALLBOT_BENCH_", "CALLBOT_WEBHOOK_SECRET_")


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Defaults < ``path`` (or $CALLBOT_CONFIG) < environment; ConfigError names the mistake."""
    env = dict(os.environ) if env is None else env
    if path is None and env.get("CALLBOT_CONFIG"):
        path = Path(env["CALLBOT_CONFIG"])
    settings: Settings = config_file.layered(Settings, path, env, SECRET_KEYS)
    sections = tuple(f"CALLBOT_{f.name.upper()}_" for f in dataclasses.fields(Settings))
    mistaken = [n for n in _unknown(env, settings) if n.upper().startswith(sections)]
    if mistaken:  # CALLBOT_STORE_URLL: surely meant as a setting
        known = config_file.env_names(Settings)
        raise ConfigError(
            "; ".join(f"{n} is not a setting{config_file.hint(n, known)}" for n in mistaken)
        )
    return settings


def environment_warnings(settings: Settings, env: dict[str, str] | None = None) -> list[str]:
    """CALLBOT_ variables that name nothing the callbot reads (warnings, not errors: the
    prefix is shared with the scripts around it), each with the nearest setting's name."""
    env = dict(os.environ) if env is None else env
    known = config_file.env_names(Settings)
    return [
        f"{n} is not a setting{config_file.hint(n, known)}; ignored"
        for n in _unknown(env, settings)
    ]


def _unknown(env: dict[str, str], settings: Settings) -> list[str]:
    known = set(config_file.env_names(Settings)) | OTHER_VARIABLES
    known.add(settings.open311.api_keys_env.upper())
    return sorted(
        name
        for name in env
        if (upper := name.upper()).startswith("CALLBOT_")
        and upper not in known
        and not upper.startswith(OTHER_PREFIXES)
    )


def describe(settings: Settings) -> str:
    """The effective settings as TOML, secrets masked."""
    return config_file.describe(settings, SECRET_KEYS)


EXAMPLE_HEADER = """\
# Settings for `callbot --config FILE`: every key with its default, generated from
# callbot/config.py by `callbot config --example` (a test fails when this file drifts).
# Every key can also be set as an environment variable CALLBOT_SECTION_KEY, which wins
# (CALLBOT_STORE_URL, CALLBOT_AUDIOSOCKET_ALLOW=10.1.2.3,10.1.2.4). Secrets (ami.secret,
# web.secret_key) belong in the environment. Relative paths are relative to the folder
# of the file they are written in. `callbot config` prints the effective values.
"""


def example_toml() -> str:
    """callbot.example.toml: the defaults, paths relative to the project, where it lives."""
    return config_file.example(Settings, EXAMPLE_HEADER, PROJECT_ROOT)
