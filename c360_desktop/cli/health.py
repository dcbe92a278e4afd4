"""Is this installation healthy: ``c360 health`` (for people, monitoring scripts and probes)."""

from __future__ import annotations

import argparse
from typing import Any

from c360_desktop.cli.common import (
    EXIT_FAILED,
    CliError,
    cache_arg,
    cache_path,
    print_json,
    stderr_progress,
)
from c360_desktop.core.settings import load_settings


def cmd_health(args: argparse.Namespace) -> int:
    from c360_desktop.core.health.service import HealthService, as_text, overall, report
    from c360_desktop.core.storage.cache import open_cache

    settings, _problems = load_settings()
    path = cache_path(args, settings)
    if not path.exists():
        raise CliError(f"no cache at {path} (build one with: c360 demo-data --out {path})")
    cache = open_cache(path)
    try:
        checks = HealthService(cache, settings, timeout=args.timeout).checks(
            integrity=not args.no_integrity, progress=None if args.json else stderr_progress())
    finally:
        cache.close()
    if args.json:
        print_json(report(checks))
    else:
        print(as_text(checks))
    status = overall(checks)
    return EXIT_FAILED if status == "red" or (args.strict and status == "amber") else 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("health", help="check the central database, Kafka, the cache, sync, models and disk",
                       description="Each check is green, amber or red with the reason. Exits 1 when any "
                       "is red (with --strict, also when any is amber), so scripts and monitors can use it.")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 on amber too")
    p.add_argument("--no-integrity", action="store_true", help="skip the cache's integrity check")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each server (default 5)")
    p.set_defaults(func=cmd_health)
