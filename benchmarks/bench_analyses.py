"""The ready-made analyses (cohorts, RFM, affinity, journey, seasonality) and the campaign report
on a demo cache of N customers, on the columnar copy (DuckDB, what the app uses) beside the same
SQL on the cache itself (SQLite), in the same run; median of --repeat runs each.

    python -m benchmarks.bench_analyses --customers 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from datetime import date, timedelta

from benchmarks.common import AS_OF, demo_cache
from c360_desktop.core.reports import analyses as A
from c360_desktop.core.reports.campaigns import campaign_report
from c360_desktop.core.reports.columnar import ColumnarCopy
from c360_desktop.core.storage.cache import open_cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--cache", help="an existing cache instead of the benchmark demo cache")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite side (slow on 1M)")
    args = parser.parse_args()
    path = demo_cache(args.customers, args.cache)
    end = AS_OF - timedelta(days=1)
    year = date(end.year - 1, end.month, 1)
    jobs = {
        "cohorts (12 months x 12)": lambda c, d: A.cohorts(c, d, year, end),
        "RFM distribution": lambda c, d: A.rfm(c, d, end),
        "affinity (90 days, 30-day window)": lambda c, d: A.affinity(c, d, end - timedelta(days=89), end),
        "journey": lambda c, d: A.journey(c, d, end),
        "seasonality (2 years)": lambda c, d: A.seasonality(c, d, end.replace(year=end.year - 2), end),
        "campaigns": lambda c, d: campaign_report(c, d, end),
    }
    cache = open_cache(path)
    copy = ColumnarCopy(cache)
    started = time.perf_counter()
    copy.ready()
    print(f"cache {path.name}; columnar copy ready in {time.perf_counter() - started:.1f} s")
    conn = sqlite3.connect(path)
    print(f"{'analysis':<36}{'ours (DuckDB copy)':>20}{'SQLite (the cache)':>22}")
    for name, job in jobs.items():
        ours, theirs = [], []
        for _ in range(args.repeat):
            with copy.cursor() as cur:
                t = time.perf_counter()
                job(cur, "duckdb")
                ours.append((time.perf_counter() - t) * 1000)
            if not args.no_sqlite:
                t = time.perf_counter()
                job(conn, "sqlite")
                theirs.append((time.perf_counter() - t) * 1000)
        right = f"{statistics.median(theirs):>17,.0f} ms" if theirs else f"{'skipped':>20}"
        print(f"{name:<36}{statistics.median(ours):>17,.0f} ms{right}")
    copy.close()
    cache.close()


if __name__ == "__main__":
    main()
