"""Reports: a fixed mix of 50 reports (up to three measures by up to two dimensions, any date
range, with and without filters) on a demo cache of N customers, three ways in the same run:

    ours     core.reports.query.run_query (one parameterised GROUP BY per fact, joined)
    pandas   the raw tables read into pandas once (timed apart), then filter + groupby per report
             (what an analyst's notebook does); the read is what every fresh report would pay
             without a resident copy

Also the dashboard (c360 kpi) of each role, and one tile of a year-window measure (active
customers, churn rate) beside one of revenue.

    python -m benchmarks.bench_reports --customers 1000000
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

import pandas as pd

from benchmarks.common import AS_OF, demo_cache, summary
from c360_desktop.core.reports.kpi import LAYOUTS, kpis
from c360_desktop.core.reports.query import ReportQuery, run_query
from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings

SALE_MEASURES = ("revenue", "orders", "customers", "average_order_value", "revenue_per_customer")
DIMS = ("month", "parish", "category", "channel", "segment", "kind", "rep", "quarter", "week", "product")
FILTERS = (("parish", "St Ann"), ("channel", "online"), ("kind", "business"), ("category", "Hardware"))


def mix(n: int = 50, seed: int = 3) -> list[ReportQuery]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        measures = tuple(rng.sample(SALE_MEASURES, rng.randint(1, 3)))
        by: list[str] = []
        for d in rng.sample(DIMS, rng.randint(0, 2)):
            if d in ("month", "quarter", "week") and any(x in ("month", "quarter", "week") for x in by):
                continue
            by.append(d)
        days = rng.choice((7, 31, 92, 365, 730))
        end = AS_OF - timedelta(days=rng.randint(0, 400))
        where = (rng.choice(FILTERS),) if rng.random() < 0.4 else ()
        out.append(ReportQuery(measures, tuple(by), end - timedelta(days=days - 1), end, where))
    return out


def pandas_tables(conn) -> pd.DataFrame:  # noqa: ANN001
    tx = pd.read_sql('SELECT customer_id, occurred_at, product_id, amount_cents, channel, rep_id FROM "transaction" '
                     "WHERE deleted_at IS NULL", conn)
    customers = pd.read_sql("SELECT c.id AS customer_id, c.parish, c.kind, s.name AS segment FROM customer c "
                            "LEFT JOIN segment s ON s.id = c.segment_id", conn)
    products = pd.read_sql("SELECT id AS product_id, name AS product, category FROM product", conn)
    reps = pd.read_sql("SELECT id AS rep_id, name AS rep FROM sales_rep", conn)
    frame = tx.merge(customers, on="customer_id", how="left").merge(products, on="product_id", how="left").merge(
        reps, on="rep_id", how="left")
    frame["day"] = frame["occurred_at"].str[:10]
    frame["month"] = frame["day"].str[:7]
    frame["quarter"] = frame["day"].str[:4] + "-Q" + ((frame["day"].str[5:7].astype(int) + 2) // 3).astype(str)
    frame["week"] = (pd.to_datetime(frame["day"]) - pd.to_timedelta(pd.to_datetime(frame["day"]).dt.weekday, "D")
                     ).dt.strftime("%Y-%m-%d")
    return frame


def pandas_report(frame: pd.DataFrame, q: ReportQuery) -> pd.DataFrame:
    from c360_desktop.core import jamaica

    assert q.start and q.end
    rows = frame[(frame["day"] >= q.start.isoformat()) & (frame["day"] <= q.end.isoformat())]
    for d, v in q.where:
        rows = rows[rows[d] == (jamaica.parish_code(v) if d == "parish" else v)]
    g = rows.groupby(list(q.by)) if q.by else rows.groupby(lambda _i: 0)
    return g.agg(revenue=("amount_cents", "sum"), orders=("amount_cents", "size"), customers=("customer_id", "nunique"))


def main() -> None:
    import psutil

    from c360_desktop.core.progress import Progress

    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--cache", help="a cache to use instead of the benchmark's own demo cache")
    ap.add_argument("--reports", type=int, default=50)
    ap.add_argument("--sqlite-reports", type=int, default=50, help="how many of the mix to time on plain SQLite")
    ap.add_argument("--slowest", type=int, default=5, help="list the slowest reports of the mix")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline (it holds every row in memory)")
    args = ap.parse_args()
    path = args.cache or demo_cache(args.customers)
    services = Services.open(path, Settings(user_name="bench"), create=False)
    conn = services.cache.reader()
    (n_tx,) = conn.execute('SELECT count(*) FROM "transaction"').fetchone()
    (n_customers,) = conn.execute("SELECT count(*) FROM customer").fetchone()
    print(f"{n_customers:,} customers, {n_tx:,} sales lines; {args.reports} reports")
    reports = mix(args.reports)

    t = time.perf_counter()
    services.reports.prepare(Progress())
    print(f"columnar copy ready (built if missing) in {time.perf_counter() - t:.1f} s, "
          f"{services.reports._copy.path.stat().st_size / 1e6:,.0f} MB")  # type: ignore[union-attr]
    ours = []
    for q in reports:
        t = time.perf_counter()
        services.reports.query(q)
        ours.append((time.perf_counter() - t) * 1000)
    print(f"ours (DuckDB columnar copy)  {summary(ours)}")
    for ms, q in sorted(zip(ours, reports, strict=True), key=lambda p: -p[0])[: args.slowest]:
        print(f"  {ms:6.0f} ms  {'+'.join(q.measures)} by {'x'.join(q.by) or '-'}, {(q.end - q.start).days + 1} days"
              f"{', ' + ', '.join(f'{d}={v}' for d, v in q.where) if q.where else ''}")

    run_query(conn, reports[0])  # warm the page cache
    plain = []
    for q in reports[: args.sqlite_reports]:
        t = time.perf_counter()
        run_query(conn, q)
        plain.append((time.perf_counter() - t) * 1000)
    print(f"plain SQLite GROUP BY        {summary(plain)}")

    if not args.no_pandas:
        t = time.perf_counter()
        frame = pandas_tables(conn)
        read_s = time.perf_counter() - t
        print(f"pandas: read and join the tables: {read_s:.1f} s ({frame.memory_usage(deep=True).sum() / 1e6:,.0f} MB)")
        theirs = []
        for q in reports:
            t = time.perf_counter()
            pandas_report(frame, q)
            theirs.append((time.perf_counter() - t) * 1000)
        print(f"pandas groupby after read    {summary(theirs)}")
        del frame

    for role in LAYOUTS:
        t = time.perf_counter()
        tiles = kpis(services.reports, role, date(2026, 11, 27))
        print(f"dashboard {role}: {len(tiles)} tiles in {(time.perf_counter() - t) * 1000:,.0f} ms")
    for name in ("revenue", "active_customers", "churn_rate"):  # a year-window tile beside a plain one
        t = time.perf_counter()
        kpis(services.reports, "manager", date(2026, 11, 27), (name,))
        print(f"one tile {name}: {(time.perf_counter() - t) * 1000:,.0f} ms")
    print(f"memory (RSS) with the copy open and the dashboards made: "
          f"{psutil.Process().memory_info().rss / 1e6:,.0f} MB")

    ids = [r for (r,) in conn.execute('SELECT id FROM "transaction" ORDER BY random() LIMIT 1000')]
    with services.cache.writer() as w:  # what a sync of 1,000 changed sales does to the cache
        w.executemany('UPDATE "transaction" SET amount_cents = amount_cents WHERE id = ?', [(i,) for i in ids])
    t = time.perf_counter()
    copied = services.reports.refresh()
    print(f"keeping the copy in step after 1,000 changed sales: {copied:,} rows in "
          f"{(time.perf_counter() - t) * 1000:,.0f} ms")
    services.close()


if __name__ == "__main__":
    main()
