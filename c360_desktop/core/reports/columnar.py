"""The reports' columnar copy: the tables reports read, in a DuckDB file beside the cache.

SQLite reads a row at a time: a report over a million customers' eleven million sales lines
takes seconds there. DuckDB scans columns, in parallel, skipping what a date range excludes, so
the same report SQL (the semantic layer's, in DuckDB's dialect) answers in milliseconds. The copy
holds only what reports need, not names, phones or e-mails.

Kept in step by the cache itself: triggers (migration 0014) log every changed row's id in
``report_change`` in the writer's own transaction, and ``refresh`` copies those rows again in one
DuckDB transaction that also records the last change applied. A crash at any point leaves either
the old or the new state, and the log says what is still to do. A copy that is missing, from
another cache, or unreadable is built again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from c360_desktop.core.private import create_private
from c360_desktop.core.progress import Progress
from c360_desktop.core.reports.semantic import ON_SALE_ROW

log = logging.getLogger(__name__)

# 3: the models' scores (for the clv measure); 4: each sale carries its customer's attributes;
# 5: each customer's first purchase (first_purchase, for new_customers); 6: each sale a hash of its id
FORMAT = "6"
FIRST_PURCHASE = ('SELECT ck, MIN(day) AS first_at FROM "transaction" WHERE deleted_at IS NULL AND ck IS NOT NULL'
                  "{only} GROUP BY ck")
BATCH = 200_000
FULL_COPY_OVER = 50_000  # more changed rows of a table than this: copy the table whole

# table -> columns copied (text times stay ISO text: the semantic layer's bucket SQL reads them)
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "kind", "town", "parish", "segment_id", "rep_id", "status", "created_at", "deleted_at"),
    "transaction": ("id", "customer_id", "occurred_at", "product_id", "quantity", "amount_cents", "total_cents",
                    "channel", "rep_id", "campaign_id", "deleted_at"),
    "lead": ("id", "customer_id", "rep_id", "status", "source", "estimated_value_cents", "created_at",
             "campaign_id", "deleted_at"),
    "campaign_spend": ("id", "campaign_id", "spend_date", "channel", "amount_cents", "deleted_at"),
    "product": ("id", "sku", "name", "category", "deleted_at"),
    "sales_rep": ("id", "name", "territory_id", "deleted_at"),
    "territory": ("id", "code", "name", "deleted_at"),
    "segment": ("id", "name", "deleted_at"),
    "marketing_campaign": ("id", "name", "channel", "start_date", "end_date", "budget_cents", "deleted_at"),
    "score": ("id", "customer_id", "model", "value", "deleted_at"),
}
ORDER = {"transaction": "occurred_at", "lead": "created_at", "campaign_spend": "spend_date"}
INTEGER = {"quantity", "amount_cents", "total_cents", "estimated_value_cents", "budget_cents"}
FLOAT = {"value"}
# Columns the copy adds: each customer's integer key (ck, from customer_key: counting and joining
# on integers) and each dated row's DATE (day), computed as rows are copied.
DERIVED: dict[str, tuple[tuple[str, str, str], ...]] = {  # table -> (column, type, SQL over the batch b)
    "customer": (("ck", "BIGINT", "k.key"),),
    "transaction": (("day", "DATE", "CAST(substr(b.occurred_at, 1, 10) AS DATE)"), ("ck", "BIGINT", "k.key"),
                    # the customer's, as of the copy (semantic.on_row): kept in step by refresh
                    *((f"c_{c}", "VARCHAR", f"cu.{c}") for c in ON_SALE_ROW),
                    # finds a changed sale's row in one scan of integers, not of text ids (refresh)
                    ("hid", "UBIGINT", "hash(b.id)")),
    "lead": (("day", "DATE", "CAST(substr(b.created_at, 1, 10) AS DATE)"), ("ck", "BIGINT", "k.key")),
    "campaign_spend": (("day", "DATE", "CAST(substr(b.spend_date, 1, 10) AS DATE)"),),
    "score": (("ck", "BIGINT", "k.key"),),
}
KEYED = {"customer": "id", "transaction": "customer_id", "lead": "customer_id", "score": "customer_id"}
ON_CUSTOMER = {"transaction"}  # tables whose rows carry customer columns (cu: the copy's customer)


def _temp_table(db: Any, name: str, column: str, values: Sequence[Any], text: bool = False) -> None:
    """A temporary one-column table of ``values``, integers (or ``text``), through Arrow
    (DuckDB's executemany takes about a millisecond a row)."""
    import pyarrow as pa

    db.register(f"{name}_values", pa.table({column: pa.array(list(values), type=pa.string() if text else pa.int64())}))
    try:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_values")
    finally:
        db.unregister(f"{name}_values")


class CopyUnavailable(Exception):
    """The columnar copy cannot be used (DuckDB missing, or the file is held by another program)."""


def copy_path(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.name + ".reports.duckdb")


def _ddl(table: str) -> str:
    cols = [f'"{c}" {"BIGINT" if c in INTEGER else "DOUBLE" if c in FLOAT else "VARCHAR"}' for c in COLUMNS[table]]
    cols += [f'"{name}" {kind}' for name, kind, _sql in DERIVED.get(table, ())]
    return f'CREATE TABLE "{table}" ({", ".join(cols)})'


def _select(table: str, where: str = "") -> str:
    return f'SELECT {", ".join(chr(34) + c + chr(34) for c in COLUMNS[table])} FROM "{table}"{where}'


_BUILDS: dict[str, threading.Lock] = {}  # one per copy file: two services on one cache build it once
_BUILDS_LOCK = threading.Lock()


def _build_lock(path: Path) -> threading.Lock:
    with _BUILDS_LOCK:
        return _BUILDS.setdefault(str(path.resolve()), threading.Lock())


def _remove_with_log(path: Path) -> None:
    for leftover in (path, Path(str(path) + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _settings(db: Any, memory: str) -> Any:
    """A DuckDB connection limited to ``memory``, at most 4 threads, order not kept."""
    db.execute(f"SET memory_limit = '{memory}'")
    db.execute(f"SET threads = {max(1, min(4, os.cpu_count() or 1))}")
    db.execute("SET preserve_insertion_order = false")
    return db


_OPEN: weakref.WeakSet[ColumnarCopy] = weakref.WeakSet()  # for discard()


def discard(cache_path: Path) -> None:
    """Close every open copy of this cache in this process and delete its file, so the next
    report builds it again from the cache as it is now (after an erasure: the copy holds
    erased rows, in its blocks if not in its tables)."""
    path = copy_path(Path(cache_path))
    for copy in list(_OPEN):
        if copy.path == path:
            copy.close()
    with _build_lock(path):
        try:
            _remove_with_log(path)
        except OSError:  # held by another program (Windows): it is stale now and is rebuilt
            log.warning("could not remove %s; it will be built again before its next use", path, exc_info=True)


class ColumnarCopy:
    """One cache's columnar copy; thread-safe (a DuckDB cursor per thread, refreshes serialised)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache
        self.path = copy_path(Path(cache.path))
        self._db: Any = None
        self._lock = threading.Lock()  # the connection itself: building, refreshing, closing
        self._reading = threading.Condition()  # the cursors reading now (close waits for them)
        self._cursors: set[Any] = set()
        _OPEN.add(self)

    # ---- opening and building ---------------------------------------------------------------

    def _open(self) -> Any:
        try:
            import duckdb
        except ImportError as exc:
            raise CopyUnavailable("DuckDB is not installed") from exc
        try:
            db = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():  # held by another process (the app, while the CLI runs)
                raise CopyUnavailable(f"{self.path} is in use by another program") from exc
            raise  # damaged: built again
        return _settings(db, "300MB")

    def _state(self, db: Any) -> dict[str, str]:
        try:
            return dict(db.execute("SELECT key, value FROM copy_state").fetchall())
        except Exception:  # noqa: BLE001 - a file without the table (half-built, foreign) is rebuilt
            return {}

    def ready(self, progress: Progress | None = None) -> None:
        """Open the copy, building it if it is missing or not this cache's, and bring it up to date."""
        with self._lock:
            if self._db is None:
                with _build_lock(self.path):
                    self._db = self._open_or_build(progress)
            self._refresh_locked()

    def _identity(self) -> str:
        row = self._cache.reader().execute("SELECT value FROM cache_meta WHERE key = 'reports_copy'").fetchone()
        return row[0] if row else ""

    def _open_or_build(self, progress: Progress | None) -> Any:
        if getattr(self._cache, "encrypted", False):
            return self._build_in_memory(progress)
        if self.path.exists():
            try:
                db = self._open()
            except CopyUnavailable:
                raise
            except Exception:  # noqa: BLE001 - unreadable file: built again below
                log.warning("reports copy %s unreadable; building it again", self.path, exc_info=True)
            else:
                state = self._state(db)
                if state.get("format") == FORMAT and state.get("identity") and state["identity"] == self._identity():
                    return db
                db.close()
        return self._build(progress)

    def _build(self, progress: Progress | None) -> Any:
        import uuid

        progress = progress or Progress()
        tmp = self.path.with_name(self.path.name + ".building")
        _remove_with_log(tmp)  # a build that died in another run (its log would replay into this one)
        identity = uuid.uuid4().hex
        # Logging starts before the snapshot is read: every change after the snapshot is in the log.
        with self._cache.writer() as w:
            w.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('reports_copy', ?)", (identity,))
        import duckdb

        create_private(tmp)
        tmp.unlink()  # DuckDB makes its own file; the folder's mode keeps it private
        db = duckdb.connect(str(tmp))
        try:
            self._fill(db, progress, identity)
        except BaseException:  # cancelled or failed: nothing half-built is left for the next build
            db.close()
            _remove_with_log(tmp)
            raise
        db.close()
        with contextlib.suppress(FileNotFoundError):  # an old copy's log must not replay into the new one
            Path(str(self.path) + ".wal").unlink()
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        return self._open()

    def _build_in_memory(self, progress: Progress | None) -> Any:
        """An encrypted cache's copy lives in memory only, built once per session: DuckDB writes
        encrypted files only with an extension it downloads, and a plain file beside an
        encrypted cache would hand its contents to anyone who copies the folder."""
        import uuid

        import duckdb

        _remove_with_log(self.path)  # a plain copy from before the cache was encrypted
        identity = uuid.uuid4().hex
        with self._cache.writer() as w:
            w.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('reports_copy', ?)", (identity,))
        db = _settings(duckdb.connect(":memory:"), "600MB")  # the copy itself lives in this memory
        self._fill(db, progress or Progress(), identity)
        return db

    def _fill(self, db: Any, progress: Progress, identity: str) -> None:
        """Copy every table into the new file ``db`` from one snapshot, with the change log's mark."""
        src = self._cache.connect(readonly=True)
        try:
            src.execute("BEGIN")  # one snapshot for every table and the log's mark
            (mark,) = src.execute("SELECT COALESCE(MAX(seq), 0) FROM report_change").fetchone()
            totals = {t: src.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COLUMNS}
            done, whole = 0, max(1, sum(totals.values()))
            db.execute("CREATE TABLE customer_key (id VARCHAR PRIMARY KEY, key BIGINT)")
            for table in COLUMNS:
                db.execute(_ddl(table))
                order = f' ORDER BY "{ORDER[table]}"' if table in ORDER else ""
                cur = src.execute(_select(table) + order)
                while rows := cur.fetchmany(BATCH):
                    self._append(db, table, rows)
                    done += len(rows)
                    progress.update(done / whole, f"Preparing reports: {table} ({done:,} of {whole:,} rows)")
            src.execute("COMMIT")
        finally:
            src.close()
        db.execute(f"CREATE TABLE first_purchase AS {FIRST_PURCHASE.format(only='')}")
        db.execute("CREATE TABLE copy_state (key VARCHAR PRIMARY KEY, value VARCHAR)")
        db.executemany("INSERT INTO copy_state VALUES (?, ?)",
                       [("format", FORMAT), ("identity", identity), ("mark", str(mark))])
        db.execute("CHECKPOINT")

    @staticmethod
    def _append(db: Any, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        import pyarrow as pa

        cols = COLUMNS[table]
        data = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
        batch = pa.table({c: pa.array(list(v), type=pa.int64() if c in INTEGER else pa.float64() if c in FLOAT
                                      else pa.string())
                          for c, v in zip(cols, data, strict=True)})
        db.register("batch_rows", batch)
        try:
            keyed = KEYED.get(table)
            if keyed:  # customers new to the copy get the next keys
                db.execute(f'INSERT INTO customer_key SELECT id, (SELECT COALESCE(MAX(key), 0) FROM customer_key) '
                           f'+ row_number() OVER () FROM (SELECT DISTINCT "{keyed}" AS id FROM batch_rows '
                           f'WHERE "{keyed}" IS NOT NULL AND "{keyed}" NOT IN (SELECT id FROM customer_key))')
            extra = "".join(f", {sql}" for _n, _k, sql in DERIVED.get(table, ()))
            join = f' LEFT JOIN customer_key k ON k.id = b."{keyed}"' if keyed else ""
            if table in ON_CUSTOMER:
                join += " LEFT JOIN customer cu ON cu.ck = k.key"
            db.execute(f'INSERT INTO "{table}" SELECT b.*{extra} FROM batch_rows b{join}')
        finally:
            db.unregister("batch_rows")

    # ---- keeping in step --------------------------------------------------------------------

    def refresh(self) -> int:
        """Apply the cache's logged changes; how many rows were copied again."""
        with self._lock:
            if self._db is None:
                self._db = self._open_or_build(None)
            return self._refresh_locked()

    def _refresh_locked(self) -> int:
        db = self._db
        mark = int(self._state(db).get("mark", "0"))
        src = self._cache.reader()
        changes = src.execute("SELECT seq, tbl, row_id FROM report_change WHERE seq > ? ORDER BY seq",
                              (mark,)).fetchall()
        if not changes:
            return 0
        new_mark = changes[-1][0]
        by_table: dict[str, set[str]] = {}
        for _seq, table, row_id in changes:
            by_table.setdefault(table, set()).add(row_id)
        copied = 0
        db.execute("BEGIN TRANSACTION")
        try:
            for table in COLUMNS:  # customers first: the sales copied after them carry their attributes
                ids = by_table.get(table)
                if not ids:
                    continue
                if len(ids) > FULL_COPY_OVER:
                    db.execute(f'DELETE FROM "{table}"')
                    cur = src.execute(_select(table))
                    while rows := cur.fetchmany(BATCH):
                        self._append(db, table, rows)
                        copied += len(rows)
                    if table == "customer":
                        self._carry_customers(db, None)
                    if table == "transaction":
                        db.execute("DELETE FROM first_purchase")
                        db.execute(f"INSERT INTO first_purchase {FIRST_PURCHASE.format(only='')}")
                    continue
                id_list = sorted(ids)
                # the changed rows go in one scan of the table, not one per chunk of ids
                _temp_table(db, "changed_ids", "id", id_list, text=True)
                gone = self._delete_sales(db, set(id_list)) if table == "transaction" else None
                if gone is None:
                    db.execute(f'DELETE FROM "{table}" WHERE id IN (SELECT id FROM changed_ids)')
                rows = []
                for i in range(0, len(id_list), 900):
                    chunk = id_list[i:i + 900]
                    marks = ", ".join("?" * len(chunk))
                    rows += src.execute(_select(table, f" WHERE id IN ({marks})"), chunk).fetchall()
                if rows:  # one append: its joins (keys, customers) are built once
                    self._append(db, table, rows)
                    copied += len(rows)
                if table == "customer":
                    self._carry_customers(db, "changed_ids")
                if gone is not None:  # the first purchase of every customer these sales were or are of
                    self._first_purchases(db, gone,
                                          {r[COLUMNS[table].index("customer_id")] for r in rows})
                db.execute("DROP TABLE changed_ids")
            db.execute("UPDATE copy_state SET value = ? WHERE key = 'mark'", (str(new_mark),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        # Applied: the log up to the mark is no longer needed (if this is lost, applying again is harmless).
        with self._cache.writer() as w:
            w.execute("DELETE FROM report_change WHERE seq <= ?", (new_mark,))
        return copied

    @staticmethod
    def _delete_sales(db: Any, ids: set[str]) -> set[int]:
        """Delete the sales rows with these ids (in the temporary table changed_ids); the keys of
        the customers they were of. Found by the hash of the id (a scan of integers: 60 ms on
        11M rows, against 400 ms for the text ids), checked against the ids, deleted by row."""
        found = db.execute('SELECT rowid, ck, id FROM "transaction" WHERE hid IN '
                           "(SELECT hash(id) FROM changed_ids)").fetchall()
        found = [(row, ck) for row, ck, i in found if i in ids]  # a hash shared by another id stays
        _temp_table(db, "gone_rows", "r", [row for row, _ck in found])
        db.execute('DELETE FROM "transaction" WHERE rowid IN (SELECT r FROM gone_rows)')
        db.execute("DROP TABLE gone_rows")
        return {int(ck) for _row, ck in found if ck is not None}

    @staticmethod
    def _first_purchases(db: Any, old_keys: set[int], customer_ids: set[str]) -> None:
        """Each named customer's first purchase again (their sales changed)."""
        keys = set(old_keys)
        _temp_table(db, "touched_ids", "id", sorted(i for i in customer_ids if i), text=True)
        keys |= {k for (k,) in db.execute("SELECT k.key FROM customer_key k JOIN touched_ids t ON t.id = k.id").fetchall()}
        db.execute("DROP TABLE touched_ids")
        if not keys:
            return
        _temp_table(db, "touched", "ck", sorted(keys))
        db.execute("DELETE FROM first_purchase WHERE ck IN (SELECT ck FROM touched)")
        db.execute(f"INSERT INTO first_purchase {FIRST_PURCHASE.format(only=' AND ck IN (SELECT ck FROM touched)')}")
        db.execute("DROP TABLE touched")

    @staticmethod
    def _carry_customers(db: Any, changed: str | None) -> None:
        """The changed customers' (``changed``: a table of their ids; None: every customer)
        parish, town, kind and segment onto their sales rows."""
        sets = ", ".join(f"c_{c} = cu.{c}" for c in ON_SALE_ROW)
        only = f" AND cu.id IN (SELECT id FROM {changed})" if changed else ""
        for table in ON_CUSTOMER:
            db.execute(f'UPDATE "{table}" SET {sets} FROM customer cu WHERE cu.ck = "{table}".ck{only}')

    # ---- reading ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A DuckDB cursor for this thread (the copy must be ready)."""
        with self._lock:  # the connection refuses a new cursor while it runs a refresh (another thread)
            if self._db is None:
                raise CopyUnavailable("the reports copy is not open")
            cur = self._db.cursor()
        with self._reading:
            self._cursors.add(cur)
        try:
            yield cur
        finally:
            with self._reading:
                self._cursors.discard(cur)
                cur.close()
                self._reading.notify_all()

    def close(self, wait_s: float = 10.0) -> None:
        """Close the copy: reports still reading (another cache opened, the app closing) are
        interrupted and fail as cancelled; the connection closes once they have let go."""
        with self._lock:
            if self._db is None:
                return
            with self._reading:
                for cur in list(self._cursors):
                    with contextlib.suppress(Exception):  # one that has just finished
                        cur.interrupt()
                if not self._reading.wait_for(lambda: not self._cursors, timeout=wait_s):
                    log.warning("reports copy closed with %d reads still running", len(self._cursors))
            self._db.close()
            self._db = None
