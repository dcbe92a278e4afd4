"""Demo-data generation: time, rows and peak memory by size, and write throughput against the
naive path (one SQLAlchemy ORM object per row) on the same rows, in one run.

    python benchmarks/bench_demo_data.py --sizes 10000 50000 200000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import AS_OF, SEED

BUILD = f"""
import resource, sqlite3, sys, time
from datetime import date
from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache
t = time.perf_counter()
out = build_demo_cache(sys.argv[1], DemoSpec(int(sys.argv[2]), {SEED}, date.fromisoformat("{AS_OF.isoformat()}")))
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the build's peak, before counting
conn = sqlite3.connect(out)
tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'customer_fts%' AND name NOT LIKE 'sqlite%'")]
rows = sum(conn.execute(f'SELECT count(*) FROM "{{t}}"').fetchone()[0] for t in tables)
print(elapsed, rows, peak)
"""


def write_throughput(tmp: Path) -> tuple[float, float, int]:
    """Rows/s for our executemany writer and for ORM objects, on the first chunk's rows."""
    from sqlalchemy.orm import Session

    from c360_desktop.core.demo.generator import DemoSpec, generate, insert_rows
    from c360_desktop.core.storage.cache import open_cache
    from c360_desktop.core.storage.schema import Base

    batches = list(generate(DemoSpec(5_000, SEED, AS_OF)))
    n_rows = sum(len(data) for batch in batches for _cols, data in batch.values())
    ours = open_cache(tmp / "ours.db").connect()
    t = time.perf_counter()
    ours.execute("BEGIN")
    for batch in batches:
        insert_rows(ours, batch)
    ours.execute("COMMIT")
    ours_s = time.perf_counter() - t
    models = {m.local_table.name: m.class_ for m in Base.registry.mappers}
    cache = open_cache(tmp / "orm.db")
    t = time.perf_counter()
    with Session(cache.engine) as session:
        for batch in batches:
            for table, (columns, data) in batch.items():
                model = models[table]
                attrs = {c.name: c.key for c in model.__mapper__.columns}
                for row in data:
                    session.add(model(**{attrs[c]: _orm_value(v) for c, v in zip(columns, row, strict=True)}))
        session.commit()
    orm_s = time.perf_counter() - t
    return n_rows / ours_s, n_rows / orm_s, n_rows


def _orm_value(value: object) -> object:
    """The ORM wants Python types where the fast path writes SQLite text."""
    from datetime import date, datetime

    if isinstance(value, str) and len(value) == 19 and value[4] == "-" and value[10] == " ":
        return datetime.fromisoformat(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return date.fromisoformat(value)
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print("DEMO DATA BUILD (customers -> seconds, rows, peak RSS)")
        for n in args.sizes:
            out = subprocess.run([sys.executable, "-c", BUILD, str(tmp / f"demo-{n}.db"), str(n)],
                                 capture_output=True, text=True, check=True).stdout.split()
            secs, rows, rss = float(out[0]), int(out[1]), int(out[2])
            print(f"  {n:>9,} customers  {secs:7.1f} s   {rows:>11,} rows   {rows / secs:>9,.0f} rows/s"
                  f"   peak RSS {rss / 2**20:6.0f} MiB")
            (tmp / f"demo-{n}.db").unlink()
        ours, orm, n_rows = write_throughput(tmp)
        print(f"WRITE THROUGHPUT on the first chunk ({n_rows:,} rows of 17 tables)")
        print(f"  executemany writer   {ours:>10,.0f} rows/s")
        print(f"  SQLAlchemy ORM       {orm:>10,.0f} rows/s  (baseline)")


if __name__ == "__main__":
    main()
