"""Synchronising with the central database: ``c360 sync``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from c360_desktop.cli.common import (
    CliError,
    cache_arg,
    cache_path,
    open_services,
    parishes_type,
    stderr_progress,
)
from c360_desktop.core.settings import load_settings


def cmd_sync(args: argparse.Namespace) -> int:
    from c360_desktop.core.storage.cache import open_cache
    from c360_desktop.core.sync import SyncError, sync
    from c360_desktop.core.sync.urls import UrlError, central_url

    url, territory = args.url, args.territory
    settings, _problems = load_settings()
    if args.profile:
        profile = settings.profile(args.profile)
        if profile is None:
            known = ", ".join(p.name for p in settings.profiles) or "none yet (Sync > Connections… in the app)"
            raise CliError(f"no connection profile {args.profile!r}; profiles: {known}")
        url, territory = profile.url, territory or profile.territory
    try:
        central_url(url)  # before the cache is made: a bad URL leaves no new file behind
    except UrlError as exc:
        raise CliError(str(exc)) from None
    path = cache_path(args, settings)
    from c360_desktop.core.security import signin

    if path.exists() and signin.required(path):  # a cache with users: its user signs in first
        services = open_services(args)
        cache, who = services.cache, services.user.name
    else:
        cache, who = open_cache(path, create=True), settings.user_name
    started = time.perf_counter()
    try:
        pushed, result = sync(cache, url, parishes=territory, full=args.full, progress=stderr_progress(),
                              link_as=who)
    except SyncError as exc:
        raise CliError(f"sync failed: {exc}") from None
    finally:
        cache.close()
    elapsed = time.perf_counter() - started
    pulled = ", ".join(f"{t.table} {t.rows:,}" for t in result.tables if t.rows)
    conflicts = f", {pushed.conflicts_note}" if pushed.conflicts else ""
    print(f"pushed {pushed.applied:,} changes ({pushed.merged} merged{conflicts}); pulled {result.rows:,} rows "
          f"in {elapsed:.1f} s ({pulled or 'no changes'})", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("sync", help="pull central changes into a cache",
                       description="Pull central changes into a cache, incrementally and resumably. The "
                       "password comes from PGPASSWORD or the OS keyring, never the command line.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--profile", help="a connection profile from the settings (see Sync > Connections)")
    where.add_argument("--url", help="central database, e.g. postgresql+psycopg2://rep@host/c360")
    cache_arg(p)
    p.add_argument("--territory", type=parishes_type, help="parishes to hold, e.g. JM-12,JM-11 (default: all)")
    p.add_argument("--full", action="store_true", help="pull everything again, not just changes")
    p.set_defaults(func=cmd_sync)

