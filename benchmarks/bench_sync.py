"""Initial and incremental sync from a real PostgreSQL into an empty cache, beside baselines.

Initial sync of the demo dataset (N customers, ~10 transactions each), rows/s for:
  ours       c360 sync: keyset batches, upsert + watermark per batch, search index and summaries
  pandas     the naive copy: pandas.read_sql of each table, then DataFrame.to_sql into SQLite
  floor      the physical limit: COPY ... TO STDOUT of the same rows into memory, plus a raw
             SQLite executemany of rows already parsed in memory (parsing not counted)
Then 1,000 rows changed centrally (customers, transactions, interactions) and an incremental sync.

    python -m benchmarks.bench_sync --customers 200000
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.storage.schema import SYNCED_TABLES
from c360_desktop.core.sync import sync
from c360_desktop.core.sync.central import sync_columns
from server_sync import admin
from server_sync.devserver import DevPostgres


def floor(pg: DevPostgres, tmp: Path) -> tuple[float, float, int]:
    import psycopg2

    conn = psycopg2.connect(pg.dsn)
    cur = conn.cursor()
    copy_s = insert_s = 0.0
    rows_total = 0
    target = open_cache(tmp / "floor.db").connect()
    for name in SYNCED_TABLES:
        cols = sync_columns(name)
        buf = io.StringIO()
        t = time.perf_counter()
        cur.copy_expert(f'COPY (SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{name}") TO STDOUT '
                        "WITH (FORMAT csv)", buf)
        copy_s += time.perf_counter() - t
        buf.seek(0)
        rows = [tuple(r) for r in csv.reader(buf)]  # parsing is not counted
        t = time.perf_counter()
        target.execute("BEGIN")
        target.executemany(f'INSERT INTO "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                           f'VALUES ({", ".join("?" * len(cols))})', rows)
        target.execute("COMMIT")
        insert_s += time.perf_counter() - t
        rows_total += len(rows)
    conn.close()
    target.close()
    return copy_s, insert_s, rows_total


def pandas_copy(pg: DevPostgres, target_path: Path, into_cache_schema: bool) -> tuple[float, int]:
    """read_sql then to_sql, table by table: into the cache's own (indexed) tables, or into the
    bare tables to_sql creates itself."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(pg.url)
    if into_cache_schema:
        open_cache(target_path).close()
    target = sqlite3.connect(target_path)
    rows = 0
    t = time.perf_counter()
    for name in SYNCED_TABLES:
        df = pd.read_sql(f'SELECT * FROM "{name}"', engine)
        df = df.drop(columns=[c for c in ("geog",) if c in df.columns])
        if into_cache_schema:
            df = df[sync_columns(name)]
        for col in df.columns:  # psycopg2 hands JSON back as dicts, which SQLite cannot store
            if df[col].map(lambda v: isinstance(v, dict | list)).any():
                df[col] = df[col].map(lambda v: None if v is None else json.dumps(v))
        df.to_sql(name, target, if_exists="append", index=False)
        rows += len(df)
    target.commit()
    elapsed = time.perf_counter() - t
    target.close()
    engine.dispose()
    return elapsed, rows


def change_1000(pg: DevPostgres) -> None:
    import psycopg2

    conn = psycopg2.connect(pg.dsn)
    cur = conn.cursor()
    cur.execute("UPDATE customer SET display_name = display_name || ' ' WHERE id IN (SELECT id FROM customer ORDER BY random() LIMIT 300)")
    cur.execute('UPDATE "transaction" SET quantity = quantity + 1 WHERE id IN (SELECT id FROM "transaction" ORDER BY random() LIMIT 400)')
    cur.execute("UPDATE interaction SET sentiment = -0.5 WHERE id IN (SELECT id FROM interaction ORDER BY random() LIMIT 300)")
    conn.commit()
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, DevPostgres() as pg:
        tmp = Path(tmp_name)
        admin.init(pg.url)
        t = time.perf_counter()
        admin.seed(pg.url, args.customers, 1, as_of=date(2026, 11, 27))
        print(f"seeded {args.customers:,} customers into PostgreSQL in {time.perf_counter() - t:.0f} s")

        cache = open_cache(tmp / "ours.db")
        t = time.perf_counter()
        _pushed, pulled = sync(cache, pg.url)
        ours_s = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = pulled.rows
        copy_s, insert_s, floor_rows = floor(pg, tmp)
        pandas_s, pandas_rows = pandas_copy(pg, tmp / "pandas-cache.db", into_cache_schema=True)
        bare_s, bare_rows = pandas_copy(pg, tmp / "pandas-bare.db", into_cache_schema=False)
        assert floor_rows == rows == pandas_rows == bare_rows, (floor_rows, rows, pandas_rows, bare_rows)
        floor_s = copy_s + insert_s
        print(f"INITIAL SYNC of {rows:,} rows ({args.customers:,} customers)")
        print(f"  ours (c360 sync)        {ours_s:7.1f} s  {rows / ours_s:>10,.0f} rows/s  (incl. search index and summaries)")
        print(f"  pandas read_sql/to_sql  {pandas_s:7.1f} s  {rows / pandas_s:>10,.0f} rows/s  (baseline a: into the cache's tables)")
        print(f"  pandas, bare tables     {bare_s:7.1f} s  {rows / bare_s:>10,.0f} rows/s  (baseline a': tables to_sql makes, no keys or indexes)")
        print(f"  COPY + executemany      {floor_s:7.1f} s  {rows / floor_s:>10,.0f} rows/s  (baseline b: COPY {copy_s:.1f} s "
              f"+ insert {insert_s:.1f} s)")
        print(f"  ours vs pandas: {pandas_s / ours_s:.1f}x faster ({bare_s / ours_s:.1f}x vs bare tables); "
              f"ours vs floor: {floor_s / ours_s:.0%} of its speed")
        print(f"  peak RSS of the process so far: {peak:,.0f} MiB")
        change_1000(pg)
        t = time.perf_counter()
        _pushed, inc = sync(cache, pg.url)
        print(f"INCREMENTAL SYNC after 1,000 central changes: {time.perf_counter() - t:.2f} s "
              f"({inc.rows:,} rows read)")
        cache.close()


if __name__ == "__main__":
    main()
