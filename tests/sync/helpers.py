"""Comparing a cache with its central database, table by table."""

import hashlib

from c360_desktop.core.storage.schema import SYNCED_TABLES
from c360_desktop.core.sync.central import Central, sync_columns


def table_digests(cache, url, parishes=None) -> tuple[dict, dict]:
    """{table: (row count, checksum)} of the central rows (within the territory) and the cache."""
    central = Central(url)
    try:
        want, have = {}, {}
        conn = cache.connect()
        for name in SYNCED_TABLES:
            cols = sync_columns(name)
            rows = [r[:-1] for r in central.fetch(name, (0, ""), 10_000_000, parishes)]
            want[name] = _digest(rows)
            names = ", ".join(f'"{c}"' for c in cols)
            have[name] = _digest(conn.execute(f'SELECT {names} FROM "{name}"').fetchall())
        conn.close()
        return want, have
    finally:
        central.close()


def _digest(rows) -> tuple[int, str]:
    h = hashlib.sha256()
    for row in sorted(rows, key=repr):
        h.update(repr(tuple(_norm(v) for v in row)).encode())
    return len(rows), h.hexdigest()


def _norm(v):
    # + 0.0 folds -0.0 into 0.0: equal values, but SQLite hands back -0.0 as 0.0
    return round(v, 6) + 0.0 if isinstance(v, float) else v


def index_definitions(cache):
    """Every index of the cache with its definition (a first pull drops and rebuilds some)."""
    return sorted(cache.reader().execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall())


def fresh_index_definitions(tmp_path):
    from c360_desktop.core.storage.cache import open_cache

    fresh = open_cache(tmp_path / "fresh-for-indexes.db")
    try:
        return index_definitions(fresh)
    finally:
        fresh.close()
