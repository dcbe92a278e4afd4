"""Proximity and the lead queue, beside baselines in the same run.

1. "Near me": customers within 5 km of random points in Jamaica's towns, over a demo cache of
   N customers:
     ours       R*Tree bounding box in the cache, then exact haversine on the candidates
     full scan  every customer's position read and its haversine distance computed
2. The lead queue: open leads filtered (parish, band, status, age) and sorted (score, value, age)
   in SQL on the ranked table, with the first 200 shown; beside the same filters and sorts done by
   loading every open lead and ranking it in Python (what a pane without the ranked table does).

    python -m benchmarks.bench_leads_geo --customers 1000000
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from benchmarks.common import demo_cache, summary
from c360_desktop.core.geo.places import haversine_km, near
from c360_desktop.core.leads.queue import LeadQueue
from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings

TOWNS = Path(__file__).resolve().parents[2] / "shared" / "data" / "jamaica" / "jamaica_towns_geonames.csv"


def towns() -> list[tuple[float, float]]:
    if TOWNS.exists():
        with TOWNS.open(encoding="utf-8") as fh:
            return [(float(r["lat"]), float(r["lon"])) for r in csv.DictReader(fh)]
    return [(18.0358, -77.5050), (17.9970, -76.7936), (18.4762, -77.8939)]


def bench_near(services: Services, queries: int, baseline_queries: int, radius: float, limit: int) -> None:
    conn = services.cache.reader()
    rng = random.Random(5)
    points = [(lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01))
              for lat, lon in rng.choices(towns(), k=queries)]
    (n,) = conn.execute("SELECT count(*) FROM customer_geo").fetchone()
    ours, sizes = [], []
    for lat, lon in points:
        t = time.perf_counter()
        found = near(conn, lat, lon, radius, limit=limit)
        ours.append((time.perf_counter() - t) * 1000)
        sizes.append(len(found))
    base = []
    for lat, lon in points[:baseline_queries]:
        t = time.perf_counter()
        rows = conn.execute("SELECT customer_id, lat, lon FROM customer_place WHERE lat IS NOT NULL").fetchall()
        hits = sorted((haversine_km(lat, lon, a, b), cid) for cid, a, b in rows if haversine_km(lat, lon, a, b) <= radius)
        top = hits[:limit]
        base.append((time.perf_counter() - t) * 1000)
        mine = near(conn, lat, lon, radius, limit=limit)
        assert [round(d, 3) for d, _c in top] == [n.distance_km for n in mine], "ours and the scan disagree"
    print(f"\nNEAR ME, nearest {limit} within {radius:g} km of points in towns, {n:,} customers with a position "
          f"(median {sorted(sizes)[len(sizes) // 2]:,} returned)")
    print(f"  ours        {summary(ours)}")
    print(f"  full scan   {summary(base)}")


def bench_queue(services: Services, runs: int) -> None:
    import json

    from c360_desktop.core.leads.queue import LeadFacts, band, next_best_action, rule_score

    conn = services.cache.reader()
    (n,) = conn.execute("SELECT count(*) FROM lead_rank").fetchone()
    parishes = [r[0] for r in conn.execute("SELECT DISTINCT parish FROM lead_rank WHERE parish IS NOT NULL")]
    queue = LeadQueue(services.cache.reader)
    rng = random.Random(7)
    cases = [dict(sort=rng.choice(["score", "value", "age", "last_contact", "name"]),
                  parishes=rng.sample(parishes, rng.randint(0, 3)) or None,
                  bands=rng.choice([None, ["hot"], ["hot", "warm"]]),
                  statuses=rng.choice([None, ["new"], ["contacted", "qualified"]]),
                  max_age_days=rng.choice([None, 30, 90])) for _ in range(runs)]
    ours = []
    for case in cases:
        t = time.perf_counter()
        queue.query(limit=200, **case)  # type: ignore[arg-type]
        ours.append((time.perf_counter() - t) * 1000)
    base = []
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    for case in cases[: max(3, runs // 10)]:
        t = time.perf_counter()
        rows = conn.execute(
            "SELECT l.id, c.display_name, c.parish, l.status, l.source, l.created_at, l.last_contact_at, "
            "l.estimated_value_cents, coalesce(cs.lifetime_spend_cents, 0), s.name FROM lead l "
            "JOIN customer c ON c.id = l.customer_id LEFT JOIN customer_summary cs ON cs.customer_id = c.id "
            "LEFT JOIN segment s ON s.id = c.segment_id WHERE l.status IN ('new', 'contacted', 'qualified')").fetchall()
        ranked = []
        for lid, name, parish, status, source, created, contacted, value, spend, segment in rows:
            f = LeadFacts(status, source, datetime.fromisoformat(created),
                          datetime.fromisoformat(contacted) if contacted else None,
                          value / 100 if value else None, spend / 100, segment, None)
            score, parts = rule_score(f, now)
            action = next_best_action(f, score, now)
            ranked.append((lid, name, parish, status, score, band(score), value, created, contacted, action,
                           json.dumps(parts)))
        ranked = [r for r in ranked if (not case["parishes"] or r[2] in case["parishes"])
                  and (not case["bands"] or r[5] in case["bands"]) and (not case["statuses"] or r[3] in case["statuses"])]
        ranked.sort(key=lambda r: -r[4])
        base.append((time.perf_counter() - t) * 1000)
    print(f"\nLEAD QUEUE, {n:,} open leads, filter + sort + first 200 ({runs} random filter/sort combinations)")
    print(f"  ours (SQL on lead_rank)       {summary(ours)}")
    print(f"  load all, rank in Python      {summary(base)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--cache", help="use this cache instead of the benchmark demo cache")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--baseline-queries", type=int, default=5)
    parser.add_argument("--radius-km", type=float, default=5.0)
    parser.add_argument("--limit", type=int, default=100, help="nearest N returned (default 100, as the pane shows)")
    parser.add_argument("--queue-runs", type=int, default=100)
    args = parser.parse_args()
    cache = Path(args.cache) if args.cache else demo_cache(args.customers)
    t = time.perf_counter()
    services = Services.open(cache, Settings(user_name="bench"))
    print(f"opened {cache.name} in {time.perf_counter() - t:.1f} s (first open after an upgrade ranks the leads)")
    bench_near(services, args.queries, args.baseline_queries, args.radius_km, args.limit)
    bench_queue(services, args.queue_runs)
    services.close()


if __name__ == "__main__":
    main()
