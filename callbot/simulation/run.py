"""Many scripted callers at once against a running bot, then a check of every ticket."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from callbot.simulation.caller import CallerResult, CallerVoice, check_ticket, run_caller
from callbot.simulation.ear import PromptEar
from callbot.simulation.scripts import CallerScript
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.store.base import TicketStore
from telephony.frame_clock import FrameClock


async def simulate_calls(
    scripts: list[CallerScript],
    *,
    host: str,
    port: int,
    prompts: PromptLibrary,
    store: TicketStore | None,
    calls: int | None = None,
    concurrency: int = 5,
    stagger_s: float = 0.5,
    on_result: Callable[[CallerResult], None] | None = None,
) -> list[CallerResult]:
    """Run ``calls`` callers (default: one per script), ``concurrency`` at a time."""
    clock = FrameClock()
    ear = PromptEar(prompts)
    voice = CallerVoice()
    total = calls if calls is not None else len(scripts)
    chosen = list(itertools.islice(itertools.cycle(scripts), total))
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int, script: CallerScript) -> CallerResult:
        await asyncio.sleep(index * stagger_s)
        async with limit:
            result = await run_caller(
                script, host=host, port=port, clock=clock, ear=ear, voice=voice
            )
        if store is not None and not result.error:
            await check_ticket(result, script, store)
        elif not result.error:
            judge_by_ear(result, script)
        if on_result is not None:
            on_result(result)
        return result

    try:
        return list(await asyncio.gather(*(one(i, s) for i, s in enumerate(chosen))))
    finally:
        await clock.close()


def judge_by_ear(result: CallerResult, script: CallerScript) -> None:
    """Without the store (``--no-check``) a call is only as good as what the caller heard:
    the bot's own goodbye and hang-up, and, for a script that expects a complete ticket,
    the goodbye that says it was filed (the bot says it only once the store has it). A
    server killed mid-call, or a call cut short, is a mismatch, never "ok"."""
    heard = {name for pieces in result.prompts_heard for name in pieces}
    if not result.bot_hung_up:
        result.mismatches.append("the bot never ended the call (no ticket seen: --no-check)")
    elif script.expect_complete and "goodbye" not in heard:
        result.mismatches.append("never heard that the ticket was filed (--no-check)")
    elif script.expect_complete and not result.ticket_heard:
        result.mismatches.append("never heard a ticket number (--no-check)")


def describe_result(result: CallerResult) -> str:
    status = "ok " if result.ok else "BAD"
    ticket = result.ticket
    if ticket is None:
        heard = f"heard ticket #{result.ticket_heard}" if result.ticket_heard else "no ticket"
        facts = f"{heard} (not read back)"
    else:
        slots = ", ".join(f"{k}={v.value}" for k, v in sorted(ticket.slots.items()))
        facts = (
            f"ticket #{ticket.id} {'complete' if ticket.complete else 'INCOMPLETE'}"
            f" ({ticket.end_reason}) {slots}"
        )
    problems = f"  ← {result.error or '; '.join(result.mismatches)}" if not result.ok else ""
    return f"[{status}] {result.script:<26} {result.duration_s:5.1f} s  {facts}{problems}"
