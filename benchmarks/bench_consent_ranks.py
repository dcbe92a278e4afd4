"""Ranking every open lead with marketing consent honoured, beside the same ranking without the
consent look-up (the queue before issue 21), in the same run on a copy of a demo cache.

    python -m benchmarks.bench_consent_ranks --cache benchmarks/data/demo-20000.db
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from c360_desktop.core.leads import queue
from c360_desktop.core.storage.cache import open_cache


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", required=True, help="a demo cache (copied; the copy is ranked)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "cache.db"
        shutil.copyfile(args.cache, copy)
        cache = open_cache(copy)
        with_consent = queue._SOURCE_SQL
        without = re.sub(r",\s*\(SELECT group_concat\(k\.channel\).*?\)\)\nFROM lead l", ", NULL\nFROM lead l",
                         with_consent, flags=re.S)
        assert without != with_consent
        now = datetime(2026, 11, 27, 18)
        times: dict[str, list[float]] = {"with consent": [], "without (baseline)": []}
        for _ in range(args.runs):
            for label, sql in (("without (baseline)", without), ("with consent", with_consent)):
                queue._SOURCE_SQL = sql
                with cache.writer() as w:
                    t = time.perf_counter()
                    n = queue.refresh_lead_ranks(w, now=now)
                    times[label].append(time.perf_counter() - t)
        queue._SOURCE_SQL = with_consent
        (consents,) = cache.reader().execute("SELECT count(*) FROM consent").fetchone()
        cache.close()
    print(f"{n:,} open leads, {consents:,} consent records, {args.runs} runs each")
    for label, ts in times.items():
        print(f"  {label:20} median {statistics.median(ts) * 1000:8.1f} ms   min {min(ts) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
