"""The cache's encryption on the command line: ``c360 cache status`` (encrypted or not, the key's
id, last unlock, wipe limit; never the key), ``c360 cache rekey`` (a new key after a suspected
compromise), ``c360 cache wipe-after DAYS`` (the lost-laptop limit)."""

from __future__ import annotations

import argparse
from typing import Any

from c360_desktop.cli.common import CliError, cache_arg, open_services, print_json


def cmd_status(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        status = services.encryption()
    finally:
        services.close()
    if args.json:
        print_json(status)
    elif status["encrypted"]:
        limit = f"wiped after {status['wipe_after_days']} days without an unlock" if status["wipe_after_days"] \
            else "never wiped for lack of use"
        print(f"encrypted: {status['cipher']}; key {status['key_id']} kept in {status['key_kept']}; "
              f"last unlocked {status['unlocked_at']}; {limit}")
    else:
        print(f"not encrypted: {status['why_not']}")
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    from c360_desktop.core.storage.cache import CacheError

    services = open_services(args)
    try:
        services.rekey_cache()
    except CacheError as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    print("the cache has a new key; every page was encrypted again and the old key removed from the keyring")
    return 0


def cmd_wipe_after(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        services.set_wipe_after(args.days)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    print(f"the cache is wiped at a start after {args.days} days without an unlock" if args.days
          else "the cache is never wiped for lack of use")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("cache", help="the cache's encryption: status, rekey, the lost-laptop wipe limit")
    qs = p.add_subparsers(dest="cache_command", metavar="SUBCOMMAND", required=True)
    st = qs.add_parser("status", help="encrypted or not; the key's id (never the key), last unlock, wipe limit")
    st.add_argument("--json", action="store_true")
    cache_arg(st)
    st.set_defaults(func=cmd_status)
    rk = qs.add_parser("rekey", help="a new key after a suspected compromise (every page encrypted again)")
    cache_arg(rk)
    rk.set_defaults(func=cmd_rekey)
    wa = qs.add_parser("wipe-after", help="wipe the cache at a start after DAYS without an unlock (0: never)")
    wa.add_argument("days", type=int)
    cache_arg(wa)
    wa.set_defaults(func=cmd_wipe_after)
