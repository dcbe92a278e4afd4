"""``c360 retention run``: drop this cache's local-only records past their age (dead letters,
recent raw events, report runs and sent mail, quality history). The centre's policies run with
``c360-server retention run``."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from c360_desktop.cli.common import cache_arg, open_services, print_json


def cmd_run(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        report = services.retention_local(dry_run=args.dry_run)
    finally:
        services.close()
    if args.json:
        print_json({"dry_run": report.dry_run, "as_of": report.as_of, "outcomes": [asdict(o) for o in report.outcomes]})
    else:
        print("\n".join(report.lines()))
        print(("would remove" if report.dry_run else "removed") + f" {report.rows:,} rows in all")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("retention", help="drop local-only records past their age (the centre runs its own policies)")
    qs = p.add_subparsers(dest="retention_command", metavar="SUBCOMMAND", required=True)
    r = qs.add_parser("run", help="remove them now (or count them with --dry-run)")
    r.add_argument("--dry-run", action="store_true")
    r.add_argument("--json", action="store_true")
    cache_arg(r)
    r.set_defaults(func=cmd_run)
