"""Data-subject requests on the command line: ``c360 request list|open|close|access|erase``, for
those who handle them (data stewards and admins)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import CliError, cache_arg, open_services, print_json, stderr_progress
from c360_desktop.core.printable import printable as safe_text


def _run(args: argparse.Namespace, work: Any) -> Any:
    from c360_desktop.core.privacy.requests import RequestError
    from c360_desktop.core.privacy.service import PrivacyError, PrivacyRefused

    services = open_services(args)
    try:
        return work(services)
    except (RequestError, PrivacyError, PrivacyRefused) as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()


def _show(req: Any) -> str:
    due = "overdue" if req.overdue else (f"{req.days_left()} days left" if req.status == "open" else req.status)
    return (f"{req.id}  {req.kind:<13} {safe_text(req.subject):<28} received {req.received_on}  "
            f"due {req.due_on} ({due})")


def cmd_list(args: argparse.Namespace) -> int:
    rows = _run(args, lambda s: s.privacy.requests(args.status, args.customer))
    if args.json:
        print_json([{**{k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(r).items()},
                     "overdue": r.overdue} for r in rows])
    else:
        for r in rows:
            print(_show(r))
        if not rows:
            print("no requests")
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    try:
        received = date.fromisoformat(args.received) if args.received else date.today()
    except ValueError:
        raise CliError(f"--received {args.received!r} is not a date (YYYY-MM-DD)") from None
    req = _run(args, lambda s: s.privacy.open_request(args.customer, args.kind, received, args.channel,
                                                      args.detail or ""))
    print(_show(req))
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    req = _run(args, lambda s: s.privacy.close_request(args.request, "refused" if args.refused else "done",
                                                       args.outcome))
    print(_show(req))
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = "pdf" if out.suffix.lower() == ".pdf" else "json"
    path = _run(args, lambda s: s.privacy.access_export(args.request, out, fmt, args.force))
    print(f"{path}: everything held about the customer ({fmt.upper()})")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError("erasure cannot be undone: add --yes to confirm")
    done = _run(args, lambda s: s.privacy.erase(args.request, stderr_progress()))
    print(f"erased: {done.rows_removed:,} rows removed, {done.mentions_redacted:,} mentions redacted; "
          "the centre and the other desktops follow on their next sync")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("request", help="data-subject requests: register, access exports, erasure")
    qs = p.add_subparsers(dest="request_command", metavar="SUBCOMMAND", required=True)
    ls = qs.add_parser("list", help="the register, open requests first by due date")
    ls.add_argument("--status", choices=("open", "done", "refused"))
    ls.add_argument("--customer", help="only this customer's requests")
    ls.add_argument("--json", action="store_true")
    cache_arg(ls)
    ls.set_defaults(func=cmd_list)
    o = qs.add_parser("open", help="record a request received from a customer")
    o.add_argument("--customer", required=True, help="the customer id")
    o.add_argument("--kind", required=True, choices=("access", "rectification", "objection", "erasure"))
    o.add_argument("--channel", default="email", help="email, letter, phone, in person or web form")
    o.add_argument("--received", help="the day it was received, YYYY-MM-DD (default: today)")
    o.add_argument("--detail", help="what was asked, in a sentence")
    cache_arg(o)
    o.set_defaults(func=cmd_open)
    c = qs.add_parser("close", help="mark a request done (or --refused), saying what was done")
    c.add_argument("request")
    c.add_argument("--outcome", required=True)
    c.add_argument("--refused", action="store_true")
    cache_arg(c)
    c.set_defaults(func=cmd_close)
    a = qs.add_parser("access", help="everything held about the request's customer, as JSON or PDF")
    a.add_argument("request")
    a.add_argument("--out", required=True, help="a .json or .pdf file")
    a.add_argument("--force", action="store_true", help="replace an earlier file at --out")
    cache_arg(a)
    a.set_defaults(func=cmd_access)
    e = qs.add_parser("erase", help="honour an erasure request (cannot be undone)")
    e.add_argument("request")
    e.add_argument("--yes", action="store_true", help="confirm")
    cache_arg(e)
    e.set_defaults(func=cmd_erase)
