"""The frozen bundle beside the source install, same run: size unpacked, and launch to a usable
window on the same demo cache (median of several runs, each after one warm-up start).

Targets (issue 22): start-up within 1.5x of the source install; bundle under 450 MB unpacked.

    python packaging/build.py && python -m benchmarks.bench_frozen --customers 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from benchmarks.bench_startup import run_until_ready
from benchmarks.common import demo_cache

ROOT = Path(__file__).resolve().parents[1]


def size_mb(folder: Path) -> tuple[float, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=str(ROOT / "dist" / "c360"))
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--cache")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    bundle = Path(args.bundle)
    frozen = bundle / ("c360-desktop.exe" if sys.platform == "win32" else "c360-desktop")
    if not frozen.exists():
        print(f"no frozen app at {frozen}: run python packaging/build.py first", file=sys.stderr)
        return 2
    cache = str(demo_cache(args.customers, args.cache))
    commands = {"frozen bundle": [str(frozen), "--cache", cache, "--report-ready"],
                "source install": [str(Path(sys.executable).with_name("c360-desktop")), "--cache", cache,
                                   "--report-ready"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        run_until_ready(cmd)  # warm the OS file cache once
    for _ in range(args.runs):  # interleaved, so a busy moment hits both
        for name, cmd in commands.items():
            times[name].append(run_until_ready(cmd)[0])
    mb, count = size_mb(bundle)
    print(f"BUNDLE {bundle}: {mb:,.0f} MB unpacked, {count:,} files (target under 450 MB)")
    print(f"LAUNCH TO USABLE WINDOW ({Path(cache).name}, {args.runs} runs each, interleaved)")
    for name, ts in times.items():
        print(f"  {name:15s} median {statistics.median(ts):.2f} s   max {max(ts):.2f} s")
    ratio = statistics.median(times["frozen bundle"]) / statistics.median(times["source install"])
    print(f"  frozen / source: {ratio:.2f}x (target within 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
