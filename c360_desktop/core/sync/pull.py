"""Pulling central changes into the cache: incremental, resumable, territory-scoped.

Per table, rows with ``row_version`` above the table's watermark come in batches in row_version
order. Each batch is upserted and the watermark advanced in one local transaction, so a crash at
any point resumes where the last committed batch ended, with nothing lost or duplicated. An upsert
never replaces a row with an older version of itself, so replays are harmless.

The cursor is exact. Row versions are handed out when rows are written, not when transactions
commit, so paging by ``row_version`` alone could pass a row whose transaction commits late. Pulls
therefore page by (writing transaction, id) and only take rows of transactions older than the
oldest one still running (PostgreSQL: ``row_xid`` below ``pg_snapshot_xmin``; SQL Server:
``rowversion`` below ``MIN_ACTIVE_ROWVERSION()``): nothing can later appear behind the cursor.

Derived data follows in the same transactions: the search index for changed customers and the
per-customer summaries. During a first full pull these are rebuilt once at the end instead (a
``derived_stale`` mark in the cache makes an interrupted rebuild happen on the next run).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from c360_desktop.core.geo.places import refresh_geo
from c360_desktop.core.leads.queue import refresh_lead_ranks, refresh_lead_ranks_for_customers
from c360_desktop.core.models import OPEN_LEAD_STATUSES
from c360_desktop.core.privacy import erasure
from c360_desktop.core.progress import Progress
from c360_desktop.core.search import index as search_index
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.storage.schema import SYNCED_TABLES
from c360_desktop.core.sync.central import CUSTOMER_SCOPED, Central, sync_columns

log = logging.getLogger(__name__)
BATCH = 20_000
_DONE = object()
_SUMMARY_SOURCES = ("transaction", "lead")
_RANK_SOURCES = ("customer", "lead", "transaction", "score", "sales_activity", "consent")


@dataclass
class TableResult:
    table: str
    rows: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class TableProgress:
    """One table's part of a pull, for a progress bar per table."""

    table: str
    done: int
    total: int
    rows_per_s: float
    seconds_left: float | None  # None: not started yet

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


@dataclass
class PullResult:
    tables: list[TableResult] = field(default_factory=list)
    erasures: int = 0  # tombstones applied (core.privacy.erasure)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _upsert_sql(name: str, cols: list[str]) -> str:
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" * len(cols))
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != "id")
    return (f'INSERT INTO "{name}" ({names}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates} '
            f'WHERE excluded.row_version > "{name}".row_version')


def refresh_summaries(conn: sqlite3.Connection, customer_ids: Sequence[str] | None = None) -> None:
    """Recompute customer_summary for some customers (or all) from transactions and leads,
    in one pass over each customer's transactions."""
    where = ""
    params: list[str] = []
    if customer_ids is not None:
        if not customer_ids:
            return
        where = f"WHERE c.id IN ({','.join('?' * len(customer_ids))})"
        params = list(customer_ids)
    statuses = ", ".join(f"'{s}'" for s in OPEN_LEAD_STATUSES)
    conn.execute(f"""
        INSERT OR REPLACE INTO customer_summary
            (customer_id, txn_count, lifetime_spend_cents, first_purchase_at, last_purchase_at, open_leads)
        SELECT c.id, count(t.id), coalesce(sum(t.total_cents), 0), min(t.occurred_at), max(t.occurred_at),
               (SELECT count(*) FROM lead l WHERE l.customer_id = c.id AND l.deleted_at IS NULL
                    AND l.status IN ({statuses}))
        FROM customer c
        LEFT JOIN "transaction" t ON t.customer_id = c.id AND t.deleted_at IS NULL
        {where}
        GROUP BY c.id""", params)


def restore_indexes(cache: Cache) -> None:
    """Build the indexes a first pull set aside, if any (idempotent, one transaction)."""
    pending = cache.meta("deferred_indexes")
    if not pending:
        return
    with cache.writer() as conn:
        # Index builds sort whole tables: on disk, not in memory, so memory stays bounded however
        # big the table (this connection is the writer's own and closes after).
        conn.execute("PRAGMA temp_store = FILE")
        for _name, sql in json.loads(pending):
            for kind in ("CREATE UNIQUE INDEX ", "CREATE INDEX "):
                if sql.startswith(kind):
                    sql = sql.replace(kind, kind + "IF NOT EXISTS ", 1)
                    break
            conn.execute(sql)
        conn.execute("DELETE FROM cache_meta WHERE key = 'deferred_indexes'")


class Puller:
    def __init__(self, cache: Cache, central: Central, parishes: Sequence[str] | None = None,
                 batch: int = BATCH) -> None:
        self.cache, self.central = cache, central
        self.parishes = list(parishes) if parishes else None
        self.batch = batch
        self._erasures = 0
        self._touched: set[str] = set()  # customers whose row, or a lead of theirs, came in this pull

    def cursor(self, name: str) -> tuple[int, str]:
        row = self.cache.reader().execute(
            "SELECT watermark, cursor_id FROM sync_state WHERE table_name = ?", (name,)).fetchone()
        return (int(row[0]), row[1]) if row else (0, "")

    def pull(self, progress: Progress | None = None, full: bool = False,
             tables: Sequence[str] | None = None) -> PullResult:
        """Pull every synchronised table, or only ``tables`` (those a change event named; a first
        pull always takes every table)."""
        progress = progress or Progress()
        if full:
            with self.cache.writer() as conn:
                conn.execute("DELETE FROM sync_state")
        # Tables this login may not read (its role, enforced at the centre) are not pulled at all.
        cursors = {name: self.cursor(name) for name in SYNCED_TABLES if name not in self.central.unreadable}
        first = all(c == (0, "") for c in cursors.values())
        if tables is not None and not first and not full:
            cursors = {name: c for name, c in cursors.items() if name in set(tables)}
        if first:
            self._mark_stale()
        else:
            restore_indexes(self.cache)  # a first pull that died before it rebuilt them
        result = PullResult()
        self._todo = {name: self.central.pending(name, c, self._scope(name, c)) for name, c in cursors.items()}
        self._done, self._started = 0, time.perf_counter()
        # rows taken, when the table's pull began, when its latest batch was written
        self._per_table: dict[str, list[float]] = {name: [0, 0.0, 0.0] for name in self._todo}
        self._publish(progress)
        for name in SYNCED_TABLES:
            if name in cursors:
                result.tables.append(self._pull_table(name, progress, first))
        if self.cache.meta("deferred_indexes"):
            progress.update(0.96, "Building indexes")
            restore_indexes(self.cache)
        if "primary_phone" in self.central.hidden.get("customer", set()):
            self._own_contacts_only()
        if self.cache.meta("derived_stale") == "1":
            progress.update(0.97, "Rebuilding the search index and summaries")
            with self.cache.writer() as conn:
                search_index.index_customers(conn)
                refresh_summaries(conn)
                refresh_geo(conn)
                refresh_lead_ranks(conn)
                conn.execute("DELETE FROM cache_meta WHERE key = 'derived_stale'")
        if self.cache.meta("erasure_vacuum_due") == "1":  # a tombstone removed something here
            progress.update(0.98, "Removing erased records from the file")
            erasure.finish(self.cache)
        result.erasures = self._erasures
        with self.cache.writer() as conn:
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('last_sync_at', "
                         "strftime('%Y-%m-%d %H:%M:%S', 'now'))")
        progress.update(1.0, f"Pulled {result.rows:,} rows")
        log.info("pull finished: %d rows from %d tables%s", result.rows, len(result.tables),
                 " (first pull)" if first else "")
        return result

    def _own_contacts_only(self) -> None:
        """A login that may not read customers' phones and e-mails (a field rep, central schema 6)
        gets contact points only of its own customers (whose rep it is, or who have an open lead
        of its): fill those customers' primary phone and e-mail from them, and drop what this
        cache still holds of customers that are no longer its own."""
        me = (self.central.user or {}).get("sales_rep_id")
        own = ("(c.rep_id = :me OR EXISTS (SELECT 1 FROM lead l WHERE l.customer_id = c.id AND l.rep_id = :me "
               "AND l.status IN ('new', 'contacted', 'qualified') AND l.deleted_at IS NULL))")
        with self.cache.writer() as conn:
            args = {"me": me}
            conn.execute(f"DELETE FROM contact_point WHERE customer_id IN (SELECT c.id FROM customer c WHERE NOT {own})",
                         args)
            if self._touched and me is not None:  # newly their own: contact points older than the watermark
                bare = {r[0] for r in conn.execute(
                    f"SELECT c.id FROM customer c WHERE {own} AND NOT EXISTS (SELECT 1 FROM contact_point p "
                    "WHERE p.customer_id = c.id)", args)}
                mine = sorted(bare & self._touched)
                if mine:
                    cols = sync_columns("contact_point")
                    rows = self.central.fetch("contact_point", (0, ""), 1_000_000, None, customer_ids=mine)
                    if rows:
                        conn.executemany(_upsert_sql("contact_point", cols), [r[:-1] for r in rows])
            changed = [r[0] for r in conn.execute(
                f"UPDATE customer AS c SET primary_phone = NULL, primary_email = NULL WHERE NOT {own} "
                "AND (c.primary_phone IS NOT NULL OR c.primary_email IS NOT NULL) RETURNING id", args)]
            pick = ("(SELECT p.value FROM contact_point p WHERE p.customer_id = c.id AND p.kind = '{}' "
                    "AND p.deleted_at IS NULL ORDER BY p.is_primary DESC, p.updated_at DESC LIMIT 1)")
            changed += [r[0] for r in conn.execute(
                f"UPDATE customer AS c SET primary_phone = coalesce(c.primary_phone, {pick.format('phone')}), "
                f"primary_email = coalesce(c.primary_email, {pick.format('email')}) WHERE {own} "
                "AND (c.primary_phone IS NULL OR c.primary_email IS NULL) RETURNING id", args)]
            if changed and self.cache.meta("derived_stale") != "1":
                search_index.index_customers(conn, changed)

    def _mark_stale(self) -> None:
        """Derived data must be rebuilt once this first pull ends (or, if it dies, on the next run).
        The synchronised tables' secondary indexes are dropped for the load and built once at the
        end (sorting once beats updating B-trees row by row); their definitions are kept in the
        cache in the same transaction, so a pull that dies midway rebuilds them next time."""
        with self.cache.writer() as conn:
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('derived_stale', '1')")
            marks = ",".join("?" * len(SYNCED_TABLES))
            found = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                 f"AND tbl_name IN ({marks}) ORDER BY name", SYNCED_TABLES).fetchall()
            row = conn.execute("SELECT value FROM cache_meta WHERE key = 'deferred_indexes'").fetchone()
            deferred = json.loads(row[0]) if row else []
            for name, sql in found:
                conn.execute(f'DROP INDEX "{name}"')
                deferred.append([name, sql])
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('deferred_indexes', ?)",
                         (json.dumps(deferred),))

    def _scope(self, name: str, cursor: tuple[int, str]) -> list[str] | None:
        # After the first pull every customer change comes (a customer may have moved into or out
        # of the territory); only the in-scope ones are kept.
        return self.parishes if (cursor == (0, "") or name != "customer") else None

    def _publish(self, progress: Progress) -> None:
        out = []
        for name, (done, began, latest) in self._per_table.items():
            total = max(self._todo.get(name, 0), int(done))
            rate = done / (latest - began) if began and latest > began else 0.0
            left = (total - done) / rate if rate else (0.0 if done >= total else None)
            out.append(TableProgress(name, int(done), total, rate, left))
        progress.detail = out

    def _report(self, progress: Progress, name: str, rows: int) -> None:
        """Progress over the whole pull (rows done of rows pending, rate, time left), and per table."""
        entry = self._per_table.setdefault(name, [0, 0.0, 0.0])
        if not entry[1]:
            entry[1] = self._table_started
        entry[0] += rows
        entry[2] = time.perf_counter()
        self._publish(progress)
        self._done += rows
        total = max(sum(self._todo.values()), 1)
        elapsed = time.perf_counter() - self._started
        rate = self._done / elapsed if elapsed else 0.0
        left = (total - self._done) / rate if rate else 0.0
        progress.update(min(0.95, 0.95 * self._done / total),
                        f"{name}: {self._done:,} of {total:,} rows ({rate:,.0f} rows/s, about {left:,.0f} s left)")

    def _pull_table(self, name: str, progress: Progress, first: bool) -> TableResult:
        cols = sync_columns(name)
        sql = _upsert_sql(name, cols)
        key = cols.index("id")
        res = TableResult(name)
        started = self._table_started = time.perf_counter()
        cursor = self.cursor(name)
        parishes = self._scope(name, cursor)
        batches = self._prefetched(name, cursor, parishes) if first else self._batches(name, cursor, parishes)
        for fetched in batches:
            last = fetched[-1]
            rows = [r[:-1] for r in fetched]  # drop the position each row ends with
            with self.cache.writer() as conn:
                kept = self._apply(conn, name, cols, sql, rows, first)
                conn.execute(
                    "INSERT INTO sync_state (table_name, watermark, cursor_id, last_pull_at) VALUES (?, ?, ?, "
                    "strftime('%Y-%m-%d %H:%M:%S', 'now')) ON CONFLICT(table_name) DO UPDATE SET "
                    "watermark = excluded.watermark, cursor_id = excluded.cursor_id, "
                    "last_pull_at = excluded.last_pull_at", (name, last[-1], last[key]))
            res.rows += kept
            self._report(progress, name, len(rows))
        res.seconds = time.perf_counter() - started
        if res.rows:
            log.info("pulled %d rows of %s in %.0f ms", res.rows, name, res.seconds * 1000)
        return res

    def _batches(self, name: str, cursor: tuple[int, str], parishes: list[str] | None) -> Iterator[list[tuple]]:
        key = sync_columns(name).index("id")
        while True:
            rows = self.central.fetch(name, cursor, self.batch, parishes)
            if rows:
                yield rows
            if len(rows) < self.batch:
                return
            cursor = (rows[-1][-1], rows[-1][key])

    def _prefetched(self, name: str, cursor: tuple[int, str], parishes: list[str] | None) -> Iterator[list[tuple]]:
        """The same batches, the next one fetched on a helper thread while this one is written:
        network and parsing overlap with SQLite. Only for first pulls, where nothing else uses the
        central connection meanwhile. A consumer that stops early (cancel, error) stops the helper."""
        pipe: queue.Queue[Any] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def produce() -> None:
            try:
                for rows in self._batches(name, cursor, parishes):
                    while not stop.is_set():
                        try:
                            pipe.put(rows, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                pipe.put(_DONE)
            except BaseException as exc:  # handed to the consumer, raised there
                pipe.put(exc)

        helper = threading.Thread(target=produce, name=f"prefetch-{name}", daemon=True)
        helper.start()
        try:
            while True:
                item = pipe.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while helper.is_alive():  # drain so the helper can finish its put and see stop
                with contextlib.suppress(queue.Empty):
                    pipe.get(timeout=0.1)
            helper.join()

    def _apply(self, conn: sqlite3.Connection, name: str, cols: list[str], sql: str, rows: list[tuple],
               first: bool) -> int:
        arrived: list[str] = []
        key = cols.index("id")
        if name == "customer" and self.parishes:
            parish = cols.index("parish")
            leaving = [r[key] for r in rows if r[parish] not in self.parishes]
            rows = [r for r in rows if r[parish] in self.parishes]
            if leaving:
                self._forget_customers(conn, leaving)
            if not first and rows:
                marks = ",".join("?" * len(rows))
                ids = [r[key] for r in rows]
                known = {r[0] for r in conn.execute(f"SELECT id FROM customer WHERE id IN ({marks})", ids)}
                arrived = [i for i in ids if i not in known]
        conn.executemany(sql, rows)
        if name == "erasure":  # tombstones: the person's rows go from this cache too
            for row in rows:
                erasure.apply(conn, erasure.Tombstone.from_row(dict(zip(cols, row, strict=True))))
                self._erasures += 1
        if name == "customer" and arrived:
            self._backfill(conn, arrived)  # their older rows are below every watermark
        if name in ("customer", "lead") and not first:
            self._touched.update(self._affected_customers(name, cols, rows))
        if not first:
            ids = self._affected_customers(name, cols, rows)
            if name in ("customer", "contact_point"):
                search_index.index_customers(conn, ids)
            if name in _SUMMARY_SOURCES or name == "customer":
                refresh_summaries(conn, ids)
            if name == "customer":
                refresh_geo(conn, ids)
            if name in _RANK_SOURCES:
                refresh_lead_ranks_for_customers(conn, ids)
        return len(rows)

    @staticmethod
    def _affected_customers(name: str, cols: list[str], rows: list[tuple]) -> list[str]:
        if name == "customer":
            key = cols.index("id")
            return [r[key] for r in rows]
        if "customer_id" in cols:
            i = cols.index("customer_id")
            return list({r[i] for r in rows})
        return []

    def _backfill(self, conn: sqlite3.Connection, customer_ids: list[str]) -> None:
        for child in CUSTOMER_SCOPED:
            cols = sync_columns(child)
            rows = self.central.fetch(child, (0, ""), 1_000_000, None, customer_ids=customer_ids)
            if rows:
                conn.executemany(_upsert_sql(child, cols), [r[:-1] for r in rows])

    @staticmethod
    def _forget_customers(conn: sqlite3.Connection, customer_ids: list[str]) -> None:
        """Customers that left the territory: removed from this cache with what hangs off them."""
        marks = ",".join("?" * len(customer_ids))
        for child in CUSTOMER_SCOPED:
            conn.execute(f'DELETE FROM "{child}" WHERE customer_id IN ({marks})', customer_ids)
        conn.execute(f"DELETE FROM customer_summary WHERE customer_id IN ({marks})", customer_ids)
        conn.execute(f"DELETE FROM lead_rank WHERE customer_id IN ({marks})", customer_ids)
        conn.execute(f"DELETE FROM customer_geo WHERE key IN (SELECT search_key FROM customer WHERE id IN ({marks}))",
                     customer_ids)
        search_index.forget_customers(conn, customer_ids)
        conn.execute(f"DELETE FROM customer WHERE id IN ({marks})", customer_ids)
