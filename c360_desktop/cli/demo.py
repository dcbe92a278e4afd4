"""The demo dataset: ``c360 demo-data``."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from c360_desktop.cli.common import (
    count_type,
    date_type,
    stderr_progress,
)
from c360_desktop.core.demo import MAX_DEMO_CUSTOMERS


def cmd_demo_data(args: argparse.Namespace) -> int:
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache

    spec = DemoSpec(customers=args.customers, seed=args.seed, as_of=args.as_of or date.today())
    started = time.perf_counter()
    out = build_demo_cache(args.out, spec, progress=stderr_progress(), overwrite=args.force)
    print(f"wrote {out} ({spec.customers:,} customers, seed {spec.seed}, as of {spec.as_of}) "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.prepare:  # what the app does on a new demo cache's first start
        from c360_desktop.core.demo.first_start import prepare_demo
        from c360_desktop.core.services import Services
        from c360_desktop.core.settings import load_settings

        started = time.perf_counter()
        services = Services.open(out, load_settings()[0], create=False)
        try:
            got = prepare_demo(services, stderr_progress())
        finally:
            services.close()
        print(f"prepared in {time.perf_counter() - started:.1f} s: {len(got.trained)} models trained "
              f"({', '.join(got.trained) or 'none'}), {got.scored:,} customers scored, {got.pairs:,} pairs to review, "
              f"{got.alerts:,} alerts", file=sys.stderr)
        for task, why in got.skipped.items():
            print(f"not trained: {task}: {why}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("demo-data", help="build a demo cache of a believable Jamaican business",
                       description="Build a demo cache. Deterministic for a seed and as-of date.")
    p.add_argument("--customers", type=count_type(MAX_DEMO_CUSTOMERS), default=20_000, help="how many (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, help="the cache file to write (must not exist)")
    p.add_argument("--as-of", type=date_type, help="the dataset's 'today' (default: today)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--prepare", action="store_true",
                   help="then train the models, score every customer, fill the review queue and raise the "
                        "budget alerts (what the app does on a new demo cache's first start)")
    p.set_defaults(func=cmd_demo_data)

