"""The lead queue and who is near: ``c360 leads`` and ``c360 near``."""

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
    parishes_type,
    print_json,
)


def cmd_leads(args: argparse.Namespace) -> int:

    queue = open_services(args).leads.queue()
    leads = queue.query(parishes=args.territory, bands=args.band, sort=args.sort, limit=args.limit)
    if args.json:
        print_json([{**asdict(r), "explanation": queue.explain(r.lead_id)} for r in leads])
    else:
        for r in leads:
            print(f"{r.score:5.1f} {r.band:4}  {r.customer_name:<32.32}  {r.parish or '':6} {r.next_action:<18} "
                  f"{r.next_action_reason}")
        if not leads:
            print("no open leads", file=sys.stderr)
    return 0


def _latitude(text: str) -> float:
    return _coordinate(text, -90, 90, "latitude")


def _longitude(text: str) -> float:
    return _coordinate(text, -180, 180, "longitude")


def _coordinate(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {what} (decimal degrees, e.g. 18.04)") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what} {value} is outside {low}..{high}")
    return value


def cmd_near(args: argparse.Namespace) -> int:
    from c360_desktop.core.geo.places import near_central

    if args.url:  # the central database (PostGIS): every customer, not only this cache's territory
        from c360_desktop.core.sync import SyncError, password_for

        try:
            found = near_central(args.url, args.lat, args.lon, args.radius_km, args.limit, password_for(args.url))
        except SyncError as exc:
            raise CliError(str(exc)) from None
    else:
        services = open_services(args)
        found = services.maps.near(args.lat, args.lon, args.radius_km, limit=args.limit)
    if args.json:
        print_json([asdict(n) for n in found])
    else:
        for n in found:
            score = f"{n.lead_score:5.1f}" if n.lead_score is not None else "    -"
            print(f"{n.distance_km:7.2f} km  {n.name:<36.36} lead {score}  last contact {n.last_contact_at or '-'}")
        if not found:
            print(f"nobody within {args.radius_km} km", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("leads", help="open leads ranked by score, with band and next best action")
    cache_arg(p)
    p.add_argument("--territory", type=parishes_type, help="parishes, e.g. JM-12,JM-11 (default: all)")
    p.add_argument("--band", type=lambda t: [b.strip() for b in t.split(",")], help="hot,warm,cold")
    p.add_argument("--sort", choices=("score", "value", "age", "last_contact", "name"), default="score")
    p.add_argument("--limit", type=count_type(MOST_RESULTS), default=50, help="most leads (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON (with each score's explanation)")
    p.set_defaults(func=cmd_leads)

    p = sub.add_parser("near", help="customers within a radius of a point, nearest first")
    cache_arg(p)
    p.add_argument("--lat", type=_latitude, required=True)
    p.add_argument("--lon", type=_longitude, required=True)
    p.add_argument("--radius-km", type=float, default=5.0, help="default 5")
    p.add_argument("--limit", type=count_type(MOST_RESULTS), default=50, help="most customers (default 50)")
    p.add_argument("--url", help="ask the central PostgreSQL (PostGIS) instead of the cache; password from "
                                 "PGPASSWORD or the keyring")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_near)

