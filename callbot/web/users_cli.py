"""Dashboard accounts: add, list, set-password, disable (and enable).

Roles: administrator, supervisor, oversight (read-only, sees everything), agency (an agency
officer: sees and acts on the tickets routed to --agency only). Passwords are read from
the terminal without echo, or from standard input with --password-stdin (one line), and
stored as argon2id hashes; they never appear on the command line or in logs.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from callbot.config import Settings

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


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.tickets.model import utcnow
    from callbot.tickets.store.factory import open_store
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
    password = None
    if action in ("add", "set-password"):
        password = _read_password(args.password_stdin)
        if password is None:
            return 2
    async with open_store(settings.store.url) as store:
        accounts = AccountStore(store)  # type: ignore[arg-type]
        now = utcnow()
        if action == "add":
            assert password is not None
            try:
                user = await accounts.add_user(
                    args.login, Role(args.role), args.agency, hash_password(password), now
                )
            except DuplicateLoginError:
                print(f"callbot users: {args.login!r} already exists", file=sys.stderr)
                return 1
            print(f"added {user.login} ({user.role})")
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
