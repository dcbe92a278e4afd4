"""Scale of the centre: many desktops syncing against one PostgreSQL while the publisher runs.

For each number of desktops (10, 50, 200 by default) a fresh central database (copied from one
seeded template) serves that many simulated desktops, each with its own cache and territory
(one parish; desktops of a parish start from that parish's first sync). Every round, each
desktop writes notes and edits a customer (outbox entries), then syncs: push, then an
incremental pull of its parish. At most ``--concurrency`` syncs run at once, as when a sales
team's desktops sync through the day, and a central writer keeps changing customers meanwhile
(as imports and other systems do). The change publisher runs throughout.

Reported per scale: push and pull p50/p95, the server's CPU per sync (every postgres process,
ended backends included), syncs per second, the publisher's events and rows per second and its
largest lag, and the end checks: every note at the centre exactly once, every edit there, each
desktop's parish equal to the centre's (checksums of ids and row versions of customers and
notes), every outbox empty, and every new note announced on Kafka.

The baseline beside each scale is the same desktop syncing alone (one at a time, no load).

    python -m benchmarks.bench_central --desktops 10 50 200
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import pct
from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync
from c360_desktop.core.sync.central import Central
from c360_desktop.core.sync.pull import Puller
from c360_desktop.core.sync.push import Pusher
from server_sync import admin
from server_sync.devbroker import DevKafka
from server_sync.devserver import DevPostgres
from server_sync.kafka import ChangePublisher, kafka_init, pending_changes, stored_positions

PARISHES = tuple(f"JM-{i:02d}" for i in range(1, 15))


def server_cpu(pg: DevPostgres) -> float:
    """CPU seconds of the whole server so far: the postmaster, its live children, and the
    children it has reaped (a backend's time moves there when its connection ends)."""
    main = psutil.Process(pg.postmaster_pid())
    t = main.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in main.children():
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass
class Desktop:
    name: str
    parish: str
    path: Path
    customers: list[str]
    cache: Any = None
    notes: list[str] = field(default_factory=list)
    edits: dict[str, str] = field(default_factory=dict)


def timed_sync(desk: Desktop, url: str) -> tuple[float, float]:
    """One sync as ``core.sync.sync`` does it, timed: (push ms, pull ms)."""
    central = Central(url)
    try:
        central.handshake()
        t0 = time.perf_counter()
        Pusher(desk.cache, central).push(None)
        t1 = time.perf_counter()
        Puller(desk.cache, central, [desk.parish]).pull(None)
        t2 = time.perf_counter()
    finally:
        central.close()
    return (t1 - t0) * 1000, (t2 - t1) * 1000


def local_work(desk: Desktop, rnd: int, notes: int, slot: int) -> None:
    """A morning's work on one desktop: notes on its customers and an address corrected (the
    customer at ``slot``: no two desktops of a parish edit the same one, so each edit's final
    value is known)."""
    profiles = ProfileService(desk.cache)
    index = int(desk.name[1:]) // len(PARISHES)
    if not 0 <= slot < len(desk.customers):
        raise SystemExit(f"{desk.parish} has {len(desk.customers)} customers, too few for this many desktops")
    cid = desk.customers[slot]
    for n in range(notes):
        note = profiles.add_note(desk.customers[(index + n + rnd) % len(desk.customers)],
                                 f"bench note {desk.name} round {rnd} #{n}", desk.name)
        desk.notes.append(note.id)
    street = f"{rnd + 1} Bench Road ({desk.name})"
    profiles.update_customer(cid, {"street": street}, desk.name)
    desk.edits[cid] = street


def checksum(rows: list[tuple[str, int]]) -> str:
    return hashlib.sha256(",".join(f"{i}:{v}" for i, v in sorted(rows)).encode()).hexdigest()[:16]


def central_rows(conn: Any, parish: str) -> tuple[str, str]:
    cur = conn.cursor()
    cur.execute("SELECT id, row_version FROM customer WHERE parish = %s AND deleted_at IS NULL", (parish,))
    customers = checksum(cur.fetchall())
    cur.execute("SELECT n.id, n.row_version FROM note n JOIN customer c ON c.id = n.customer_id "
                "WHERE c.parish = %s AND n.deleted_at IS NULL", (parish,))
    notes = checksum(cur.fetchall())
    conn.commit()
    return customers, notes


def cache_rows(path: Path, parish: str) -> tuple[str, str]:
    conn = sqlite3.connect(path)
    try:
        customers = checksum(conn.execute("SELECT id, row_version FROM customer WHERE parish = ? "
                                          "AND deleted_at IS NULL", (parish,)).fetchall())
        notes = checksum(conn.execute("SELECT n.id, n.row_version FROM note n JOIN customer c ON c.id = n.customer_id "
                                      "WHERE c.parish = ? AND n.deleted_at IS NULL", (parish,)).fetchall())
        return customers, notes
    finally:
        conn.close()


class CentralWriter(threading.Thread):
    """Other systems changing customers at the centre while desktops sync (postal zones)."""

    def __init__(self, dsn: str, ids: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.dsn, self.ids, self.rate = dsn, ids, rate
        self.stop_flag = threading.Event()
        self.written = 0

    def run(self) -> None:
        import psycopg2

        rng = random.Random(7)
        conn = psycopg2.connect(self.dsn)
        cur = conn.cursor()
        while not self.stop_flag.wait(1 / self.rate):
            cur.execute("UPDATE customer SET postal_zone = %s WHERE id = %s",
                        (f"CSO {rng.randrange(1, 99)}", rng.choice(self.ids)))
            conn.commit()
            self.written += 1
        conn.close()


class LagWatch(threading.Thread):
    """The publisher's lag (rows changed but not yet announced), sampled every half second."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop_flag = threading.Event()
        self.max_lag = 0

    def run(self) -> None:
        from c360_desktop.core.storage.schema import SYNCED_TABLES

        central = Central(self.url)
        try:
            while not self.stop_flag.wait(0.5):
                positions = stored_positions(central) or {}
                self.max_lag = max(self.max_lag, sum(pending_changes(central, positions, SYNCED_TABLES).values()))
        finally:
            central.close()

    def lag_now(self) -> int:
        from c360_desktop.core.storage.schema import SYNCED_TABLES

        central = Central(self.url)
        try:
            return sum(pending_changes(central, stored_positions(central) or {}, SYNCED_TABLES).values())
        finally:
            central.close()


def announced(bootstrap: str, group: str) -> tuple[set[str], int]:
    """Every row id announced on ``system-changes`` since the topic began, and the events read
    (each partition read from its start to its end offset, without joining a group)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    meta = consumer.list_topics("system-changes", timeout=10)
    parts = sorted(meta.topics["system-changes"].partitions)
    ends = {p: consumer.get_watermark_offsets(TopicPartition("system-changes", p), timeout=10)[1] for p in parts}
    consumer.assign([TopicPartition("system-changes", p, OFFSET_BEGINNING) for p in parts])
    ids: set[str] = set()
    events, reached = 0, {p for p, end in ends.items() if end == 0}
    deadline = time.monotonic() + 60
    while len(reached) < len(parts) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        events += 1
        ids.update(json.loads(msg.value())["payload"]["ids"])
        if msg.offset() + 1 >= ends[msg.partition()]:
            reached.add(msg.partition())
    consumer.close()
    return ids, events


def run_scale(pg: DevPostgres, bootstrap: str, desktops: int, rounds: int, notes: int, concurrency: int,
              rate: float, work: Path) -> dict[str, Any]:
    import psycopg2

    url = pg.create_database(f"scale{desktops}", template="template_bench")
    dsn = pg.dsn.replace(f"dbname={pg.database}", f"dbname=scale{desktops}")
    folder = work / f"d{desktops}"
    folder.mkdir()
    # one first sync per parish; that parish's desktops start from a copy of it
    base: dict[str, Path] = {}
    for parish in PARISHES:
        path = folder / f"base-{parish}.db"
        cache = open_cache(path)
        sync(cache, url, parishes=[parish])
        cache.close()
        base[parish] = path
    desks = []
    for i in range(desktops):
        parish = PARISHES[i % len(PARISHES)]
        path = folder / f"d{i}.db"
        shutil.copy(base[parish], path)
        cache = open_cache(path)
        ids = [r[0] for r in cache.reader().execute(
            "SELECT id FROM customer WHERE parish = ? AND deleted_at IS NULL ORDER BY id", (parish,))]
        desks.append(Desktop(f"d{i}", parish, path, ids, cache))

    publisher = ChangePublisher(url, bootstrap)
    pub_thread = threading.Thread(target=publisher.run, kwargs={"interval": 0.2}, daemon=True)
    pub_thread.start()
    # the baseline: one desktop syncing alone, with the same local work (the publisher running)
    alone_push, alone_pull = [], []
    for rnd in range(3):
        local_work(desks[0], 100 + rnd, notes, len(desks[0].customers) - 1 - rnd)
        p, q = timed_sync(desks[0], url)
        alone_push.append(p)
        alone_pull.append(q)

    watch = LagWatch(url)
    watch.start()
    all_ids = [c for d in desks[: len(PARISHES)] for c in d.customers]
    writer = CentralWriter(dsn, all_ids, rate)
    writer.start()

    push_ms: list[float] = []
    pull_ms: list[float] = []
    lock = threading.Lock()

    def one(desk: Desktop, rnd: int, work_first: bool) -> None:
        if work_first:
            local_work(desk, rnd, notes, int(desk.name[1:]) // len(PARISHES) * rounds + rnd)
        p, q = timed_sync(desk, url)
        with lock:
            push_ms.append(p)
            pull_ms.append(q)

    cpu0, t0 = server_cpu(pg), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for rnd in range(rounds):
            list(pool.map(lambda d, r=rnd: one(d, r, True), desks))
    wall = time.perf_counter() - t0
    cpu = server_cpu(pg) - cpu0
    syncs = len(push_ms)
    writer.stop_flag.set()
    writer.join()
    # a last sync of everyone, with no more central writes, so every parish can be compared
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda d: timed_sync(d, url), desks))
    deadline = time.monotonic() + 60
    while watch.lag_now() and time.monotonic() < deadline:
        time.sleep(0.5)
    final_lag = watch.lag_now()
    watch.stop_flag.set()
    publisher.stop()
    pub_thread.join()
    published, pub_wall = publisher.published, wall
    publisher.close()

    # the end checks
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    written = [n for d in desks for n in d.notes]
    cur.execute("SELECT count(*), count(DISTINCT id), count(DISTINCT body) FROM note WHERE body LIKE 'bench note %%'")
    n_central, n_ids, n_bodies = cur.fetchone()
    cur.execute("SELECT id FROM note WHERE id = ANY(%s)", (written,))
    missing_notes = len(set(written) - {r[0] for r in cur.fetchall()})
    edits = {cid: street for d in desks for cid, street in d.edits.items()}
    cur.execute("SELECT id, street FROM customer WHERE id = ANY(%s)", (list(edits),))
    wrong_edits = sum(1 for cid, street in cur.fetchall() if edits[cid] != street)
    conn.commit()
    centre = {p: central_rows(conn, p) for p in PARISHES}
    conn.close()
    unequal = sum(1 for d in desks if cache_rows(d.path, d.parish) != centre[d.parish])
    outbox = sum(d.cache.reader().execute("SELECT count(*) FROM outbox WHERE pushed_at IS NULL").fetchone()[0]
                 for d in desks)
    ids, events = announced(bootstrap, f"bench-{desktops}")
    unannounced = len([n for n in written if n not in ids])
    for d in desks:
        d.cache.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "desktops": desktops, "syncs": syncs, "concurrency": concurrency, "wall_s": round(wall, 1),
        "syncs_per_s": round(syncs / wall, 2),
        "push_p50_ms": round(pct(push_ms, 50), 1), "push_p95_ms": round(pct(push_ms, 95), 1),
        "pull_p50_ms": round(pct(pull_ms, 50), 1), "pull_p95_ms": round(pct(pull_ms, 95), 1),
        "alone_push_p50_ms": round(pct(alone_push, 50), 1), "alone_pull_p50_ms": round(pct(alone_pull, 50), 1),
        "server_cpu_ms_per_sync": round(cpu / syncs * 1000, 1), "server_cpu_share": round(cpu / wall / psutil.cpu_count(), 2),
        "central_writes": writer.written,
        "publisher_events": published, "publisher_events_per_s": round(published / pub_wall, 1),
        "announced_rows": len(ids), "kafka_events_read": events, "max_lag_rows": watch.max_lag, "final_lag_rows": final_lag,
        "notes_written": len(written), "notes_at_centre": n_central, "duplicate_notes": n_central - n_ids,
        "duplicate_bodies": n_central - n_bodies, "missing_notes": missing_notes, "wrong_edits": wrong_edits,
        "parishes_unequal": unequal, "outbox_left": outbox, "notes_not_announced": unannounced,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--desktops", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--customers", type=int, default=3000, help="customers at the centre (default 3,000)")
    ap.add_argument("--rounds", type=int, default=2, help="syncs per desktop, each after new local work")
    ap.add_argument("--notes", type=int, default=2, help="notes per desktop per round")
    ap.add_argument("--concurrency", type=int, default=8, help="syncs running at once")
    ap.add_argument("--central-rate", type=float, default=20.0, help="central customer updates per second")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-central-"))
    pg = DevPostgres(database="template_bench").start()
    kafka = DevKafka().start()
    results = []
    try:
        admin.init(pg.url)
        admin.seed(pg.url, args.customers, 5, as_of=date(2026, 11, 27))
        kafka_init(kafka.bootstrap)
        for n in args.desktops:
            started = time.perf_counter()
            r = run_scale(pg, kafka.bootstrap, n, args.rounds, args.notes, args.concurrency, args.central_rate, work)
            results.append(r)
            ok = all(r[k] == 0 for k in ("duplicate_notes", "duplicate_bodies", "missing_notes", "wrong_edits",
                                          "parishes_unequal", "outbox_left", "notes_not_announced", "final_lag_rows"))
            print(f"{n:>4} desktops: {r['syncs']} syncs in {r['wall_s']} s ({r['syncs_per_s']}/s, {args.concurrency} at "
                  f"once)   push p50 {r['push_p50_ms']} p95 {r['push_p95_ms']} ms (alone {r['alone_push_p50_ms']})   "
                  f"pull p50 {r['pull_p50_ms']} p95 {r['pull_p95_ms']} ms (alone {r['alone_pull_p50_ms']})   "
                  f"server CPU {r['server_cpu_ms_per_sync']} ms/sync ({r['server_cpu_share']:.0%} of the machine)",
                  flush=True)
            print(f"      publisher: {r['publisher_events']} events ({r['publisher_events_per_s']}/s), "
                  f"{r['announced_rows']} rows announced, largest lag {r['max_lag_rows']} rows, after the last "
                  f"sync {r['final_lag_rows']};  central writes {r['central_writes']}", flush=True)
            print(f"      checks: {r['notes_written']} notes written, {r['notes_at_centre']} at the centre, "
                  f"{r['duplicate_notes']} duplicated, {r['missing_notes']} missing, {r['wrong_edits']} edits "
                  f"wrong, {r['parishes_unequal']} desktops unlike the centre, {r['outbox_left']} outbox entries "
                  f"left, {r['notes_not_announced']} notes not announced: {'NOTHING LOST' if ok else 'FAILED'} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        kafka.close()
        pg.close()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    failed = [r["desktops"] for r in results if any(r[k] for k in (
        "duplicate_notes", "duplicate_bodies", "missing_notes", "wrong_edits", "parishes_unequal", "outbox_left",
        "notes_not_announced", "final_lag_rows"))]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
