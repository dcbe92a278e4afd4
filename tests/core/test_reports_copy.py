"""The reports' columnar copy stays in step with the cache, through any writer and any crash."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date

import pytest

from c360_desktop.core.reports.columnar import ColumnarCopy, copy_path
from c360_desktop.core.reports.query import ReportQuery, run_query
from c360_desktop.core.storage.cache import open_cache

Q = ReportQuery(("revenue", "orders", "customers"), ("parish",), date(2026, 1, 1), date(2026, 12, 31))


NEW = ReportQuery(("new_customers",), ("month",), date(2025, 1, 1), date(2026, 12, 31))


def _both(cache, copy, q=Q):
    with copy.cursor() as cur:
        columnar = run_query(cur, q, "duckdb").frame
    return columnar, run_query(cache.reader(), q).frame


def _change(cache):
    """An import-like insert, a customer moving parish and a deleted sale, through the cache."""
    w_conn = cache.reader()
    tx = w_conn.execute('SELECT * FROM "transaction" WHERE occurred_at >= \'2026-03-01\' LIMIT 1').fetchone()
    cols = [d[0] for d in w_conn.execute('SELECT * FROM "transaction" LIMIT 0').description]
    row = dict(zip(cols, tx, strict=True))
    row.update(id="new-sale-1", amount_cents=123_456_700, occurred_at="2026-04-02 10:00:00")
    mover = w_conn.execute("SELECT customer_id FROM \"transaction\" WHERE occurred_at >= '2026-05-01' "
                           "AND customer_id IN (SELECT id FROM customer WHERE parish = 'JM-01') LIMIT 1").fetchone()[0]
    gone = w_conn.execute("SELECT id FROM \"transaction\" WHERE occurred_at >= '2026-06-01' LIMIT 1").fetchone()[0]
    # a customer who first bought in mid-2026 is found to have bought in January 2025 (their new
    # month moves), and another's first purchase is deleted (theirs moves later)
    late = w_conn.execute('SELECT customer_id FROM "transaction" WHERE deleted_at IS NULL GROUP BY customer_id '
                          "HAVING min(occurred_at) >= '2026-05-01' ORDER BY customer_id LIMIT 1").fetchone()[0]
    first = w_conn.execute('SELECT id FROM "transaction" t WHERE deleted_at IS NULL AND occurred_at = (SELECT '
                           'min(occurred_at) FROM "transaction" WHERE customer_id = t.customer_id) AND '
                           "occurred_at >= '2025-03-01' AND customer_id IN (SELECT customer_id FROM \"transaction\" "
                           "GROUP BY customer_id HAVING count(*) > 3) ORDER BY id LIMIT 1").fetchone()[0]
    early = dict(row, id="new-sale-2", customer_id=late, occurred_at="2025-01-15 09:00:00")
    with cache.writer() as w:
        for r in (row, early):
            w.execute(f'INSERT INTO "transaction" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                      list(r.values()))
        w.execute("UPDATE customer SET parish = 'JM-13' WHERE id = ?", (mover,))
        w.execute("UPDATE \"transaction\" SET deleted_at = '2026-12-01 00:00:00' WHERE id IN (?, ?)", (gone, first))


def test_changes_by_any_writer_reach_the_copy_on_refresh(demo_cache):
    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    before_columnar, before_sqlite = _both(cache, copy)
    assert before_columnar.equals(before_sqlite)
    _change(cache)
    new_before = _both(cache, copy, NEW)[0]
    stale, fresh = _both(cache, copy)
    assert not stale.equals(fresh)  # the change is not in the copy until it is refreshed
    assert copy.refresh() == 5
    after_columnar, after_sqlite = _both(cache, copy)
    assert after_columnar.equals(after_sqlite)
    new_columnar, new_sqlite = _both(cache, copy, NEW)
    assert new_columnar.equals(new_sqlite) and not new_columnar.equals(new_before)  # first purchases moved
    assert not after_sqlite.equals(before_sqlite)
    assert cache.reader().execute("SELECT count(*) FROM report_change").fetchone()[0] == 0  # applied, cleared
    assert copy.refresh() == 0
    copy.close()
    cache.close()


def test_a_refresh_that_fails_half_way_leaves_the_copy_as_it_was_and_resumes(demo_cache, monkeypatch):
    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    _change(cache)
    calls = {"n": 0}
    original = ColumnarCopy._append

    def dies_on_second(db, table, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        original(db, table, rows)

    stale, _ = _both(cache, copy)
    monkeypatch.setattr(ColumnarCopy, "_append", staticmethod(dies_on_second))
    with pytest.raises(OSError, match="disk full"):
        copy.refresh()
    unchanged, _ = _both(cache, copy)
    assert unchanged.equals(stale)  # nothing half-applied
    monkeypatch.setattr(ColumnarCopy, "_append", staticmethod(original))
    assert copy.refresh() == 5
    for q in (Q, NEW):
        columnar, sqlite_ = _both(cache, copy, q)
        assert columnar.equals(sqlite_)
    copy.close()
    # Closed and opened again (the app's next start): still in step, nothing rebuilt.
    built = copy_path(demo_cache).stat().st_mtime_ns
    again = ColumnarCopy(cache)
    again.ready()
    assert copy_path(demo_cache).stat().st_mtime_ns == built
    assert _both(cache, again, NEW)[0].equals(sqlite_)
    again.close()
    cache.close()


def test_a_copy_from_another_cache_or_a_damaged_one_is_built_again(demo_cache, tmp_path):
    other = tmp_path / "other.db"
    shutil.copyfile(demo_cache, other)
    a = open_cache(demo_cache)
    ca = ColumnarCopy(a)
    ca.ready()
    ca.close()
    b = open_cache(other)
    with b.writer() as w:  # b differs from a
        w.execute("UPDATE \"transaction\" SET amount_cents = amount_cents * 2 WHERE occurred_at >= '2026-01-01'")
    shutil.copyfile(copy_path(demo_cache), copy_path(other))  # a's copy beside b
    cb = ColumnarCopy(b)
    cb.ready()
    columnar, sqlite_ = _both(b, cb)
    assert columnar.equals(sqlite_)
    cb.close()
    copy_path(other).write_bytes(b"garbage" * 100)
    cb = ColumnarCopy(b)
    cb.ready()
    assert _both(b, cb)[0].equals(sqlite_)
    cb.close()
    a.close()
    b.close()


def test_the_copy_holds_no_names_phones_or_emails(demo_cache):
    import duckdb

    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    copy.close()
    db = duckdb.connect(str(copy_path(demo_cache)), read_only=True)
    columns = {c for (c,) in db.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    db.close()
    assert not columns & {"display_name", "given_name", "family_name", "primary_phone", "primary_email", "trn",
                          "date_of_birth", "street"}
    assert sqlite3.connect(demo_cache).execute("SELECT value FROM cache_meta WHERE key = 'reports_copy'").fetchone()
    cache.close()


def test_closing_the_copy_while_a_report_reads_interrupts_it(demo_cache):
    """Opening another cache closes this one's copy while a pane may still be reading from it:
    the read stops with an error in its own thread, and the close neither fails nor hangs."""
    import threading
    import time

    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    started, outcome = threading.Event(), []

    def read() -> None:
        try:
            with copy.cursor() as cur:
                started.set()
                # a slow read (seconds): a hash of every pair of two years' sales lines
                cur.execute('SELECT sum(hash(a.id || b.id)) FROM "transaction" a, "transaction" b '
                            "WHERE a.day > DATE '2025-01-01' AND b.day > DATE '2025-01-01'").fetchone()
            outcome.append("finished")
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            outcome.append(type(exc).__name__)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started.wait(10)
    time.sleep(0.2)
    t = time.perf_counter()
    copy.close()  # must not raise "connection is busy"
    reader.join(30)
    assert not reader.is_alive() and outcome and outcome[0] != "finished", outcome
    assert time.perf_counter() - t < 10
    with pytest.raises(Exception, match="not open"), copy.cursor():
        pass
    cache.close()



def test_a_build_cancelled_half_way_leaves_nothing_that_spoils_the_next(demo_cache):
    """The user opens Reports on a new cache, cancels while it is being prepared, then opens it again."""
    from c360_desktop.core.progress import Cancelled, Progress

    cache = open_cache(demo_cache)
    calls = []

    def cancel_after_a_while(_fraction, _message):
        calls.append(1)
        if len(calls) == 3:
            progress.cancel()

    progress = Progress(cancel_after_a_while)
    copy = ColumnarCopy(cache)
    with pytest.raises(Cancelled):
        copy.ready(progress)
    leftovers = sorted(p.name for p in copy_path(demo_cache).parent.glob(copy_path(demo_cache).name + "*"))
    assert leftovers == []
    again = ColumnarCopy(cache)
    again.ready()  # builds from scratch
    columnar, sqlite = _both(cache, again)
    assert columnar.equals(sqlite)
    again.close()
    copy.close()
    cache.close()


def test_two_services_preparing_one_cache_at_once_both_get_figures(demo_cache):
    """The dashboard and the first start's budget check prepare the same new cache together."""
    import threading

    from c360_desktop.core.reports.service import ReportService
    from c360_desktop.core.security import Role, User

    cache = open_cache(demo_cache)
    services = [ReportService(cache, lambda: User("ana", Role.ANALYST, ())) for _ in range(2)]
    start, errors = threading.Barrier(2), []

    def prepare(service):
        start.wait()
        try:
            assert service.prepare()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=prepare, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for service in services:
        service.close()
    again = ColumnarCopy(cache)
    again.ready()
    columnar, sqlite = _both(cache, again)
    assert columnar.equals(sqlite)
    again.close()
    cache.close()
