"""Search and 360-profile latency on a demo cache, beside naive baselines, in one run.

Search: a fixed mix of queries drawn (seeded) from the cache itself: name prefixes as typed,
misspelt names (one or two typos), phones in several formats, e-mails and business names. Ours is
CustomerSearch (FTS5 + typo correction); the baseline is the obvious LIKE '%q%' scan over names,
phones and e-mails. For each, latency and the share of queries whose customer was found.

360: ProfileService.get plus the first timeline page, as the 360 pane loads them. The baseline
runs the same queries with the indexes disabled (NOT INDEXED), i.e. what the indexes buy.

    python benchmarks/bench_lookup.py --customers 200000
    python benchmarks/bench_lookup.py --customers 1000000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections import defaultdict

from benchmarks.common import demo_cache, summary
from c360_desktop.core.demo.variations import typo
from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache


def query_mix(conn: sqlite3.Connection, n: int, seed: int = 42) -> list[tuple[str, str, str, str]]:
    """(category, query, customer id, customer's name) for n customers per category."""
    rng = random.Random(seed)
    (max_key,) = conn.execute("SELECT max(search_key) FROM customer").fetchone()
    people: list[tuple] = []
    businesses: list[tuple] = []
    while len(people) < n or len(businesses) < n:
        row = conn.execute(
            "SELECT c.id, c.kind, c.given_name, c.family_name, c.display_name, c.primary_phone, c.primary_email "
            "FROM customer c JOIN demo_truth_person t ON t.customer_id = c.id AND NOT t.is_duplicate "
            "WHERE c.search_key = ?", (rng.randint(1, max_key),)).fetchone()
        if row is None:
            continue
        (businesses if row[1] == "business" else people).append(row)
    people, businesses = people[:n], businesses[:n]
    out = []
    for cid, _k, given, family, name, phone, email in people:
        out.append(("name prefix", f"{given} {family[:3]}", cid, name))
        words = name.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) >= 5] or [0]
        for _ in range(rng.choice((1, 2))):
            i = rng.choice(long_words)
            words[i] = typo(words[i], rng)
        out.append(("misspelt name", " ".join(words), cid, name))
        d = phone[2:]
        out.append(("phone", rng.choice((f"({d[:3]}) {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", phone,
                                         f"+1 {d[:3]} {d[3:6]} {d[6:]}", d)), cid, name))
        if email:
            out.append(("email", email, cid, name))
    for cid, _k, _g, _f, name, _p, _e in businesses:
        out.append(("business name", name, cid, name))
    rng.shuffle(out)
    return out


def naive_search(conn: sqlite3.Connection, query: str, limit: int = 50) -> list[tuple[str, str]]:
    like = f"%{query}%"
    return conn.execute(
        "SELECT id, display_name FROM customer WHERE display_name LIKE ? OR primary_phone LIKE ? "
        "OR primary_email LIKE ? LIMIT ?", (like, like, like, limit)).fetchall()


def ours_search(search: CustomerSearch, query: str, limit: int = 50) -> list[tuple[str, str]]:
    return [(h.customer_id, h.display_name) for h in search.search(query, limit)]


NAIVE_360 = [
    "SELECT * FROM customer NOT INDEXED WHERE id = ?",
    "SELECT * FROM contact_point NOT INDEXED WHERE customer_id = ?",
    "SELECT * FROM customer_address NOT INDEXED WHERE customer_id = ?",
    "SELECT * FROM identity_link NOT INDEXED WHERE customer_id = ?",
    'SELECT count(*), sum(total_cents), min(occurred_at), max(occurred_at) FROM "transaction" NOT INDEXED WHERE customer_id = ?',
    "SELECT * FROM interaction NOT INDEXED WHERE customer_id = ? ORDER BY occurred_at DESC LIMIT 100",
    'SELECT * FROM "transaction" NOT INDEXED WHERE customer_id = ? ORDER BY occurred_at DESC LIMIT 100',
    "SELECT * FROM lead NOT INDEXED WHERE customer_id = ?",
    "SELECT * FROM note NOT INDEXED WHERE customer_id = ?",
]


def measure(mix, run, per_category: int | None) -> dict[str, list[tuple[float, bool, bool]]]:
    """(ms, customer listed, a customer with that exact name listed) per query, by category."""
    out: dict[str, list[tuple[float, bool, bool]]] = defaultdict(list)
    for cat, q, cid, name in mix:
        if per_category is not None and len(out[cat]) >= per_category:
            continue
        ms, hits = timed(run, q)
        out[cat].append((ms, cid in [h[0] for h in hits], name in [h[1] for h in hits]))
    return out


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - t) * 1000, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--cache", help="use this cache instead of benchmarks/data/demo-N.db")
    ap.add_argument("--per-category", type=int, default=100, help="queries per category for ours")
    ap.add_argument("--baseline-per-category", type=int, default=10)
    ap.add_argument("--profiles", type=int, default=300)
    ap.add_argument("--baseline-profiles", type=int, default=5)
    args = ap.parse_args()

    path = demo_cache(args.customers, args.cache)
    cache = open_cache(path, create=False)
    conn = cache.reader()
    (customers,) = conn.execute("SELECT count(*) FROM customer").fetchone()
    (txns,) = conn.execute('SELECT max(rowid) FROM "transaction"').fetchone()
    print(f"cache {path.name}: {customers:,} customers, ~{txns:,} transactions, {path.stat().st_size / 2**30:.1f} GiB")
    search = CustomerSearch(cache)
    mix = query_mix(conn, args.per_category)
    for _cat, q, _cid, _name in mix[:20]:
        search.search(q)  # warm-up: vocabulary load, page cache
    ours = measure(mix, lambda q: ours_search(search, q), per_category=None)
    base = measure(mix, lambda q: naive_search(conn, q), per_category=args.baseline_per_category)
    print("\nSEARCH (limit 50). found: that customer is listed; name: a customer with that exact name is")
    for cat in sorted(ours):
        for label, runs in (("ours", ours), ("LIKE '%q%'", base)):
            ms, hit, named = zip(*runs[cat], strict=True)
            print(f"  {cat:14} {label:11} {summary(list(ms))}   found {sum(hit) / len(hit):6.1%}"
                  f"   name {sum(named) / len(named):6.1%}")
    for label, runs in (("ours", ours), ("LIKE '%q%'", base)):
        print(f"  {'ALL':14} {label:11} {summary([m for v in runs.values() for m, _h, _n in v])}")

    profiles = ProfileService(cache)
    rng = random.Random(7)
    (max_key,) = conn.execute("SELECT max(search_key) FROM customer").fetchone()
    ids: list[str] = []
    while len(ids) < args.profiles:
        row = conn.execute("SELECT id FROM customer WHERE search_key = ?", (rng.randint(1, max_key),)).fetchone()
        if row:
            ids.append(row[0])
    for cid in ids[:10]:
        profiles.get(cid)

    def open_360(cid: str) -> None:
        profiles.get(cid)
        profiles.timeline(cid, None, 100)

    ms360 = [timed(open_360, cid)[0] for cid in ids]

    def naive_360(cid: str) -> None:
        for sql in NAIVE_360:
            conn.execute(sql, (cid,)).fetchall()

    # As the app opens it for a person: the same, plus the view's audit entry (a write
    # transaction: the event, its outbox entry, its chain link). Writes into this cache.
    from c360_desktop.core.security import Role, User

    audited = ProfileService(cache, lambda: User("bench", Role.MANAGER))

    def open_360_audited(cid: str) -> None:
        audited.get(cid)
        audited.timeline(cid, None, 100)

    ms360_audited = [timed(open_360_audited, cid)[0] for cid in ids]
    base360 = [timed(naive_360, cid)[0] for cid in ids[: args.baseline_profiles]]
    print("\n360 PROFILE (profile + first 100 timeline rows)")
    print(f"  ours            {summary(ms360)}")
    print(f"  ours, audited   {summary(ms360_audited)}  (a person's view: + the audit entry)")
    print(f"  no indexes      {summary(base360)}  (baseline)")


if __name__ == "__main__":
    main()
