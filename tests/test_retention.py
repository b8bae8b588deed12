"""Retention: personal data and recordings purged per status, figures kept; both stores."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from ticket_helpers import call_ticket

from callbot.config import ConfigError, Settings
from callbot.tickets.model import EventKind, Speaker, TicketStatus, utcnow
from callbot.tickets.retention import RetentionPolicy, purge, start_retention
from callbot.tickets.store.factory import open_store
from callbot.tickets.store.sql_store import SqlTicketStore

pytest_plugins = ["conftest_store"]

POLICY = RetentionPolicy({TicketStatus.CLOSED: 90, TicketStatus.REJECTED: 90}, 365)
KEPT_SLOTS = {"case_type", "place", "subject", "household_size"}


async def closed_ticket(store: SqlTicketStore, recordings: Path, name: str) -> int:
    wav = recordings / "2026/11/28" / f"{name}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    wav.write_bytes(b"RIFF" + b"\0" * 1000)
    t = await call_ticket(store, recording_path=f"2026/11/28/{name}.wav")
    await store.set_call_info(t.call_id, caller_number="0281234567", channel_name="PJSIP/x")  # type: ignore[arg-type]
    await store.change_status(t.id, TicketStatus.REJECTED, "officer", reason="duplicate")
    await store.change_status(t.id, TicketStatus.CLOSED, "officer")
    return t.id


async def test_a_closed_ticket_past_its_period_keeps_only_anonymous_figures(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    closed_id = await closed_ticket(store, tmp_path, "closed")
    open_ticket = await call_ticket(store, recording_path="2026/11/28/open.wav")
    (tmp_path / "2026/11/28/open.wav").write_bytes(b"RIFF")
    before = await store.get_ticket(closed_id)
    assert before is not None
    turns_before = await store.list_turns(before.call_id)  # type: ignore[arg-type]

    soon = await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=89))
    assert soon.tickets == []
    report = await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=91))
    assert report.tickets == [closed_id] and report.recordings_deleted == 1

    after = await store.get_ticket(closed_id)
    assert after is not None
    assert not (tmp_path / "2026/11/28/closed.wav").exists()
    assert (tmp_path / "2026/11/28/open.wav").exists()
    # Gone: everything that identifies the caller.
    assert (after.caller_number, after.callback_number, after.recording_path) == (None, None, None)
    assert after.description == ""
    assert set(after.slots) == KEPT_SLOTS
    assert all(slot.heard == "" for slot in after.slots.values())
    turns = await store.list_turns(after.call_id)  # type: ignore[arg-type]
    assert len(turns) == len(turns_before)  # counts and timing stay
    assert all(
        t.text == "" and t.slot_updates == {} for t in turns if t.speaker is not Speaker.SYSTEM
    )
    assert [t.at for t in turns] == [t.at for t in turns_before]
    # Kept: the figures.
    assert (after.service_code, after.admin_unit, after.status) == (
        "essentials",
        "Quận 3",
        TicketStatus.CLOSED,
    )
    assert after.requested_datetime == before.requested_datetime and after.complete
    history = await store.list_history(closed_id)
    assert history[-1].kind is EventKind.PURGED and history[-1].actor == "retention"
    assert history[-1].data["removed"]["slots"] == 4
    text = repr([e.data for e in history[:-1]])
    for personal in ("Nguyễn Văn An", "0903456789", "0281234567", "12 Lê Lợi", "hết gạo"):
        assert personal not in text
    assert any(e.kind is EventKind.SLOT_SET and e.data.get("purged") for e in history)

    # Nothing left to do; an open ticket waits for the default period.
    again = await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=91))
    assert again.tickets == []
    later = await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=366))
    assert later.tickets == [open_ticket.id]


async def test_dry_run_changes_nothing(store: SqlTicketStore, tmp_path: Path) -> None:
    ticket_id = await closed_ticket(store, tmp_path, "kept")
    far = utcnow() + timedelta(days=100)
    report = await purge(store, POLICY, recordings_dir=tmp_path, dry_run=True, now=far)
    assert report.tickets == [ticket_id] and report.recording_bytes == 1004
    assert "would purge 1 tickets" in report.summary()
    assert (tmp_path / "2026/11/28/kept.wav").exists()
    ticket = await store.get_ticket(ticket_id)
    assert ticket is not None and ticket.callback_number == "0903456789"


async def test_calls_still_up_are_never_purged(store: SqlTicketStore, tmp_path: Path) -> None:
    from callbot.tickets.model import CallRecord

    await store.begin_call(CallRecord("live-call", utcnow(), caller_number="0909000000"))
    report = await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=999))
    assert report.tickets == []


async def test_a_recording_path_never_reaches_outside_the_folder(
    store: SqlTicketStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF")
    recordings = tmp_path / "recordings"
    await call_ticket(store, recording_path="../outside.wav")
    far = utcnow() + timedelta(days=400)
    report = await purge(store, POLICY, recordings_dir=recordings, now=far)
    assert len(report.tickets) == 1 and outside.exists()


async def test_the_scheduled_job_purges(store_url: str, tmp_path: Path) -> None:
    store = await open_store(store_url)
    try:
        ticket_id = await closed_ticket(store, tmp_path, "job")  # type: ignore[arg-type]
        settings = Settings()
        settings.retention.periods = ["closed=0"]
        settings.recordings.dir = str(tmp_path)
        job = start_retention(store, settings)  # type: ignore[arg-type]
        assert job is not None
        try:
            for _ in range(100):
                ticket = await store.get_ticket(ticket_id)
                if ticket is not None and ticket.callback_number is None:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the job did not purge")
        finally:
            await job.stop()
        settings.retention.enabled = False
        assert start_retention(store, settings) is None  # type: ignore[arg-type]
    finally:
        await store.close()


def test_policy_from_settings() -> None:
    settings = Settings()
    assert RetentionPolicy.from_settings(settings) == POLICY
    settings.retention.periods = ["closed"]
    with pytest.raises(ConfigError, match="STATUS=DAYS"):
        RetentionPolicy.from_settings(settings)
    settings.retention.periods = ["lost=3"]
    with pytest.raises(ConfigError):
        RetentionPolicy.from_settings(settings)


def test_the_command_purges_a_sqlite_store(tmp_path: Path) -> None:
    async def prepare() -> int:
        store = await open_store(f"sqlite:///{tmp_path / 't.db'}")
        try:
            return await closed_ticket(store, tmp_path / "rec", "cli")  # type: ignore[arg-type]
        finally:
            await store.close()

    asyncio.run(prepare())
    env = {
        **os.environ,
        "CALLBOT_STORE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "CALLBOT_RECORDINGS_DIR": str(tmp_path / "rec"),
        "CALLBOT_RETENTION_PERIODS": "closed=0",
    }
    command = [sys.executable, "-m", "callbot", "retention", "purge"]
    dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "would purge 1 tickets, 1 recordings" in dry.stdout
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "purged 1 tickets, 1 recordings" in done.stdout
    assert not (tmp_path / "rec/2026/11/28/cli.wav").exists()


async def test_supervisors_notes_are_purged_too(store: SqlTicketStore, tmp_path: Path) -> None:
    from callbot.web.dashboard.accounts_store import AccountStore

    ticket_id = await closed_ticket(store, tmp_path, "noted")
    notes = AccountStore(store)
    await notes.add_note(ticket_id, "sup", "gọi lại cho chị Mai số 0903111222", utcnow())
    await purge(store, POLICY, recordings_dir=tmp_path, now=utcnow() + timedelta(days=91))
    (note,) = await notes.list_notes(ticket_id)
    assert "0903111222" not in note.text and note.actor == "sup"
    history = await store.list_history(ticket_id)
    assert history[-1].data["removed"]["notes"] == 1
