"""The 1022 intake conversation in the terminal: the same dialog and script as a phone call,
with typed text instead of speech, filing a real ticket in the configured store.

Type answers in Vietnamese; a line of digits (and # or *) is the keypad ("1", "0903456789#");
an empty line is silence; Ctrl-D hangs up. ``--script FILE`` reads the lines from a file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from callbot.call.dialog import (
    Action,
    Ask,
    Dialog,
    DialogEvent,
    End,
    HandBack,
    Heard,
    MissingSlot,
    Pressed,
    Say,
    SetSlot,
    Silence,
)
from callbot.config import Settings
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import (
    CallEndReason,
    CallRecord,
    Channel,
    Speaker,
    Ticket,
    Turn,
    TurnKind,
    utcnow,
)
from callbot.tickets.store.base import TicketStore

KEYPAD = set("0123456789#*")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--script", type=Path, help="read the caller's lines from a file")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.server import load_script, safe_url
    from callbot.speech.prompts import prompt_library
    from callbot.tickets.store.factory import open_store

    lines = _stdin_lines()
    if args.script:  # read before a ticket is opened: a bad path must not leave one behind
        try:
            lines = _file_lines(args.script.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            print(f"callbot chat: cannot read {args.script}: {reason}", file=sys.stderr)
            return 2

    async def main() -> int:
        store = open_store(settings.store.url)
        await store.open()
        try:
            ticket = await chat(
                store, prompt_library(settings.prompts), load_script(), lines, print
            )
        finally:
            await store.close()
        state = "complete" if ticket.complete else "incomplete"
        print(f"\n[ticket #{ticket.id}, {state}, in {safe_url(settings.store.url)}]")
        return 0

    return asyncio.run(main())


def _stdin_lines() -> Iterator[str | None]:
    while True:
        try:
            yield input("bạn> ")
        except EOFError:
            yield None


def _file_lines(script: list[str]) -> Iterator[str | None]:
    for line in script:
        print(f"bạn> {line}")
        yield line
    yield None


def event_from_line(line: str) -> DialogEvent:
    text = line.strip()
    if not text:
        return Silence()
    if set(text) <= KEYPAD:
        return Pressed(text.rstrip("#") if len(text) > 1 else text)
    return Heard(text, 1.0)


async def chat(
    store: TicketStore,
    prompts: PromptLibrary,
    script,
    lines: Iterator[str | None],
    show: Callable[[str], None],
) -> Ticket:
    """Run one conversation; every turn and slot is stored as it happens."""
    call_id = f"chat-{uuid.uuid4()}"
    ticket = await store.begin_call(CallRecord(call_id, utcnow(), channel=Channel.CHAT))
    seq = 0

    async def turn(speaker: Speaker, kind: TurnKind, text: str) -> None:
        nonlocal seq
        await store.append_turn(Turn(call_id, seq, utcnow(), speaker, kind, text))
        seq += 1

    dialog = Dialog(script, ticket_id=ticket.id)
    actions: list[Action] = dialog.start()
    reason, complete = CallEndReason.CALLER_HANGUP, False
    while True:
        waiting = False
        for action in actions:
            match action:
                case Say(pieces) | Ask(pieces):
                    text = prompts.text_of(pieces)
                    show(f"bot> {text}")
                    await turn(Speaker.BOT, TurnKind.PROMPT, text)
                    waiting = isinstance(action, Ask)
                case SetSlot(slot):
                    await store.set_slot(call_id, slot)
                case MissingSlot(name, why):
                    await turn(Speaker.SYSTEM, TurnKind.EVENT, f"slot {name} missing: {why}")
                case End(end_reason, end_complete):
                    reason, complete = end_reason, end_complete
                case HandBack():
                    reason = CallEndReason.HANDED_BACK
        if dialog.done or not waiting:
            break
        line = next(lines, None)
        if line is None:
            break  # the caller hung up
        event = event_from_line(line)
        if isinstance(event, Heard):
            await turn(Speaker.CALLER, TurnKind.SPEECH, event.text)
        elif isinstance(event, Pressed):
            await turn(Speaker.CALLER, TurnKind.KEYPAD, event.digits)
        else:
            await turn(Speaker.CALLER, TurnKind.SILENCE, "")
        actions = dialog.handle(event)
    return await store.end_call(call_id, ended_at=utcnow(), reason=reason, complete=complete)
