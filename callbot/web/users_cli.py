"""Dashboard accounts: add, list, set-password, disable (and enable).

Roles: administrator, supervisor, oversight (read-only, sees everything), agency (an agency
officer: sees and acts on the tickets routed or delivered to --agency only). ``--agency``
must be an agency the routing rules can send a ticket to (``[routing] rules_file``): its
id ("so-noi-vu", "ubnd-26743") or its name ("Sở Nội vụ Thành phố Hồ Chí Minh", "Ủy ban nhân
dân Phường Bến Thành"); the account keeps the name, which is what tickets and deliveries
say, so a typo can no longer make an officer who sees nothing. Passwords are read from
the terminal without echo, or from standard input with --password-stdin (one line), and
stored as argon2id hashes; they never appear on the command line or in logs.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from callbot.config import Settings
from callbot.tickets.routing import RoutingRules, RulesError, load_rules

ROLES = ("administrator", "supervisor", "oversight", "agency")
MIN_PASSWORD = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="users_action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--agency", help="the agency an agency officer acts for (agency role)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list accounts")
    password = actions.add_parser("set-password", help="change a password (ends its sessions)")
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true")
    disable = actions.add_parser("disable", help="disable an account (ends its sessions)")
    disable.add_argument("login")
    enable = actions.add_parser("enable", help="enable a disabled account")
    enable.add_argument("login")


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            print("callbot users: the two passwords differ", file=sys.stderr)
            return None
    if len(password) < MIN_PASSWORD:
        print(f"callbot users: a password needs {MIN_PASSWORD} characters or more", file=sys.stderr)
        return None
    return password


def routed_agency(rules: RoutingRules, given: str) -> str | None:
    """The name of the agency ``given`` (an id or a name, any case) denotes, or None."""
    from callbot.nlu.admin_units import districts_2021, wards_2025

    text = " ".join(given.split())
    by_id = rules.agency(text)
    if by_id is not None and by_id.name:
        return by_id.name
    names = [agency.name for agency in rules.agencies.values() if agency.name]
    names += [rules.committee(unit).name for unit in (*districts_2021(), *wards_2025())]
    wanted = text.casefold()
    return next((name for name in names if name.casefold() == wanted), None)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.tickets.model import utcnow
    from callbot.tickets.store.factory import open_existing_store, open_store
    from callbot.web.dashboard.accounts_store import AccountStore, DuplicateLoginError
    from callbot.web.dashboard.auth import hash_password
    from callbot.web.dashboard.roles import Role

    action = args.users_action
    if action == "add" and (args.role == "agency") != bool(args.agency):
        print(
            "callbot users: --agency is required for the agency role, and only for it",
            file=sys.stderr,
        )
        return 2
    agency = None
    if action == "add" and args.agency:
        try:
            agency = routed_agency(load_rules(settings.routing.rules_file), args.agency)
        except RulesError as error:
            print(f"callbot users: {error}", file=sys.stderr)
            return 2
        if agency is None:
            print(
                f"callbot users: no agency {args.agency!r} in the routing rules"
                f" ({settings.routing.rules_file}); give its id or full name, e.g."
                ' "so-noi-vu" or "Ủy ban nhân dân Phường Bến Thành"',
                file=sys.stderr,
            )
            return 2
    password = None
    if action in ("add", "set-password"):
        password = _read_password(args.password_stdin)
        if password is None:
            return 2
    # Adding the first account may come before the first `callbot serve`, so it may create
    # the store; listing or changing accounts of a store that is not there is a mistake.
    if action == "add":
        store = await open_store(settings.store.url)
    else:
        store = await open_existing_store(settings.store.url)
    async with store:
        accounts = AccountStore(store)  # type: ignore[arg-type]
        now = utcnow()
        if action == "add":
            assert password is not None
            try:
                user = await accounts.add_user(
                    args.login, Role(args.role), agency, hash_password(password), now
                )
            except DuplicateLoginError:
                print(f"callbot users: {args.login!r} already exists", file=sys.stderr)
                return 1
            print(f"added {user.login} ({user.role}{', ' + agency if agency else ''})")
            return 0
        if action == "list":
            for user in await accounts.list_users():
                state = "disabled" if user.disabled else "active"
                agency = f"  agency={user.agency}" if user.agency else ""
                print(f"{user.login:20} {user.role:14} {state}{agency}")
            return 0
        if action == "set-password":
            assert password is not None
            done = await accounts.set_password(args.login, hash_password(password), now)
        else:
            done = await accounts.set_disabled(args.login, action == "disable", now)
        if not done:
            print(f"callbot users: no account {args.login!r}", file=sys.stderr)
            return 1
        print(f"{action}: {args.login}")
        return 0
