"""Surge mode wired into calls: each new call's script, the supervisor's switch read from
the store, every change written back there.

``SurgeGate.script_for_new_call`` is what a new call asks for its script (the server puts
it in ``CallServices.pick_script``). It reads the supervisor's switch from the store at
most once per ``read_every_s`` (the dashboard may run in another process), feeds the load
to ``SurgeMode`` and, in surge, returns the short script with an honest callback estimate
(open callbacks / operators on duty). A small beat does the same every second, so surge
mode also goes off when calls end and no new one comes. A store that cannot be read
leaves the last switch in force: a call is never refused for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from callbot.call.metrics import CallMetrics
from callbot.call.script import Script
from callbot.call.surge import (
    SurgeChange,
    SurgeMode,
    SurgeOverride,
    callback_estimate_hours,
    short_script,
)
from callbot.tickets.model import Ticket
from callbot.tickets.store.base import StoreError
from callbot.tickets.store.sql_base import SqlStoreBase
from callbot.tickets.store.sql_surge import StoredSwitch, SurgeStore

if TYPE_CHECKING:  # the settings are only read here (config sits beside the stages)
    from callbot.config_surge import SurgeSettings

log = logging.getLogger(__name__)

READ_EVERY_S = 1.0


class SwitchStore(Protocol):
    """callbot.tickets.store.sql_surge.SurgeStore."""

    async def switch(self) -> StoredSwitch | None: ...

    async def record_change(self, on: bool, reason: str, calls: int, at: datetime) -> None: ...

    async def callback_backlog(self) -> int: ...

    async def mark_for_callback(self, ticket_id: int) -> None: ...


class SurgeGate:
    def __init__(
        self,
        mode: SurgeMode,
        script: Script,
        *,
        calls_in_progress: Callable[[], int],
        store: SwitchStore | None = None,
        operators_on_duty: Callable[[], int | None] = lambda: None,
        callbacks_per_operator_hour: float = 4.0,
        read_every_s: float = READ_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mode = mode
        self.script = script
        self.calls_in_progress = calls_in_progress
        self.store = store
        self.operators_on_duty = operators_on_duty
        self.callbacks_per_operator_hour = callbacks_per_operator_hour
        self.read_every_s = read_every_s
        self._monotonic = monotonic
        self._read_at: float | None = None
        self._switch_seen: tuple[str, datetime] | None = None
        self._written = 0  # changes already written to the store
        self._beat: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self.surge_calls: set[str] = set()  # calls that got the short script, until closed

    @property
    def on(self) -> bool:
        return self.mode.on

    @property
    def change_count(self) -> int:
        return self.mode.change_count

    async def __call__(self, call_id: str) -> Script:  # CallServices.pick_script
        return await self.script_for_new_call(call_id)

    async def script_for_new_call(self, call_id: str | None = None) -> Script:
        await self.refresh()
        if not self.mode.observe(self.calls_in_progress()):
            self._write_changes()
            return self.script
        self._write_changes()
        if call_id is not None:
            self.surge_calls.add(call_id)
        return short_script(self.script, await self._estimate_hours())

    async def refresh(self) -> None:
        """The supervisor's switch from the store, at most once per ``read_every_s``."""
        now = self._monotonic()
        if self.store is None or (
            self._read_at is not None and now - self._read_at < self.read_every_s
        ):
            return
        self._read_at = now
        try:
            stored = await self.store.switch()
        except StoreError as error:
            log.warning("surge switch unreadable, keeping %s: %s", self.mode.override, error)
            return
        if stored is None or (stored.value, stored.set_at) == self._switch_seen:
            return
        self._switch_seen = (stored.value, stored.set_at)
        override = SurgeOverride(stored.value)
        if override is not self.mode.override:
            self.mode.set_override(override, stored.set_by, self.calls_in_progress())

    async def _estimate_hours(self) -> int | None:
        operators = self.operators_on_duty()
        if not operators or self.store is None:
            return None
        try:
            backlog = await self.store.callback_backlog()
        except StoreError as error:
            log.warning("callback backlog unreadable; no estimate said: %s", error)
            return None
        return callback_estimate_hours(backlog, operators, self.callbacks_per_operator_hour)

    def _write_changes(self) -> None:
        """Every change since the last write, to the store (in the background: a call
        never waits for the log)."""
        new = self.mode.change_count - self._written
        if new <= 0:
            return
        self._written = self.mode.change_count
        if self.store is None:
            return
        changes = list(self.mode.changes)[-new:]
        task = asyncio.create_task(self._write(changes))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, changes: list[SurgeChange]) -> None:
        assert self.store is not None
        for change in changes:
            at = datetime.fromtimestamp(change.at, UTC)
            try:
                await self.store.record_change(change.on, change.reason, change.calls, at)
            except StoreError as error:
                log.warning("surge change not kept in the store: %s", error)

    # ── the beat: the switch and the load seen between calls too ─────────────────────────

    def start(self) -> None:
        self._beat = asyncio.create_task(self._run(), name="surge-beat")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.read_every_s)
            await self.refresh()
            self.mode.observe(self.calls_in_progress())
            self._write_changes()

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)


# ── wiring (callbot/server.py) ───────────────────────────────────────────────────────────


def build_surge_gate(
    settings: SurgeSettings,
    script: Script,
    metrics: CallMetrics,
    store: object,
    operators: Callable[[], int | None] = lambda: None,
) -> SurgeGate | None:
    """The gate for ``[surge]`` settings; None while ``max_calls`` is 0 (surge mode off).
    The switch and the change log need a SQL store (both engines); any other store runs
    the automatic rule alone."""
    if not settings.max_calls:
        return None
    mode = SurgeMode(
        settings.max_calls, on_fraction=settings.on_fraction, off_fraction=settings.off_fraction
    )
    return SurgeGate(
        mode,
        script,
        calls_in_progress=lambda: metrics.calls_in_progress,
        store=SurgeStore(store) if isinstance(store, SqlStoreBase) else None,
        operators_on_duty=operators,
        callbacks_per_operator_hour=settings.callbacks_per_operator_hour,
    )


def marking_surge_tickets(
    gate: SurgeGate, after_call: Callable[[Ticket], Awaitable[object]] | None
) -> Callable[[Ticket], Awaitable[object]]:
    """``after_call`` that first puts a surge call's ticket in the callback queue: it holds
    only the place and a number, so a person calls every one of them back."""

    async def after(ticket: Ticket) -> None:
        if ticket.call_id in gate.surge_calls:
            gate.surge_calls.discard(ticket.call_id)
            if gate.store is not None:
                try:
                    await gate.store.mark_for_callback(ticket.id)
                except StoreError:
                    log.exception("ticket %d: surge ticket not marked for a callback", ticket.id)
        if after_call is not None:
            await after_call(ticket)

    return after
