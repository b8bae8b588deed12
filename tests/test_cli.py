"""The CLI's read commands never create a store and say which one they read; a user's
mistake ends in one line and a non-zero status, never a traceback or a phantom ticket
(issue 16). Real ``python -m callbot`` processes, real SQLite files, real PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbot.cli import port_number, positive
from callbot.tickets.model import CallRecord, utcnow
from callbot.tickets.store.factory import open_store

try:
    from conftest_store import PG_URL, private_pg_schema
except ImportError:
    from tests.conftest_store import PG_URL, private_pg_schema

ROOT = Path(__file__).resolve().parents[1]


def callbot(
    *args: str, store: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callbot", *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CALLBOT_STORE_URL": store, **env},
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("command", [("tickets",), ("outbox", "list"), ("outbox", "retry", "1")])
def test_read_commands_never_create_a_store(tmp_path, command):
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    done = callbot(*command, store=f"sqlite:///{missing}")
    one_line(done, 1, f"no ticket store at {missing}", "var/demo/callbot.db")
    assert not missing.parent.exists()  # not the file, not even its folder


@pytest.mark.parametrize(
    "command", [("users", "list"), ("users", "disable", "anna"), ("retention", "purge")]
)
def test_account_and_retention_commands_never_create_a_store(tmp_path, command):
    # Only `users add` may make the store (the first account may come before the first
    # `callbot serve`); listing, changing or purging one that is not there is a mistake.
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    done = callbot(*command, store=f"sqlite:///{missing}")
    one_line(done, 1, f"no ticket store at {missing}", "callbot serve")
    assert not missing.parent.exists()


async def _store_with_an_unfinished_call(url: str) -> int:
    async with open_store(url) as store:
        ticket = await store.begin_call(CallRecord("cli-test-1", utcnow()))
    return ticket.id


def test_tickets_names_its_store_and_prints_no_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    ticket_id = asyncio.run(_store_with_an_unfinished_call(url))
    done = callbot("tickets", store=url)
    assert done.returncode == 0, done.stderr
    assert f"store: {url}" in done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"#{ticket_id} ") and "case=- place=- end=-" in line
    assert "None" not in done.stdout


def test_a_postgresql_read_never_creates_the_schema():
    async def check() -> None:
        async with private_pg_schema() as url:
            schema = url.split("schema=")[1].split("&")[0]
            done = await asyncio.to_thread(callbot, "tickets", store=url)
            one_line(done, 1, "no ticket store in postgresql://")
            conn = await asyncpg.connect(PG_URL)
            try:
                found = await conn.fetchval(
                    "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", schema
                )
            finally:
                await conn.close()
            assert found is None
            await _store_with_an_unfinished_call(url)  # now there is one: it reads it
            done = await asyncio.to_thread(callbot, "tickets", store=url)
            assert done.returncode == 0 and "store: postgresql://" in done.stderr

    asyncio.run(check())


def test_store_errors_are_one_line(tmp_path):
    done = callbot("tickets", store="postgresql://callbot:secret@127.0.0.1:1/test")
    one_line(done, 1, "callbot: ticket store:")
    assert "secret" not in done.stderr
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    one_line(callbot("tickets", store=f"sqlite:///{broken}"), 1, "callbot: ticket store:")


def test_chat_with_a_missing_script_opens_no_ticket(tmp_path):
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    done = callbot("chat", "--script", str(tmp_path / "nope.txt"), store=url)
    one_line(done, 2, f"cannot read {tmp_path / 'nope.txt'}", "No such file")
    assert not (tmp_path / "tickets.db").exists()  # nothing opened, so nothing left open
    asyncio.run(_store_with_an_unfinished_call(url))
    before = callbot("tickets", store=url).stdout
    callbot("chat", "--script", str(tmp_path), store=url)  # a folder, not a file
    assert callbot("tickets", store=url).stdout == before


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`callbot config | head`: the reader leaves early; no BrokenPipeError."""
    for command in ("config", "config --example"):
        done = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {sys.executable} -m callbot {command} | true"],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.stderr == "" and done.returncode in (0, 141), done.stderr


def test_serve_options_are_checked():
    url = f"sqlite:///{uuid.uuid4().hex}.db"
    for bad in ("99999", "-1", "http"):
        done = callbot("serve", "--port", bad, store=url)
        assert done.returncode == 2 and "argument --port" in done.stderr
    done = callbot("serve", "--workers", "0", store=url)
    assert done.returncode == 2 and "at least 1" in done.stderr


@given(st.text(max_size=12))
def test_port_and_count_arguments_are_numbers_in_range_or_refused(text):
    for parse, low, high in ((port_number, 0, 65535), (positive, 1, None)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError as error:
            assert str(error)
        else:
            assert value >= low and (high is None or value <= high)
