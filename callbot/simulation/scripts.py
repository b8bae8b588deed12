"""Caller scripts: what a simulated person answers to each question, and what their
ticket must hold afterwards. Loaded from TOML (see callers.toml beside this file)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SCRIPTS = Path(__file__).with_name("callers.toml")
SPEECH_DIR = Path(__file__).with_name("speech")
ACTION_KINDS = ("keys", "say", "say-partial", "silence", "hangup")


class ScriptError(ValueError):
    pass


@dataclass(frozen=True)
class Reply:
    kind: str  # one of ACTION_KINDS
    arg: str = ""  # digits or clip name

    @classmethod
    def parse(cls, text: str, where: str) -> Reply:
        kind, _, arg = text.partition(":")
        if kind not in ACTION_KINDS:
            raise ScriptError(f"{where}: unknown reply {text!r} (one of {', '.join(ACTION_KINDS)})")
        if kind in ("keys", "say", "say-partial") and not arg:
            raise ScriptError(f"{where}: {kind} needs an argument, e.g. {kind}:…")
        return cls(kind, arg)


@dataclass(frozen=True)
class CallerScript:
    name: str
    answers: dict[str, tuple[Reply, ...]]
    expect: dict[str, str] = field(default_factory=dict)
    expect_complete: bool = True

    def reply(self, prompt: str, times_asked: int) -> Reply | None:
        replies = self.answers.get(prompt)
        if not replies:
            return None
        return replies[min(times_asked, len(replies) - 1)]

    def clips(self) -> set[str]:
        return {r.arg for rs in self.answers.values() for r in rs if r.kind.startswith("say")}


def load_scripts(path: Path = DEFAULT_SCRIPTS, speech_dir: Path = SPEECH_DIR) -> list[CallerScript]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ScriptError(f"no caller scripts at {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScriptError(f"{path}: {error}") from None
    scripts = []
    for number, raw in enumerate(data.get("caller", []), start=1):
        where = f"{path}: caller #{number}"
        if "name" not in raw:
            raise ScriptError(f"{where}: has no name")
        answers = {}
        for prompt, value in raw.get("answers", {}).items():
            values = value if isinstance(value, list) else [value]
            answers[prompt] = tuple(
                Reply.parse(str(v), f"{where} answers.{prompt}") for v in values
            )
        script = CallerScript(
            raw["name"],
            answers,
            {k: str(v) for k, v in raw.get("expect", {}).items()},
            bool(raw.get("expect_complete", True)),
        )
        for clip in script.clips():
            if not (speech_dir / "audio" / f"{clip}.wav").exists():
                raise ScriptError(f"{where}: no speech clip {clip!r} in {speech_dir}/audio")
        scripts.append(script)
    if not scripts:
        raise ScriptError(f"{path}: no [[caller]] entries")
    return scripts
