"""Which SQLCipher settings bring an encrypted cache nearest a plain one: search and 360 p95 for
each setting beside the plain cache, all in one run, the caches taking turns on every query. The
figures behind the choice of HMAC-SHA256 (docs/benchmarks.md).

    python -m benchmarks.bench_encryption_settings --customers 200000 default "hmac sha256" "hmac off" "page 16k"
    python -m benchmarks.bench_encryption_settings --big-cache default "hmac off"
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_lookup import query_mix
from benchmarks.common import demo_cache, pct
from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage import cache as cache_mod

KEY = bytes.fromhex("3c" * 32)
SETTINGS = {
    "default": [],
    "hmac sha256": ["PRAGMA cipher_hmac_algorithm = HMAC_SHA256"],
    "hmac off": ["PRAGMA cipher_use_hmac = OFF"],
    "page 16k": ["PRAGMA cipher_page_size = 16384"],
}


class Copy:
    """The little of Cache that CustomerSearch and ProfileService use, with a given setting."""

    def __init__(self, path: Path, setting: str | None, big_cache: bool) -> None:
        self.path, self.setting, self.big_cache = path, setting, big_cache
        self._conn = self.connect()

    def connect(self, readonly: bool = False) -> Any:
        import sqlcipher3.dbapi2 as sqlcipher

        uri = cache_mod.sqlite_uri(self.path, readonly)
        if self.setting is None:
            conn: Any = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlcipher.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
            for statement in SETTINGS[self.setting]:
                conn.execute(statement)
        cache_mod._configure(conn)
        if self.setting is not None and self.big_cache:
            conn.execute("PRAGMA cache_size = -131072")
        return conn

    def reader(self) -> Any:
        return self._conn

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM cache_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


def export(plain: Path, target: Path, setting: str) -> None:
    import sqlcipher3.dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(plain), isolation_level=None)
    conn.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{KEY.hex()}'\"", (str(target),))
    for statement in SETTINGS[setting]:
        conn.execute(statement.replace("PRAGMA ", "PRAGMA enc."))
    conn.execute("SELECT sqlcipher_export('enc')")
    conn.execute("DETACH DATABASE enc")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--big-cache", action="store_true", help="a 128 MiB page cache for the encrypted copies")
    args = ap.parse_args()
    source = demo_cache(args.customers)
    work = source.parent / "settings-experiment"
    work.mkdir(exist_ok=True)
    plain = work / "plain.db"
    if not plain.exists():
        shutil.copyfile(source, plain)
    copies = {"plain": Copy(plain, None, False)}
    for setting in args.settings:
        path = work / f"{setting.replace(' ', '_')}.db"
        if not path.exists():
            t = time.perf_counter()
            export(plain, path, setting)
            print(f"{setting}: encrypted copy made in {time.perf_counter() - t:.1f} s")
        copies[setting] = Copy(path, setting, args.big_cache)
    mix = query_mix(copies["plain"].reader(), 100)
    conn = copies["plain"].reader()
    rng = random.Random(7)
    (max_key,) = conn.execute("SELECT max(search_key) FROM customer").fetchone()
    ids: list[str] = []
    while len(ids) < 300:
        row = conn.execute("SELECT id FROM customer WHERE search_key = ?", (rng.randint(1, max_key),)).fetchone()
        if row:
            ids.append(row[0])
    search = {k: CustomerSearch(c) for k, c in copies.items()}  # type: ignore[arg-type]
    profiles = {k: ProfileService(c) for k, c in copies.items()}  # type: ignore[arg-type]
    for k in copies:
        for _cat, q, _cid, _name in mix[:20]:
            search[k].search(q)
    ms: dict[str, list[float]] = {k: [] for k in copies}
    ms360: dict[str, list[float]] = {k: [] for k in copies}
    order = list(copies)
    for i, (_cat, q, _cid, _name) in enumerate(mix):
        for k in order if i % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            search[k].search(q, 50)
            ms[k].append((time.perf_counter() - t) * 1000)
    for i, cid in enumerate(ids):
        for k in order if i % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            profiles[k].get(cid)
            profiles[k].timeline(cid, None, 100)
            ms360[k].append((time.perf_counter() - t) * 1000)
    for k in copies:
        print(f"{k:12} search p50 {pct(ms[k], 50):6.2f} ms  p95 {pct(ms[k], 95):6.2f} ms   "
              f"360 p50 {pct(ms360[k], 50):6.2f} ms  p95 {pct(ms360[k], 95):6.2f} ms")
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
