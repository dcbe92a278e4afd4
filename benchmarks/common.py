"""Helpers shared by the benchmarks: the demo caches they run on, and percentiles."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SEED = 1
AS_OF = date(2026, 11, 27)


def demo_cache(customers: int, path: str | None = None) -> Path:
    """The benchmark cache for a size, built (seed 1, as of 2026-11-27) if it is not there yet."""
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache
    from c360_desktop.core.progress import Progress

    out = Path(path) if path else DATA / f"demo-{customers}.db"
    if not out.exists():
        print(f"building {out} ({customers:,} customers)…", file=sys.stderr)
        started = time.perf_counter()
        last = [0.0]

        def show(fraction: float, message: str) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {fraction:5.1%} {message}", file=sys.stderr)

        build_demo_cache(out, DemoSpec(customers, SEED, AS_OF), Progress(show))
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary(ms: list[float]) -> str:
    return f"p50 {pct(ms, 50):8.2f} ms   p95 {pct(ms, 95):8.2f} ms   max {max(ms):8.2f} ms   (n={len(ms)})"
