"""Run one scripted caller against a bot over real AudioSocket TCP, and check its ticket."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import SPEECH_DIR, CallerScript, Reply
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import Ticket
from callbot.tickets.store.base import TicketStore
from telephony.audiosocket_client import AudioSocketClient, BotHungUp
from telephony.frame_clock import FrameClock

log = logging.getLogger(__name__)

GOODBYES = ("goodbye", "goodbye_incomplete", "no_input_goodbye", "handback")


@dataclass
class CallerResult:
    script: str
    call_id: str
    ticket_heard: str = ""  # the ticket number the bot read out
    prompts_heard: list[list[str]] = field(default_factory=list)
    turn_latencies_s: list[float] = field(default_factory=list)  # our speech end → bot audio
    bot_hung_up: bool = False
    error: str = ""
    duration_s: float = 0.0
    ticket: Ticket | None = None
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and not self.mismatches


class CallerVoice:
    """The simulated callers' speech clips, loaded once per process."""

    def __init__(self, speech_dir: Path = SPEECH_DIR) -> None:
        self.library = PromptLibrary(speech_dir)

    def clip(self, name: str) -> bytes:
        return self.library.audio(name)


async def run_caller(
    script: CallerScript,
    *,
    host: str,
    port: int,
    clock: FrameClock,
    ear: PromptEar,
    voice: CallerVoice,
    think_s: float = 0.3,
    send_silence: bool = True,
    call_timeout_s: float = 240.0,
    call_id: str | None = None,
) -> CallerResult:
    call_id = call_id or str(uuid.uuid4())
    result = CallerResult(script.name, call_id)
    client = AudioSocketClient(clock, send_silence=send_silence)
    asked: Counter[str] = Counter()
    started = time.monotonic()
    try:
        await client.connect(host, port, call_id)
        async with asyncio.timeout(call_timeout_s):
            speech_ended_at: float | None = None
            while True:
                try:
                    utterance = await client.wait_bot_turn(timeout=60)
                except BotHungUp:
                    break
                if speech_ended_at is not None:
                    result.turn_latencies_s.append(utterance.started_at - speech_ended_at)
                    speech_ended_at = None
                pieces = ear.pieces(bytes(utterance.audio))
                result.prompts_heard.append(pieces)
                if any(p in GOODBYES for p in pieces):
                    result.ticket_heard = ear.digits(pieces) or result.ticket_heard
                    continue  # the bot hangs up next
                prompt = next((p for p in reversed(pieces) if p in script.answers), None)
                if prompt is None:
                    continue  # nothing to answer (or a question we have no reply for)
                reply = script.reply(prompt, asked[prompt])
                asked[prompt] += 1
                assert reply is not None
                await asyncio.sleep(think_s)
                done = await perform_reply(client, voice, reply)
                if done == "hangup":
                    break
                if done != "silence":
                    speech_ended_at = time.monotonic()
            await client.hang_up()
            result.bot_hung_up = client.bot_hung_up.is_set()
    except TimeoutError:
        result.error = "call did not finish in time"
        await client.hang_up()
    except OSError as error:
        result.error = f"connection failed: {error}"
        await client.hang_up()
    result.duration_s = time.monotonic() - started
    return result


async def perform_reply(client: AudioSocketClient, voice: CallerVoice, reply: Reply) -> str:
    """Do what the script says; returns "keys", "speech", "silence" or "hangup" (the
    caller is gone: after "say-partial" too, which hangs up in mid-sentence)."""
    if reply.kind == "keys":
        client.press(reply.arg)
        return "keys"
    if reply.kind == "say":
        await client.say(voice.clip(reply.arg))
        return "speech"
    if reply.kind == "say-partial":
        pcm = voice.clip(reply.arg)
        await client.say(pcm[: len(pcm) // 2 // 2 * 2])
        return "hangup"
    if reply.kind == "hangup":
        return "hangup"
    return "silence"  # the bot will re-ask or give up


async def check_ticket(
    result: CallerResult, script: CallerScript, store: TicketStore, wait_s: float = 10.0
) -> None:
    """Compare the ticket the bot filed with what the script expects."""
    deadline = time.monotonic() + wait_s
    ticket = None
    while time.monotonic() < deadline:
        ticket = await store.get_ticket_for_call(result.call_id)
        # The bot closes the ticket just after the TCP close; wait for the end reason.
        if ticket is not None and ticket.end_reason is not None:
            break
        await asyncio.sleep(0.1)
    result.ticket = ticket
    if ticket is None:
        result.mismatches.append("no ticket for this call")
        return
    if ticket.end_reason is None:
        result.mismatches.append("ticket was never closed by the bot")
    if ticket.complete != script.expect_complete:
        result.mismatches.append(f"complete={ticket.complete}, expected {script.expect_complete}")
    for name, expected in script.expect.items():
        slot = ticket.slots.get(name)
        got = slot.value if slot else None
        if got != expected:
            result.mismatches.append(f"{name}={got!r}, expected {expected!r}")
    if result.ticket_heard and result.ticket_heard != str(ticket.id):
        result.mismatches.append(f"bot read ticket {result.ticket_heard}, ticket is {ticket.id}")
