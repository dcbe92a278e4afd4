"""What support needs: ``c360 diagnostics`` (the report, or a bundle zip for support)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import cache_arg, cache_path, print_json, stderr_progress
from c360_desktop.core.settings import load_settings


def cmd_diagnostics(args: argparse.Namespace) -> int:
    from c360_desktop.core.diagnostics.service import DiagnosticsService
    from c360_desktop.core.storage.cache import open_cache

    settings, _problems = load_settings()
    path = cache_path(args, settings)
    cache = open_cache(path) if path.exists() else None  # a missing cache is itself worth reporting
    try:
        service = DiagnosticsService(cache, settings)
        report = service.collect(integrity=not args.no_integrity, log_lines=args.log_lines,
                                 progress=stderr_progress())
        if args.bundle:
            saved = service.save_bundle(Path(args.bundle), report, force=args.force)
            print(f"diagnostics bundle written to {saved}")
        elif args.json:
            print_json(report.to_dict())
        else:
            print(report.text())
    finally:
        if cache is not None:
            cache.close()
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("diagnostics", help="versions, paths, cache integrity, sync state and the recent log",
                       description="Print what support needs to know about this installation, or write "
                       "it with the recent logs to a zip (--bundle) to send to support. Passwords are "
                       "never in it; e-mail addresses and phone or TRN numbers in logs are masked.")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--bundle", metavar="ZIP", help="write a diagnostics bundle (zip) here instead of printing")
    p.add_argument("--force", action="store_true", help="replace an existing file that is not a bundle")
    p.add_argument("--no-integrity", action="store_true", help="skip the cache's integrity check (slow on large caches)")
    p.add_argument("--log-lines", type=int, default=200, help="recent log lines to include (default 200)")
    p.set_defaults(func=cmd_diagnostics)
