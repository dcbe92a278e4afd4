"""Users of a cache on the command line: ``c360 signin list|add|remove|passwd|protect|unprotect``.

A cache with users asks every ``c360`` command for a sign-in (C360_USER / C360_PASSWORD /
C360_TOTP in scripts, else a prompt). The first user, added while the cache has none, must be an
admin; after that only admins add or remove users. New passwords come from a prompt (twice) or
C360_NEW_PASSWORD, never from the command line, where other users could read them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from c360_desktop.cli.common import CliError, cache_arg, open_services, parishes_type, print_json


def _new_password() -> str:
    import getpass

    given = os.environ.get("C360_NEW_PASSWORD")
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise CliError("give the new password in C360_NEW_PASSWORD, or run in a terminal")
    first = getpass.getpass("New password: ")
    if getpass.getpass("New password again: ") != first:
        raise CliError("the two passwords differ; nothing was changed")
    return first


def _with_services(args: argparse.Namespace, work: Any) -> Any:
    from c360_desktop.core.security import Refused
    from c360_desktop.core.security.signin import SignInError

    services = open_services(args)
    try:
        return work(services)
    except (SignInError, Refused) as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()


def cmd_list(args: argparse.Namespace) -> int:
    users = _with_services(args, lambda s: s.signin.users())
    if args.json:
        print_json(users)
    elif not users:
        print("no users: the cache opens without a sign-in (the demo user)")
    for u in users if not args.json else ():
        line = f"{u['name']:<20} {u['role']:<13} {','.join(u['parishes']) or 'every parish':<20}"
        line += " TOTP" if u["totp"] else ""
        line += f" ({u['failed_in_a_row']} failed sign-ins in a row)" if u["failed_in_a_row"] else ""
        print(line.rstrip())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    password = _new_password()
    _with_services(args, lambda s: s.signin.enrol(args.name, password, args.role, tuple(args.parishes or ())))
    print(f"{args.name} can sign in as {args.role.replace('_', ' ')}; every c360 command and the app now "
          "ask for a sign-in")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    _with_services(args, lambda s: s.signin.remove(args.name))
    print(f"{args.name} removed")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from c360_desktop.cli.common import ask_sign_in, cache_path
    from c360_desktop.core.settings import load_settings

    settings, _ = load_settings()
    path = cache_path(args, settings)
    _name, old, _code = ask_sign_in(path, settings.user_name)
    new = _new_password()
    _with_services(args, lambda s: s.signin.change_password(old, new))
    print("password changed")
    return 0


def cmd_protect(args: argparse.Namespace, on: bool) -> int:
    _with_services(args, lambda s: s.signin.protect(on))
    print("the cache's key is now kept only under its users' passwords (not in the keyring)" if on
          else "the cache's key is in the keyring again")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    from c360_desktop.core.security import Role

    p = sub.add_parser("signin", help="users of the cache: list, add, remove, passwd, protect, unprotect")
    qs = p.add_subparsers(dest="signin_command", metavar="SUBCOMMAND", required=True)
    ls = qs.add_parser("list", help="who may sign in, their role and parishes (never a secret)")
    ls.add_argument("--json", action="store_true")
    cache_arg(ls)
    ls.set_defaults(func=cmd_list)
    add = qs.add_parser("add", help="add (or reset) a user; the password is asked for, or C360_NEW_PASSWORD")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--parishes", type=parishes_type, help="a field rep's parishes, e.g. KSA,STC")
    cache_arg(add)
    add.set_defaults(func=cmd_add)
    rm = qs.add_parser("remove", help="remove a user (the last admin stays)")
    rm.add_argument("name")
    cache_arg(rm)
    rm.set_defaults(func=cmd_remove)
    pw = qs.add_parser("passwd", help="change your password (the key is wrapped again under it)")
    cache_arg(pw)
    pw.set_defaults(func=cmd_passwd)
    pr = qs.add_parser("protect", help="keep the key only under the users' passwords, not in the keyring")
    cache_arg(pr)
    pr.set_defaults(func=lambda a: cmd_protect(a, True))
    up = qs.add_parser("unprotect", help="keep the key in the keyring again")
    cache_arg(up)
    up.set_defaults(func=lambda a: cmd_protect(a, False))
