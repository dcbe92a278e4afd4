"""Fixtures shared by the report tests."""

from __future__ import annotations

import sqlite3

import pytest


@pytest.fixture(params=["sqlite", "duckdb"])
def engine(request, demo_cache):
    """``call(analysis, *args, **kw)`` on the cache itself (SQLite) or on its columnar copy
    (DuckDB): both must give the same figures."""
    if request.param == "sqlite":
        conn = sqlite3.connect(demo_cache)
        yield lambda fn, *a, **kw: fn(conn, "sqlite", *a, **kw)
        conn.close()
        return
    from c360_desktop.core.reports.columnar import ColumnarCopy
    from c360_desktop.core.storage.cache import open_cache

    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()

    def call(fn, *a, **kw):
        with copy.cursor() as cur:
            return fn(cur, "duckdb", *a, **kw)

    yield call
    copy.close()
    cache.close()
