"""The audit trail on the command line: ``c360 audit verify`` checks this desktop's hash chain
(exit 1 naming the first altered entry); ``c360 audit list`` shows entries to those allowed."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from c360_desktop.cli.common import EXIT_FAILED, CliError, cache_arg, open_services, print_json
from c360_desktop.core.printable import printable as safe_text


def cmd_verify(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        verdict = services.audit.verify()
    finally:
        services.close()
    if args.json:
        print_json({**asdict(verdict), "message": verdict.message})
    else:
        print(verdict.message)
    return 0 if verdict.ok else EXIT_FAILED


def cmd_list(args: argparse.Namespace) -> int:
    from c360_desktop.core.audit.service import AuditRefused

    services = open_services(args)
    try:
        rows = services.audit.entries(actor=args.user, customer_id=args.customer, action=args.action,
                                      since=args.since, until=args.until, limit=args.limit)
    except AuditRefused as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    if args.json:
        print_json([asdict(e) for e in rows])
    else:
        for e in rows:
            print(f"{e.seq:>6}  {e.occurred_at}  {safe_text(e.actor):<16} {e.action:<24} "
                  f"{e.entity} {e.entity_id or ''}  {safe_text(str(e.details))}")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("audit", help="this desktop's audit trail: verify the chain, list entries")
    qs = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    v = qs.add_parser("verify", help="check the hash chain; exit 1 naming the first altered entry")
    v.add_argument("--json", action="store_true")
    cache_arg(v)
    v.set_defaults(func=cmd_verify)
    ls = qs.add_parser("list", help="entries, newest first (data stewards and admins)")
    ls.add_argument("--user", help="only this user's actions")
    ls.add_argument("--customer", help="only actions on this customer id")
    ls.add_argument("--action", help="an action or its family: profile, export, merge...")
    ls.add_argument("--since", help="UTC 'YYYY-MM-DD HH:MM:SS' or a date")
    ls.add_argument("--until", help="UTC 'YYYY-MM-DD HH:MM:SS' or a date")
    ls.add_argument("--limit", type=int, default=200)
    ls.add_argument("--json", action="store_true")
    cache_arg(ls)
    ls.set_defaults(func=cmd_list)
