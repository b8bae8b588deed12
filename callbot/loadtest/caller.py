"""One simulated caller under load: the scripted caller of callbot/simulation, plus the
behaviours a load mix needs (barge-in, early hang-up, silence) and the client-side
measurements a load report needs (turn latency by input kind, gaps in the bot's audio).

``simulation.caller.run_caller`` is the reference behaviour for a ``normal`` caller; this
loop follows it step for step and adds the rest, so a load run exercises the same dialog.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from callbot.loadtest.mix import Behaviour, PlannedCall
from callbot.simulation.caller import GOODBYES, CallerResult, CallerVoice, perform_reply
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript, Reply
from telephony.audiosocket_client import AudioSocketClient, BotHungUp, BotUtterance
from telephony.frame_clock import FrameClock

# Asterisk hears a gap when a frame arrives more than a frame late; 40 ms between two
# consecutive 20 ms frames is one frame missing at the caller's ear.
GAP_S = 0.040
BARGE_POLL_S = 0.1
BARGE_PREFIX_S = 0.4  # audio of a question that identifies it before it has finished


@dataclass
class LoadCallResult:
    """What one load call measured; ``caller`` is the simulator's own result."""

    caller: CallerResult
    behaviour: Behaviour
    started_at: float  # monotonic
    ended_at: float = 0.0
    answered: bool = False  # the bot spoke at least once
    completed: bool = False  # the bot said its complete-ticket goodbye
    turns: list[tuple[float, str, float]] = field(default_factory=list)  # (at, kind, latency)
    frames: int = 0
    gaps: int = 0  # bot frames that came > 40 ms after the previous one
    max_gap_s: float = 0.0
    barged: int = 0
    ticket_checked: bool = False
    ticket_ok: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.caller.error)


@dataclass
class LiveLog:
    """Shared by every call of a run, for figures over a time window while calls go on
    (a capacity step is shorter than a call)."""

    turns: list[tuple[float, str, float]] = field(default_factory=list)  # (at, kind, latency)
    gaps: list[float] = field(default_factory=list)  # monotonic time of each gap


class MeasuringClient(AudioSocketClient):
    """An AudioSocket client that also times the gaps between the bot's frames."""

    def __init__(self, clock: FrameClock, live: LiveLog | None = None) -> None:
        super().__init__(clock)
        self.live = live
        self.gaps = 0
        self.max_gap_s = 0.0
        self._last_frame_at: float | None = None

    def _on_bot_audio(self, pcm: bytes) -> None:
        now = time.monotonic()
        if self._last_frame_at is not None:
            gap = now - self._last_frame_at
            if gap > GAP_S:
                self.gaps += 1
                if self.live is not None:
                    self.live.gaps.append(now)
                self.max_gap_s = max(self.max_gap_s, gap)
        self._last_frame_at = now
        super()._on_bot_audio(pcm)


class QuestionSpotter:
    """Names the question being asked from its first ``BARGE_PREFIX_S`` of audio.

    The bot's prompts arrive byte-exact over loopback, so a prefix of a question's rendered
    audio found in the bot's audio so far identifies it (the full ``PromptEar`` needs the
    whole piece, which a barging caller does not wait for).
    """

    def __init__(self, ear_library: object, names: set[str]) -> None:
        self.prefixes: dict[str, bytes] = {}
        for name in names:
            try:
                pcm = ear_library.audio(name)  # type: ignore[attr-defined]
            except Exception:
                continue
            start = next((i for i in range(0, len(pcm) - 1, 2) if pcm[i : i + 2] != b"\0\0"), 0)
            prefix = pcm[start : start + int(BARGE_PREFIX_S * 16_000)]
            if len(prefix) >= 800:
                self.prefixes[name] = prefix

    def spot(self, audio: bytes) -> str | None:
        for name, prefix in self.prefixes.items():
            index = audio.find(prefix)
            while index >= 0 and index % 2:  # only sample-aligned matches
                index = audio.find(prefix, index + 1)
            if index >= 0:
                return name
        return None


async def run_load_call(
    plan: PlannedCall,
    *,
    host: str,
    port: int,
    clock: FrameClock,
    ear: PromptEar,
    spotter: QuestionSpotter,
    voice: CallerVoice,
    call_timeout_s: float = 300.0,
    live: LiveLog | None = None,
) -> LoadCallResult:
    script = plan.script
    rng = random.Random(plan.seed)
    call_id = str(uuid.uuid4())
    result = LoadCallResult(CallerResult(script.name, call_id), plan.behaviour, time.monotonic())
    client = MeasuringClient(clock, live)
    asked: Counter[str] = Counter()
    answered_questions = 0
    try:
        await client.connect(host, port, call_id)
        async with asyncio.timeout(call_timeout_s):
            speech_ended_at: float | None = None
            input_kind = ""
            barged_into: BotUtterance | None = None
            barged: list[BotUtterance] = []
            while True:
                try:
                    if plan.behaviour is Behaviour.BARGE:
                        spotted = await _wait_turn_or_question(client, spotter, script, barged)
                    else:
                        spotted = None
                    utterance = await client.wait_bot_turn(timeout=60) if spotted is None else None
                except BotHungUp:
                    break
                if utterance is not None:
                    result.answered = True
                    if utterance is barged_into:
                        continue  # answered while it played; the bot's reply comes next
                    if speech_ended_at is not None:
                        latency = utterance.started_at - speech_ended_at
                        result.caller.turn_latencies_s.append(latency)
                        result.turns.append((utterance.started_at, input_kind, latency))
                        if live is not None:
                            live.turns.append(result.turns[-1])
                        speech_ended_at = None
                    pieces = ear.pieces(bytes(utterance.audio))
                    result.caller.prompts_heard.append(pieces)
                    if any(p in GOODBYES for p in pieces):
                        result.completed = result.completed or "goodbye" in pieces
                        result.caller.ticket_heard = (
                            ear.digits(pieces) or result.caller.ticket_heard
                        )
                        continue
                    prompt = next((p for p in reversed(pieces) if p in script.answers), None)
                    if prompt is None:
                        continue
                else:
                    # Barge-in: the question is still playing; answer over it.
                    assert spotted is not None
                    prompt, barged_into = spotted
                    barged.append(barged_into)
                    result.answered = True
                if plan.behaviour is Behaviour.HANGUP and answered_questions >= plan.hangup_after:
                    break
                reply = _reply(plan.behaviour, script, prompt, asked[prompt])
                asked[prompt] += 1
                if reply.kind != "silence":
                    answered_questions += 1
                if utterance is None:
                    await asyncio.sleep(rng.uniform(0.1, 0.6))
                    result.barged += 1
                else:
                    await asyncio.sleep(0.3)
                done = await perform_reply(client, voice, reply)
                if done == "hangup":
                    break
                if done != "silence":
                    speech_ended_at, input_kind = time.monotonic(), done
            await client.hang_up()
            result.caller.bot_hung_up = client.bot_hung_up.is_set()
    except TimeoutError:
        result.caller.error = "call did not finish in time"
        await client.hang_up()
    except OSError as error:
        result.caller.error = f"connection failed: {error}"
        await client.hang_up()
    result.ended_at = time.monotonic()
    result.caller.duration_s = result.ended_at - result.started_at
    result.frames = client.frames_received
    result.gaps = client.gaps
    result.max_gap_s = client.max_gap_s
    return result


def _reply(behaviour: Behaviour, script: CallerScript, prompt: str, times: int) -> Reply:
    if behaviour is Behaviour.SILENT:
        return Reply("silence")
    reply = script.reply(prompt, times)
    assert reply is not None
    return reply


async def _wait_turn_or_question(
    client: AudioSocketClient,
    spotter: QuestionSpotter,
    script: CallerScript,
    barged: list[BotUtterance],
) -> tuple[str, BotUtterance] | None:
    """For a barging caller: None when a whole bot turn is ready (handle it normally), or
    (question, utterance) as soon as an answerable question is heard starting."""
    while True:
        if client.closed.is_set() or client.bot_hung_up.is_set():
            return None
        taken = client._taken  # utterances already handed out by wait_bot_turn
        if len(client.utterances) > taken:
            current = client.utterances[taken]
            if current.ended_at is not None:
                return None
            name = spotter.spot(bytes(current.audio))
            if (
                name is not None
                and name in script.answers
                and all(current is not b for b in barged)
            ):
                return name, current
        await asyncio.sleep(BARGE_POLL_S)
