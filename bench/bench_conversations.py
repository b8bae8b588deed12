"""Text-channel benchmark: whole intake conversations per second one process sustains.

    .venv/bin/python bench/bench_conversations.py [--conversations 200] [--concurrency 20]
        [--store-url sqlite:///bench/out/conversations.db]

Each conversation is the nine-message intake of tests/test_channels_web_chat.py (case type,
subject, ward, street, household, name, phone, description, "đúng rồi") through
``ConversationService`` on a real store: every message loads the dialog state, runs the
NLU and the dialog, writes the turns and slots, and saves the state, as the web chat and
the Zalo webhook do (no HTTP: this measures what one process's conversation work costs).
``--concurrency`` users talk at once, each message answered before their next one.
Results print and go to bench/out/conversations.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the typed intake the channels' tests use

from ticket_helpers import TYPED_INTAKE as LINES  # noqa: E402

import ivr  # noqa: E402
from callbot.channels.conversation import ConversationService, event_from_text  # noqa: E402
from callbot.speech.prompts import PromptLibrary  # noqa: E402
from callbot.tickets.model import Channel  # noqa: E402
from callbot.tickets.store.factory import open_store  # noqa: E402


async def run(conversations: int, concurrency: int, store_url: str) -> dict:
    store = await open_store(store_url)
    talk = ConversationService(store, PromptLibrary(ROOT / "prompts").text_of, ivr.SCRIPT)
    latencies: list[float] = []
    complete = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(conversations):
        queue.put_nowait(n)

    async def user_loop() -> None:
        nonlocal complete
        while not queue.empty():
            n = queue.get_nowait()
            reply = None
            for line in LINES:
                started = time.perf_counter()
                reply = await talk.receive(Channel.WEB_CHAT, f"bench-{n}", event_from_text(line))
                latencies.append(time.perf_counter() - started)
            ticket = await store.get_ticket(reply.ticket_id)
            complete += bool(ticket and ticket.complete)

    try:
        await talk.receive(Channel.WEB_CHAT, "warm-up", event_from_text("1"))  # NLU data loaded
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(user_loop() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await store.close()
    latencies.sort()
    return {
        "conversations": conversations,
        "complete": complete,
        "messages": len(latencies),
        "concurrency": concurrency,
        "store": store_url.split(":", 1)[0],
        "wall_s": round(wall, 2),
        "conversations_per_s": round(conversations / wall, 2),
        "messages_per_s": round(len(latencies) / wall, 1),
        "cpu_s_per_conversation": round(cpu / conversations, 4),
        "message_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "message_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    out = ROOT / "bench" / "out"
    parser.add_argument("--store-url", default=f"sqlite:///{out / 'conversations.db'}")
    args = parser.parse_args()
    out.mkdir(parents=True, exist_ok=True)
    if args.store_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):  # a fresh file: the figure must not depend on it
            Path(args.store_url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
    result = asyncio.run(run(args.conversations, args.concurrency, args.store_url))
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    (out / "conversations.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
