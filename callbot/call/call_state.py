"""What one call holds, and the helpers every part of the call path shares.

A call is driven by three parts that share this state (``callbot.call.session`` joins them):
the frame path (``frame_path.py``: bytes in, frames to the endpointer and recogniser, the
20 ms tick), the dialog loop (``session.py``) and the ending (``call_ending.py``: hang-up,
hand-back, closing the recording and the ticket whatever happened).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from callbot.call.dialog import (
    Ask,
    Dialog,
    HandBackFailed,
    Heard,
    OperatorFree,
    Pressed,
    Script,
    Silence,
)
from callbot.call.endpointer import (
    Endpointer,
    EndpointerSettings,
)
from callbot.call.handback_queue import HandbackQueue, OperatorView
from callbot.call.handback_watch import HandbackWatch
from callbot.call.metrics import CallMetrics
from callbot.call.rebuffer import Rebuffer
from callbot.call.recording import CallRecorder
from callbot.call.status_line import CallerLine
from callbot.speech.asr.base import AsrEngine, AsrStream
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.journal import CallJournal, Entry, JournalError, turn_entry
from callbot.tickets.model import CallEndReason, Speaker, Ticket, Turn, TurnKind, utcnow
from callbot.tickets.store.base import StoreError, TicketStore
from telephony.audiosocket_protocol import (
    AudioSocketConnection,
)
from telephony.frame_clock import FrameClock
from telephony.paced_writer import PacedWriter, Playback

log = logging.getLogger(__name__)

READ_BYTES = 4096
# After the caller hangs up mid-sentence we still decode what they said, but not forever.
FINAL_DECODE_TIMEOUT_S = 10.0


class CallerLookup(Protocol):
    """What the network knows about a call (telephony.correlation.CallerDirectory)."""

    async def wait_for(self, uuid: str, timeout: float) -> object | None: ...


@dataclass
class CallServices:
    """What every call in the process shares: models, store, prompts, the clock."""

    store: TicketStore
    asr: AsrEngine
    prompts: PromptLibrary
    clock: FrameClock
    script: Script
    endpointer: EndpointerSettings = field(default_factory=EndpointerSettings)
    recordings_dir: Path | None = None
    keypad_digit_timeout_s: float = 3.0
    max_call_s: float = 600.0
    uuid_timeout_s: float = 5.0
    max_payload: int = 4096
    callers: CallerLookup | None = None
    correlation_wait_s: float = 1.0
    operators: OperatorView | None = None
    # Callers who asked for a person while none was free, offered operators one by one.
    handbacks: HandbackQueue | None = None
    queue: str = "support"
    metrics: CallMetrics = field(default_factory=CallMetrics)
    # Called with the call id and what the network told us about the call when the bot
    # hands the caller back (AMI sets a channel variable so the dialplan requeues them).
    on_handback: Callable[[str, object | None], Awaitable[object]] | None = None
    # Called with the closed ticket: routing to the agency and the outbox. Never raises.
    after_call: Callable[[Ticket], Awaitable[object]] | None = None
    # Called once the network has told us who the caller is (e.g. start MixMonitor).
    on_caller_known: Callable[[str, object], Awaitable[object]] | None = None
    # Where a call's failed writes are journaled (callbot.tickets.journal); None: nowhere,
    # so a failed write means the request cannot be kept and the call is handed back.
    spool_dir: Path | None = None
    # This process's lease (callbot.tickets.leases) and the calls its sessions run now:
    # an open call of ours that is not in the set is closed by the lease's sweep.
    owner_id: str | None = None
    running_calls: set[str] = field(default_factory=set)
    # Issue 18: an open ticket's status by phone, the consent question (None: neither).
    caller_line: CallerLine | None = None
    # Issue 17: a new call's script by call id (surge mode's short one near capacity,
    # callbot/call/surge_gate.py); None: always ``script``.
    pick_script: Callable[[str], Awaitable[Script]] | None = None
    # Issue 17: a supervisor's "hand back now", read from the store once a second for all
    # the process's calls (callbot/call/handback_watch.py); None: not watched.
    handback_watch: HandbackWatch | None = None

    async def script_for(self, call_id: str) -> Script:
        return self.script if self.pick_script is None else await self.pick_script(call_id)


# What the listener hands the dialog loop.
@dataclass(frozen=True)
class HungUp:
    reason: CallEndReason
    detail: str = ""


# Neither the store nor the journal could keep a write: the dialog stops here.
@dataclass(frozen=True)
class StoreLost:
    why: str


@dataclass(frozen=True)
class SupervisorHandBack:
    """A supervisor asked, from the live view, to hand this call back now (issue 17)."""


CallInput = (
    Heard | Pressed | Silence | OperatorFree | HandBackFailed | HungUp | StoreLost
    | SupervisorHandBack
)  # fmt: skip


class PeerGone(Exception):
    pass


class CallState:
    def __init__(
        self,
        services: CallServices,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.s = services
        self.reader = reader
        self.writer = writer
        self.connection = AudioSocketConnection(max_payload=services.max_payload)
        self.call_id: str | None = None
        self.ticket: Ticket | None = None
        self.recorder: CallRecorder | None = None
        self.out: PacedWriter | None = None
        self.endpointer = Endpointer(services.endpointer)
        self.rebuffer = Rebuffer()
        self.inputs: asyncio.Queue[CallInput] = asyncio.Queue()
        self._clock_handle: int | None = None
        self._seq = 0
        self._ask: Ask | None = None
        self._asr_stream: AsrStream | None = None
        self._utterance_start_ms = 0
        self._decodes: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._keys = ""
        self._last_key_at = 0.0
        self._speech_ended_at: float | None = None  # for turn latency
        self._end_reason: CallEndReason | None = None
        self._complete = False
        self._hung_up = False
        self._store_failures = 0
        self._journal: CallJournal | None = None
        self._unsaved: str | None = None  # why the request could not be kept, once it is so
        self._slot_version = 0
        self._current_playback: Playback | None = None
        self.caller_info: object | None = None  # from the AMI correlation, if any
        self._correlated = asyncio.Event()  # set once the correlation has its answer (or none)
        self.network: dict[str, str] = {}  # slot values the network offers (caller number)
        self.dialog: Dialog | None = None
        self._waiting_for_operator = False

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        """Work started from a frame callback; awaited before the ticket is closed."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_bot_frame(self, frame: bytes) -> None:
        if self.recorder is not None:
            self.recorder.bot_frame(frame)

    def _measure_latency(self, _future: object) -> None:
        if self._speech_ended_at is not None:
            self.s.metrics.turn_latency(time.monotonic() - self._speech_ended_at)
            self._speech_ended_at = None

    def _free(self) -> bool:
        return self.s.operators is not None and self.s.operators.operator_available(self.s.queue)

    def _turn(
        self,
        speaker: Speaker,
        kind: TurnKind,
        text: str,
        *,
        confidence: float | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Coroutine[object, object, None]:
        """Number the turn now (so the transcript keeps the order things happened in,
        even when the write runs in the background); the returned coroutine stores it."""
        if self.call_id is None:
            return asyncio.sleep(0)
        seq, self._seq = self._seq, self._seq + 1
        if start_ms is None and self.recorder is not None:
            start_ms = self.recorder.duration_ms
        turn = Turn(self.call_id, seq, utcnow(), speaker, kind, text, confidence, start_ms, end_ms)
        return self._persist(self.s.store.append_turn(turn), turn_entry(turn))

    async def _persist(self, write: Awaitable[object], entry: Entry) -> None:
        """Await a store write; one the store refuses goes to the call's journal (replayed
        when the store is back), and the call goes on. When the journal refuses it too,
        the caller's request cannot be kept: the dialog loop is told (StoreLost)."""
        try:
            await write
            return
        except StoreError as error:
            self._store_failures += 1
            failure = error
        if self._unsaved is not None:
            return  # already being handed back; nothing more can be kept
        if self._journal is None:
            self._lose(f"store write failed ({failure}) and there is no spool directory")
            return
        try:
            self._journal.append(entry)
        except JournalError as error:
            self._lose(f"store write failed ({failure}); {error}")
            return
        self.s.metrics.store_writes_journaled += 1
        log.warning("call %s: store write kept in the journal: %s", self.call_id, failure)

    def _lose(self, why: str) -> None:
        self._unsaved = why
        self.s.metrics.requests_not_saved += 1
        log.error("call %s: the caller's request cannot be saved: %s", self.call_id, why)
        self.inputs.put_nowait(StoreLost(why))

    def _stop_output(self) -> None:
        if self._clock_handle is not None:
            self.s.clock.remove(self._clock_handle)
            self._clock_handle = None
        if self.out is not None:
            self.out.close()
