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

from callbot.channels.conversation import KEYPAD, ConversationService, Reply, event_from_text
from callbot.config import Settings
from callbot.speech.prompts import PromptLibrary
from callbot.tickets.model import Channel, Ticket
from callbot.tickets.store.base import TicketStore

__all__ = ["KEYPAD", "add_arguments", "chat", "event_from_line", "run"]

# The typed line as the dialog hears it; one definition for every text channel.
event_from_line = event_from_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--script", type=Path, help="read the caller's lines from a file")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.server import load_script
    from callbot.speech.prompts import prompt_library
    from callbot.tickets.store.factory import open_store, safe_url

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


async def chat(
    store: TicketStore,
    prompts: PromptLibrary,
    script,
    lines: Iterator[str | None],
    show: Callable[[str], None],
) -> Ticket:
    """Run one conversation through the text channels' service (callbot.channels): every
    turn, slot and the dialog's state are stored as they happen."""
    service = ConversationService(store, prompts.text_of, script)  # type: ignore[arg-type]
    user = f"terminal-{uuid.uuid4()}"

    def say(reply: Reply) -> None:
        for text in reply.messages:
            show(f"bot> {text}")

    reply = await service.start(Channel.CHAT, user)
    say(reply)
    while not reply.done:
        line = next(lines, None)
        if line is None:  # the caller hung up
            await service.hang_up(Channel.CHAT, user, "the terminal closed")
            break
        reply = await service.receive(Channel.CHAT, user, event_from_line(line))
        say(reply)
    assert reply.ticket_id is not None
    ticket = await store.get_ticket(reply.ticket_id)
    assert ticket is not None
    return ticket
