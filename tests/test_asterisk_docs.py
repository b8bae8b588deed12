"""The deployment docs say only what is true: every setting they name exists, and the sample
Asterisk configs behave, against the AMI test peer, as a real Asterisk 22.10.1 did.

An admin who followed docs/asterisk/ to the letter once found callers never overflowing to
the bot (no ``ringinuse = no``) and settings named that do not exist (``overflow.mode``,
``audiosocket.listen``)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from callbot.config import Settings, load_settings
from telephony.ami_client import AmiClient, AmiError, AmiSettings

try:
    from ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, queue_from_conf
except ImportError:
    from tests.ami_server import AmiTestServer, FakeCaller, FakeMember, FakeQueue, queue_from_conf

ROOT = Path(__file__).resolve().parent.parent
ASTERISK_DOCS = ROOT / "docs" / "asterisk"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *ASTERISK_DOCS.glob("*.conf")]
FILE_ENDINGS = {"conf", "py", "md", "toml", "txt", "wav", "db", "log", "json", "csv", "html"}

# Section names an admin could take for the callbot's (Asterisk's own are [general],
# [support], [callbot], [hotline], [globals]).
LOOKS_LIKE_CALLBOT = {"overflow", "listen", "queue", "server", "speech", "model", "database"}

SECTIONS = {
    f.name: {k.name for k in dataclasses.fields(f.default_factory())}  # type: ignore[misc]
    for f in dataclasses.fields(Settings)
}


def setting_references(text: str) -> list[tuple[str, str, str]]:
    """(section, key, as written) for every place the text names a callbot setting:
    ``[section] key`` (also ``[section] key1``, ``key2``) for a callbot section, or for a
    section name that is not an Asterisk one; and a dotted name written as a setting
    (``x.y = …``, "setting x.y"; ``store.set_slot`` is a method, not a setting)."""
    found = []
    for match in re.finditer(r"\[([a-z0-9_]+)\] ((?:`?[a-z_][a-z0-9_]*`?(?:, )?)+)", text):
        section = match.group(1)
        if section in SECTIONS:
            for key in re.findall(r"[a-z_][a-z0-9_]*", match.group(2)):
                found.append((section, key, f"[{section}] {key}"))
        elif section in LOOKS_LIKE_CALLBOT:
            key = re.findall(r"[a-z_][a-z0-9_]*", match.group(2))[0]
            found.append((section, key, f"[{section}] {key}"))
    dotted = r"(?<![\w./-])([a-z][a-z0-9_]*)\.([a-z_][a-z0-9_]*)(?![\w(/-])"
    for match in re.finditer(dotted, text):
        first, second = match.groups()
        if second in FILE_ENDINGS:
            continue
        before = text[max(0, match.start() - 10) : match.start()].lower()
        after = text[match.end() : match.end() + 3]
        if "setting" in before or after.startswith(" = "):
            found.append((first, second, match.group(0)))
    return found


def unknown_settings(text: str) -> list[str]:
    bad = []
    for section, key, written in setting_references(text):
        if section not in SECTIONS or key not in SECTIONS[section]:
            bad.append(written)
    return bad


def test_the_checker_catches_what_the_docs_once_said():
    """The names an admin was once sent looking for are caught; real ones pass."""
    assert unknown_settings("set overflow.mode = rules") == ["overflow.mode"]
    assert unknown_settings("(callbot setting audiosocket.listen)") == ["audiosocket.listen"]
    assert unknown_settings("a TOML `[overflow] mode`") == ["[overflow] mode"]
    assert unknown_settings("`[ami] overflow_mode` and `[audiosocket] host`, `port`") == []
    assert unknown_settings("see queues.conf and callbot.config, store.set_slot()") == []
    assert unknown_settings("ami.overflow_mode = rules") == []
    assert unknown_settings("`[ami] overflow_modes`") == ["[ami] overflow_modes"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_setting_the_docs_name_exists(path: Path):
    text = path.read_text(encoding="utf-8")
    assert unknown_settings(text) == [], f"{path.name} names settings that do not exist"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_toml_snippets_in_the_docs_load(path: Path, tmp_path: Path):
    """Each ```toml block is a config a user may paste: it must load with no unknown key."""
    text = path.read_text(encoding="utf-8")
    for i, block in enumerate(re.findall(r"```toml\n(.*?)```", text, flags=re.S)):
        data = tomllib.loads(block)
        if not data or not set(data) <= set(SECTIONS):
            continue  # a routing-rules file or another TOML, not callbot settings
        snippet = tmp_path / f"snippet{i}.toml"
        snippet.write_text(block, encoding="utf-8")
        load_settings(snippet, env={})


def test_example_config_loads():
    load_settings(ROOT / "callbot.example.toml", env={})


def _busy_operators() -> list[FakeMember]:
    # Both operators in a call (device "in use"), as when the 1022 line overflows.
    return [
        FakeMember("Tổng đài viên 1", "PJSIP/op1", status=2, in_call=True),
        FakeMember("Tổng đài viên 2", "PJSIP/op2", status=2, in_call=True),
    ]


async def _third_caller_is_bridged(queue: FakeQueue) -> bool:
    async with AmiTestServer(queues=[queue]) as ami:
        taken = await ami.caller_joins(queue.name, FakeCaller("PJSIP/trunk-0000003c", "17.3"))
        return taken is not None


def test_asterisk_default_ringinuse_keeps_callers_from_the_bot():
    """The test peer reproduces what the real Asterisk did with the old queues.conf."""
    old = "[support]\nstrategy = ringall\nmusicclass = default\n"
    queue = queue_from_conf(old, "support", _busy_operators())
    assert queue.ringinuse  # Asterisk's default
    assert asyncio.run(_third_caller_is_bridged(queue))


def test_the_sample_queues_conf_lets_callers_overflow():
    conf = (ASTERISK_DOCS / "queues.conf").read_text(encoding="utf-8")
    queue = queue_from_conf(conf, "support", _busy_operators())
    assert not queue.ringinuse
    assert not asyncio.run(_third_caller_is_bridged(queue))  # waits, times out, reaches the bot


def _manager_write_classes() -> list[str]:
    conf = (ASTERISK_DOCS / "manager.conf").read_text(encoding="utf-8")
    section = conf.split("[callbot]", 1)[1]
    line = next(x for x in section.splitlines() if x.strip().startswith("write"))
    return [c.strip() for c in line.split("=", 1)[1].split(";")[0].split(",")]


async def _actions_with(write_classes: list[str]) -> dict[str, str]:
    queue = FakeQueue("support", callers=[FakeCaller("PJSIP/trunk-0000003c", "17.3")])
    outcomes = {}
    async with AmiTestServer(queues=[queue], write_classes=write_classes) as ami:
        client = AmiClient(AmiSettings(port=ami.port, secret=ami.secret, username=ami.username))
        await client.connect()
        try:
            for name, action in [
                ("Setvar", client.set_var("PJSIP/trunk-0000003c", "CALLBOT_HANDBACK", "1")),
                (
                    "QueueWithdrawCaller",
                    client.queue_withdraw_caller("support", "PJSIP/trunk-0000003c"),
                ),
                ("MixMonitor", client.mix_monitor_start("PJSIP/trunk-0000003c", "/tmp/x.wav")),
            ]:
                try:
                    await action
                    outcomes[name] = "ok"
                except AmiError as error:
                    outcomes[name] = str(error)
        finally:
            await client.close()
    return outcomes


def test_the_sample_manager_conf_grants_what_the_bot_sends_and_no_more():
    outcomes = asyncio.run(_actions_with(_manager_write_classes()))
    assert outcomes["Setvar"] == "ok"  # hand-back
    assert outcomes["QueueWithdrawCaller"] == "ok"  # rules mode: <none> on 22.10.1
    assert "Permission denied" in outcomes["MixMonitor"]  # needs "system", not granted


def test_without_call_class_the_hand_back_is_refused():
    outcomes = asyncio.run(_actions_with(["agent"]))
    assert "Permission denied" in outcomes["Setvar"]
    assert outcomes["QueueWithdrawCaller"] == "ok"
