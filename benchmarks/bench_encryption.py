"""Encrypted (SQLCipher 4, raw key) against plain caches, in the same run: search p95, 360 p95,
start-up and initial sync rows/s. Target (issue 21): at most 15% slower on each.

The same demo cache is copied twice; one copy is encrypted as the app does on open (timed: the
one-off conversion). Search runs bench_lookup's query mix; the 360 view is ProfileService.get plus
the first timeline page; start-up is opening the cache and the first search on a fresh process
(median of 5); initial sync pulls a seeded PostgreSQL into a new plain and a new encrypted cache.
The order of plain and encrypted alternates so neither gets the warmer page cache.

    python -m benchmarks.bench_encryption --customers 200000 --sync-customers 200000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.bench_lookup import ours_search, query_mix
from benchmarks.common import demo_cache, pct

_KEY = "3c" * 32  # the benchmark's own key, given as a script would (C360_CACHE_KEY)

_STARTUP = """
import sys, time
t = time.perf_counter()
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache
cache = open_cache(sys.argv[1], create=False)
CustomerSearch(cache).search(sys.argv[2])
print((time.perf_counter() - t) * 1000)
"""


def _env(encrypted: bool) -> dict[str, str]:
    env = dict(os.environ, C360_CACHE_ENCRYPTION="on" if encrypted else "off")
    if encrypted:
        env["C360_CACHE_KEY"] = _KEY
    return env


def _set_env(encrypted: bool) -> None:
    os.environ.update(_env(encrypted))
    if not encrypted:
        os.environ.pop("C360_CACHE_KEY", None)


def _open(path: Path, encrypted: bool):
    from c360_desktop.core.storage.cache import open_cache

    _set_env(encrypted)
    return open_cache(path, create=False, encrypt=encrypted)


def _line(label: str, plain: float, enc: float, unit: str, higher_is_better: bool = False) -> str:
    slower = (plain / enc - 1) if higher_is_better else (enc / plain - 1)
    return f"  {label:24} plain {plain:10.2f} {unit:6} encrypted {enc:10.2f} {unit:6} {slower:+7.1%}"


def lookups(plain_path: Path, enc_path: Path, per_category: int, profiles: int) -> None:
    import random

    from c360_desktop.core.profile.service import ProfileService
    from c360_desktop.core.search.service import CustomerSearch

    caches = {"plain": _open(plain_path, False), "encrypted": _open(enc_path, True)}
    mix = query_mix(caches["plain"].reader(), per_category)
    conn = caches["plain"].reader()
    rng = random.Random(7)
    (max_key,) = conn.execute("SELECT max(search_key) FROM customer").fetchone()
    ids: list[str] = []
    while len(ids) < profiles:
        row = conn.execute("SELECT id FROM customer WHERE search_key = ?", (rng.randint(1, max_key),)).fetchone()
        if row:
            ids.append(row[0])
    search = {k: CustomerSearch(c) for k, c in caches.items()}
    prof = {k: ProfileService(c) for k, c in caches.items()}
    for k in caches:  # warm-up: vocabulary, page cache
        for _c, q, _i, _n in mix[:20]:
            search[k].search(q)
        for cid in ids[:10]:
            prof[k].get(cid)
    ms: dict[str, list[float]] = {"plain": [], "encrypted": []}
    ms360: dict[str, list[float]] = {"plain": [], "encrypted": []}
    for i, (_cat, q, _cid, _name) in enumerate(mix):
        for k in (("plain", "encrypted") if i % 2 == 0 else ("encrypted", "plain")):
            t = time.perf_counter()
            ours_search(search[k], q)
            ms[k].append((time.perf_counter() - t) * 1000)
    for i, cid in enumerate(ids):
        for k in (("plain", "encrypted") if i % 2 == 0 else ("encrypted", "plain")):
            t = time.perf_counter()
            prof[k].get(cid)
            prof[k].timeline(cid, None, 100)
            ms360[k].append((time.perf_counter() - t) * 1000)
    for c in caches.values():
        c.close()
    print(f"\nSEARCH ({len(mix)} queries of bench_lookup's mix, limit 50)")
    for q in (50, 95):
        print(_line(f"search p{q}", pct(ms["plain"], q), pct(ms["encrypted"], q), "ms"))
    print(f"\n360 VIEW ({profiles} customers: profile + first 100 timeline rows)")
    for q in (50, 95):
        print(_line(f"360 p{q}", pct(ms360["plain"], q), pct(ms360["encrypted"], q), "ms"))


def startup(plain_path: Path, enc_path: Path, runs: int = 5) -> None:
    out: dict[str, list[float]] = {"plain": [], "encrypted": []}
    for i in range(runs):
        for k, path in ((("plain", plain_path), ("encrypted", enc_path)) if i % 2 == 0
                        else (("encrypted", enc_path), ("plain", plain_path))):
            done = subprocess.run([sys.executable, "-c", _STARTUP, str(path), "Campbell"], capture_output=True,
                                  text=True, env=_env(k == "encrypted"), check=True)
            out[k].append(float(done.stdout.strip().splitlines()[-1]))
    print(f"\nSTART-UP (a new process: open the cache, first search; median of {runs})")
    print(_line("open + first search", statistics.median(out["plain"]), statistics.median(out["encrypted"]), "ms"))


def initial_sync(customers: int) -> None:
    from c360_desktop.core.storage.cache import open_cache
    from c360_desktop.core.sync import sync
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    with tempfile.TemporaryDirectory() as tmp_name, DevPostgres() as pg:
        tmp = Path(tmp_name)
        admin.init(pg.url)
        t = time.perf_counter()
        admin.seed(pg.url, customers, 1, as_of=date(2026, 11, 27))
        print(f"\nseeded {customers:,} customers into PostgreSQL in {time.perf_counter() - t:.0f} s")
        rate: dict[str, float] = {}
        for k in ("plain", "encrypted"):
            _set_env(k == "encrypted")
            cache = open_cache(tmp / f"{k}.db", encrypt=k == "encrypted")
            assert cache.encrypted == (k == "encrypted")
            t = time.perf_counter()
            _pushed, pulled = sync(cache, pg.url)
            rate[k] = pulled.rows / (time.perf_counter() - t)
            cache.close()
        print(f"INITIAL SYNC ({pulled.rows:,} rows)")
        print(_line("rows/s", rate["plain"], rate["encrypted"], "rows/s", higher_is_better=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--cache", help="use this cache instead of benchmarks/data/demo-N.db (it is copied)")
    ap.add_argument("--sync-customers", type=int, default=200_000, help="0: skip the sync part")
    ap.add_argument("--per-category", type=int, default=100)
    ap.add_argument("--profiles", type=int, default=300)
    args = ap.parse_args()
    source = demo_cache(args.customers, args.cache)
    with tempfile.TemporaryDirectory(dir=source.parent) as tmp_name:
        tmp = Path(tmp_name)
        plain, enc = tmp / "plain.db", tmp / "encrypted.db"
        shutil.copyfile(source, plain)
        shutil.copyfile(source, enc)
        _set_env(True)
        from c360_desktop.core.storage.cache import open_cache

        t = time.perf_counter()
        open_cache(enc, create=False, encrypt=True).close()
        size = source.stat().st_size / 2**20
        print(f"cache: {source.name}, {size:,.0f} MiB; converting it to SQLCipher took "
              f"{time.perf_counter() - t:.1f} s (once, on the first open)")
        lookups(plain, enc, args.per_category, args.profiles)
        startup(plain, enc)
    if args.sync_customers:
        initial_sync(args.sync_customers)


if __name__ == "__main__":
    main()
