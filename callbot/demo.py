"""``callbot demo``: the whole slice on one machine, on the embedded defaults.

Starts ``callbot serve`` as a separate process (loopback, SQLite, the offline Whisper
model), runs a burst of scripted callers against it over real AudioSocket TCP, then prints
every ticket with its transcript and where the recordings are.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import textwrap
from pathlib import Path

from callbot.config import Settings
from callbot.simulation.run import describe_result, simulate_calls
from callbot.simulation.scripts import load_scripts
from callbot.speech.prompts import PROJECT_ROOT, prompt_library
from callbot.tickets.store.factory import open_store

READY = re.compile(rb"AudioSocket on [^:]+:(\d+)")


async def run_demo(settings: Settings, *, calls: int, concurrency: int, var_dir: Path) -> int:
    var_dir.mkdir(parents=True, exist_ok=True)
    db = var_dir / "callbot.db"
    recordings = var_dir / "recordings"
    env = dict(os.environ)
    env.update(
        CALLBOT_STORE_URL=f"sqlite:///{db}",
        CALLBOT_RECORDINGS_DIR=str(recordings),
        CALLBOT_AUDIOSOCKET_PORT="0",  # any free port; the server prints which
        CALLBOT_WEB_PORT="0",
        PYTHONUNBUFFERED="1",
    )
    print(f"demo: starting the callbot server (store {db})…", flush=True)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callbot", "serve",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert server.stdout is not None
    port = None
    try:
        async with asyncio.timeout(300):  # the first start assembles the model from its wheels
            while port is None:
                line = await server.stdout.readline()
                if not line:
                    raise RuntimeError("the callbot server exited before it was ready")
                sys.stdout.write("  server: " + line.decode(errors="replace"))
                match = READY.search(line)
                if match:
                    port = int(match.group(1))
        log_task = asyncio.create_task(_forward(server.stdout))
        scripts = load_scripts()
        total = calls or len(scripts)
        print(f"demo: {total} simulated callers, {concurrency} at a time, over AudioSocket :{port}")
        store = open_store(f"sqlite:///{db}")
        await store.open()
        try:
            results = await simulate_calls(
                scripts, host="127.0.0.1", port=port, prompts=prompt_library(settings.prompts),
                store=store, calls=total, concurrency=concurrency,
                on_result=lambda r: print("  " + describe_result(r), flush=True),
            )  # fmt: skip
            print("\ndemo: tickets filed")
            for result in results:
                if result.ticket is None:
                    continue
                t = result.ticket
                print(
                    f"\n#{t.id}  {'complete' if t.complete else 'incomplete'}  "
                    f"case={t.service_code} place={t.admin_unit} callback={t.callback_number}"
                )
                for name, slot in t.slots.items():
                    # What was stored and how sure the bot was: a slot heard at 0.37 is shown
                    # at 0.37, so nobody mistakes a guess read from noise for a fact.
                    how = f"from {slot.source} ({slot.confidence:.2f})"
                    print(f"    slot {name}: {slot.value!r} {how}")
                for turn in await store.list_turns(result.call_id):
                    conf = f" ({turn.confidence:.2f})" if turn.confidence is not None else ""
                    # Whole words: a prompt cut mid-word reads as if the bot had said that.
                    said = textwrap.shorten(turn.text, 90, placeholder=" …") if turn.text else ""
                    print(f"    {turn.speaker:<6} {turn.kind:<8} {said}{conf}")
                if t.recording_path:
                    print(f"    recording: {recordings / t.recording_path}")
        finally:
            await store.close()
        ok = sum(r.ok for r in results)
        print(
            f"\ndemo: {ok}/{len(results)} calls matched their scripts (every slot each script "
            f"expects); tickets in {db}; recordings under {recordings}"
        )
        url = f"CALLBOT_STORE_URL=sqlite:///{db}"
        print(f"demo: list them:      {url} callbot tickets")
        print(
            f"demo: the dashboard:  {url} callbot users add supervisor --role supervisor, "
            f"then {url} callbot serve and open http://127.0.0.1:{settings.web.port or 8022}/"
        )
        return 0 if ok == len(results) else 1
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 30)
            except TimeoutError:
                server.kill()
        if "log_task" in locals():
            log_task.cancel()


async def _forward(stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace")
        if " WARNING " in text or " ERROR " in text:
            sys.stdout.write("  server: " + text)
