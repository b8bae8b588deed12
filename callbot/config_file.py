"""How ``callbot.config``'s settings classes are filled: a TOML file, then the environment,
then pydantic's validation, with every mistake named as it was written; and the two ways
they are printed (effective values; the generated example file); and ``[log]`` applied.

Generic over the settings class (sections of pydantic dataclasses), so it imports nothing
from ``callbot.config``, which uses it.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import re
import sys
import textwrap
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import TypeAdapter, ValidationError


class ConfigError(ValueError):
    pass


class LocalPathMarker:
    """Marks a setting that is a path on this machine (``Annotated[str, LocalPathMarker()]``):
    relative in a file means relative to that file's folder, in the environment relative
    to the current directory. ``url=True``: a ``sqlite:///path`` URL."""

    def __init__(self, url: bool = False) -> None:
        self.url = url


def schema(settings_cls: type) -> dict[str, dict[str, Any]]:
    """{section: {key: pydantic FieldInfo}} for every setting."""
    return {
        f.name: dict(f.default_factory.__pydantic_fields__)  # type: ignore[misc,union-attr]
        for f in dataclasses.fields(settings_cls)
    }


def env_name(section: str, key: str) -> str:
    return f"CALLBOT_{section}_{key}".upper()


def env_names(settings_cls: type) -> dict[str, tuple[str, str]]:
    return {env_name(s, k): (s, k) for s, keys in schema(settings_cls).items() for k in keys}


def layered(
    settings_cls: type,
    path: Path | None,
    env: dict[str, str],
    secret_keys: frozenset[tuple[str, str]] = frozenset(),
) -> Any:
    """Defaults < the file at ``path`` < ``CALLBOT_SECTION_KEY`` variables, validated."""
    keys = schema(settings_cls)
    values: dict[str, dict[str, Any]] = {section: {} for section in keys}
    where: dict[tuple[str, str], str] = {}
    for section, table in (read_toml(path) if path is not None else {}).items():
        if section not in keys:
            raise ConfigError(f"{path}: unknown section [{section}]{hint(section, keys)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in table.items():
            if key not in keys[section]:
                raise ConfigError(
                    f"{path}: unknown setting {section}.{key}{hint(key, keys[section])}"
                )
            values[section][key] = _absolute(keys[section][key], value, Path(path).parent)  # type: ignore[arg-type]
            where[section, key] = f"{path}: {section}.{key}"
    by_env = env_names(settings_cls)
    for name, value in env.items():
        if name.upper() in by_env:
            section, key = by_env[name.upper()]
            info = keys[section][key]
            where[section, key] = f"{name}={value!r}" if (section, key) not in secret_keys else name
            if str(info.annotation).startswith("list"):  # CALLBOT_AUDIOSOCKET_ALLOW=a,b
                value = [item.strip() for item in value.split(",") if item.strip()]
            values[section][key] = _absolute(info, value, Path.cwd())
    try:
        return TypeAdapter(settings_cls).validate_python(values)
    except ValidationError as error:
        raise ConfigError(explain(error, where, secret_keys)) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    except OSError as error:  # a folder, no permission
        raise ConfigError(f"config file {path}: {error.strerror or error}") from None


def _marker(info: Any) -> LocalPathMarker | None:
    return next((m for m in info.metadata if isinstance(m, LocalPathMarker)), None)


def _absolute(info: Any, value: Any, base: Path) -> Any:
    """A relative local path made absolute against ``base``; anything else unchanged."""
    marker = _marker(info)
    if marker is None or not isinstance(value, str) or not value:
        return value
    if marker.url:
        if not value.startswith("sqlite:///"):
            return value
        return f"sqlite:///{os.path.abspath(base / value.removeprefix('sqlite:///'))}"
    return os.path.abspath(base / os.path.expanduser(value))


def hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


SECRET = "********"


def explain(
    error: ValidationError,
    where: dict[tuple[str, str], str],
    secret_keys: frozenset[tuple[str, str]] = frozenset(),
) -> str:
    """One line for every mistake, each named as it was written (file key or variable)."""
    problems = []
    for e in error.errors():
        loc = [str(part) for part in e["loc"]]
        message = re.sub(r"^(Value|Assertion) error, ", "", e["msg"])
        if len(loc) < 2:  # a check across a section's keys: name where they were set
            places = [place for (section, _), place in where.items() if section == loc[0]]
            problems.append(f"{', '.join(places) or '[' + loc[0] + ']'}: {message}")
            continue
        section, key = loc[0], loc[1]
        place = where.get((section, key), f"{section}.{key}")
        if "=" not in place:  # a file's key (a variable's place holds what it was set to)
            shown = SECRET if (section, key) in secret_keys else repr(e.get("input"))
            place = f"{place} = {shown}"
        problems.append(f"{place}: {message}")
    return "; ".join(problems)


def describe(settings: Any, secret_keys: frozenset[tuple[str, str]]) -> str:
    """The effective settings as TOML, secrets masked."""
    lines = []
    for section_field in dataclasses.fields(settings):
        section = getattr(settings, section_field.name)
        lines.append(f"[{section_field.name}]")
        for key_field in dataclasses.fields(section):
            value = getattr(section, key_field.name)
            if (section_field.name, key_field.name) in secret_keys and value:
                value = SECRET
            lines.append(f"{key_field.name} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def example(settings_cls: type, header: str, root: Path) -> str:
    """Every setting with its default and its documentation, as TOML; paths under ``root``
    written relative to it (the example file lives there, so they mean the same)."""
    lines = [header.rstrip("\n")]
    for name, keys in schema(settings_cls).items():
        lines += ["", f"[{name}]"]
        for key, info in keys.items():
            text = " ".join([*(info.description or "").split(), _allowed(info)]).strip()
            if text:
                lines += textwrap.wrap(text, 98, initial_indent="# ", subsequent_indent="# ")
            value = info.get_default(call_default_factory=True)
            lines.append(f"{key} = {toml_value(_relative(info, value, root))}")
    return "\n".join(lines) + "\n"


def _allowed(info: Any) -> str:
    """The choices or the range pydantic enforces, for the example's reader."""
    if get_origin(info.annotation) is Literal:
        return f"(one of: {', '.join(map(str, get_args(info.annotation)))})"
    bounds = {type(m).__name__: m for m in info.metadata}
    if "Ge" in bounds and "Le" in bounds:
        return f"({bounds['Ge'].ge} to {bounds['Le'].le})"
    return ""


def _relative(info: Any, value: Any, root: Path) -> Any:
    marker = _marker(info)
    if marker is None or not value:
        return value
    prefix = "sqlite:///" if marker.url else ""
    path = Path(value.removeprefix(prefix))
    if path.is_absolute() and path.is_relative_to(root):
        return prefix + path.relative_to(root).as_posix()
    return value


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# --- [log]: how the process logs -------------------------------------------------------------


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line (``log.format = "json"``), for journald or a log shipper."""

    def __init__(self, worker: int | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.worker is not None:
            entry["worker"] = self.worker
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    log_format: str, level: str, *, verbose: bool = False, worker: int | None = None
) -> None:
    """Logs to stderr; the status lines (logger ``callbot.status``: "callbot: AudioSocket on
    …", which the demo, the load tester and supervisors wait for) to stdout, as plain lines
    or, with ``json``, as JSON objects holding the same message."""
    tag = f"worker{worker} " if worker is not None else ""
    if log_format == "json":
        formatter: logging.Formatter = JsonLogFormatter(worker)
        plain: logging.Formatter = formatter
    else:
        formatter = logging.Formatter(f"%(asctime)s %(levelname)s {tag}%(name)s: %(message)s")
        plain = logging.Formatter("%(message)s")
    root = logging.getLogger()
    _replace_handler(root, sys.stderr, formatter)
    root.setLevel(logging.DEBUG if verbose else level.upper())
    status = logging.getLogger("callbot.status")
    _replace_handler(status, sys.stdout, plain)
    status.setLevel(logging.INFO)
    status.propagate = False


def _replace_handler(logger: logging.Logger, stream: Any, formatter: logging.Formatter) -> None:
    """Ours replaces ours from an earlier call; handlers others installed (pytest's) stay."""
    for handler in list(logger.handlers):
        if getattr(handler, "callbot", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.callbot = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter)
    logger.addHandler(handler)
