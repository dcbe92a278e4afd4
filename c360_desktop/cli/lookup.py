"""Finding customers and their 360 view: ``c360 search`` and ``c360 show``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from c360_desktop.cli.common import (
    MOST_RESULTS,
    CliError,
    cache_arg,
    count_type,
    open_services,
    print_json,
)


def cmd_search(args: argparse.Namespace) -> int:
    services = open_services(args)
    hits = services.search.search(args.query, limit=args.limit)
    services.audit.record("search", "search", None, {"query": args.query, "hits": len(hits)})
    if args.json:
        print_json([asdict(h) for h in hits])
    else:
        for h in hits:
            print(f"{h.customer_id}  {h.display_name:<40.40}  {h.parish or '':6} "
                  f"{h.phone or '':14} {h.segment or ''}")
        if not hits:
            print("no matches", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from c360_desktop.core.profile.service import CustomerNotFound

    services = open_services(args)
    try:
        profile = services.profiles.get(args.customer_id)
    except CustomerNotFound as exc:
        raise CliError(str(exc)) from None
    if args.json:
        sys.stdout.write(profile.model_dump_json(indent=2) + "\n")
    else:
        t = profile.transactions
        print(f"{profile.display_name} ({profile.kind}), parish {profile.parish or '-'}")
        print(f"  phone {profile.primary_phone or '-'}  email {profile.primary_email or '-'}")
        print(f"  {t.count} purchases, lifetime J${t.lifetime_spend:,}, last {t.last_purchase or '-'}")
        print(f"  {len(profile.source_records)} source records, {len(profile.open_leads)} open leads")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("search", help="find customers by name, phone, e-mail, TRN or business")
    p.add_argument("query")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=count_type(MOST_RESULTS), default=20, help="most results (default 20)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="print a customer's 360 profile")
    p.add_argument("customer_id")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=cmd_show)

