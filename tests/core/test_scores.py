"""Scores are written on a thread of their own while the next rows are computed: every row lands
in one transaction, or none does and the previous scores stay."""

import json
import sqlite3

import pytest

from c360_desktop.core.analytics.scores import write_scores
from c360_desktop.core.progress import Cancelled
from c360_desktop.core.storage.cache import open_cache


def _customers(cache, n):
    return [r[0] for r in cache.reader().execute("SELECT id FROM customer ORDER BY id LIMIT ?", (n,))]


def _live(cache, model):
    return cache.reader().execute("SELECT customer_id, model_version, value, contributions, id FROM score "
                                  "WHERE model = ? AND deleted_at IS NULL ORDER BY id", (model,)).fetchall()


def test_chunks_land_in_one_transaction_with_time_ordered_ids_and_the_last_run_replaced(demo_cache):
    cache = open_cache(demo_cache)
    ids = _customers(cache, 249)
    write_scores(cache, "other", "other-1", "2026-12-01 00:00:00", iter([[(c, 0.1, "[]") for c in ids]]), 249)
    ids += ['odd "id" \\ with\na line']
    reasons = [json.dumps([{"feature": f'row {k}: "quoted" \\ café', "value": None, "contribution": -1.5}])
               for k in range(len(ids))]
    chunks = [[(c, k / 1000, reasons[k]) for k, c in enumerate(ids) if lo <= k < lo + 100] for lo in (0, 100, 200)]
    write_scores(cache, "test", "test-1", "2026-12-01 00:00:00", iter(chunks), len(ids))
    first = _live(cache, "test")
    assert [r[0] for r in first] == ids  # in the order given, every chunk, ids increasing
    assert len({r[4] for r in first}) == 250 and all(r[1] == "test-1" for r in first)
    assert [r[2] for r in first] == [k / 1000 for k in range(250)]
    assert [r[3] for r in first] == reasons  # the JSON text as given

    seen = []
    write_scores(cache, "test", "test-2", "2026-12-02 00:00:00", iter(chunks[:1]), 100,
                 then=lambda w: seen.append(w.execute("SELECT count(*) FROM score WHERE model = 'test' "
                                                      "AND deleted_at IS NULL").fetchone()[0]))
    assert seen == [100]  # ``then`` sees the new scores, in the same transaction
    assert [r[1] for r in _live(cache, "test")] == ["test-2"] * 100
    write_scores(cache, "test", "test-3", "2026-12-03 00:00:00", iter(chunks[:1]), 100)
    kept = cache.reader().execute("SELECT model_version, count(*) FROM score WHERE model = 'test' "
                                  "GROUP BY 1 ORDER BY 1").fetchall()
    assert kept == [("test-3", 100)]  # the live run replaced the one before: the table does not grow
    assert len(_live(cache, "other")) == 249  # another model's scores are untouched
    cache.close()
    again = sqlite3.connect(demo_cache)  # committed and in the file after the background checkpoint
    assert again.execute("SELECT count(*) FROM score WHERE model_version = 'test-3'").fetchone()[0] == 100
    again.close()


def test_a_rescore_rewrites_each_customers_row_adds_the_new_and_drops_the_unscored(demo_cache):
    cache = open_cache(demo_cache)
    ids = _customers(cache, 300)
    write_scores(cache, "test", "test-1", "2026-12-01 00:00:00", iter([[(c, 1.0, "[1]") for c in ids[:200]]]), 200)
    first = {r[0]: r[4] for r in _live(cache, "test")}
    with cache.writer() as w:  # an older cache's retired scores beside two customers' live ones
        w.executemany("INSERT INTO score (id, customer_id, model, model_version, value, scored_at, deleted_at) "
                      "VALUES (?, ?, 'test', 'test-0', 9.0, '2026-11-01', '2026-11-02')",
                      [("retired-1", ids[0]), ("retired-2", ids[150])])
    # customers 100-299: 100-199 scored before, 200-299 new; 0-99 no longer scored
    chunks = [[(c, 2.0 + k, f"[{k}]") for k, c in enumerate(ids) if lo <= k < lo + 50] for lo in range(100, 300, 50)]
    write_scores(cache, "test", "test-2", "2026-12-02 00:00:00", iter(chunks), 200)
    now = {r[0]: r for r in _live(cache, "test")}
    assert sorted(now) == sorted(ids[100:])
    assert all(now[c][1:4] == ("test-2", 2.0 + k, f"[{k}]") for k, c in enumerate(ids) if k >= 100)
    assert all(now[c][4] == first[c] for c in ids[100:200])  # rewritten in place: the same (live) row
    assert not {now[c][4] for c in ids[200:]} & set(first.values())  # the new customers' rows are new
    (rows,) = cache.reader().execute("SELECT count(*) FROM score WHERE model = 'test'").fetchone()
    assert rows == 200  # one row each: the unscored customers' rows and the second rows are gone
    assert cache.reader().execute("SELECT count(*) FROM score WHERE model = 'test' AND (row_version != 0 OR "
                                  "updated_at != '2026-12-02 00:00:00')").fetchone()[0] == 0
    cache.close()


def test_a_cancel_while_scoring_or_a_failed_write_leaves_the_previous_scores(demo_cache):
    cache = open_cache(demo_cache)
    ids = _customers(cache, 200)
    rows = [(c, 0.5, "[]") for c in ids]
    write_scores(cache, "test", "test-1", "2026-12-01 00:00:00", iter([rows]), len(rows))
    before = _live(cache, "test")

    def cancelled_midway():
        yield rows[:100]
        raise Cancelled("scoring cancelled: the previous test scores stay")

    with pytest.raises(Cancelled, match="previous test scores stay"):
        write_scores(cache, "test", "test-2", "2026-12-02 00:00:00", cancelled_midway(), len(rows))
    assert _live(cache, "test") == before

    def broken(w):
        raise sqlite3.IntegrityError("the registry record could not be written")

    with pytest.raises(sqlite3.IntegrityError, match="registry record"):
        write_scores(cache, "test", "test-2", "2026-12-02 00:00:00", iter([rows[:100], rows[100:]]), len(rows),
                     then=broken)
    assert _live(cache, "test") == before
    bad = [(c, 0.5, "[]") for c in ids[:10]] + [(None, 0.5, "[]")]  # customer_id is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        write_scores(cache, "test", "test-2", "2026-12-02 00:00:00", iter([bad] + [rows] * 50), len(rows) * 51)
    assert _live(cache, "test") == before
    with cache.writer() as w:  # and the cache takes the next write
        w.execute("DELETE FROM score WHERE model = 'test'")
    cache.close()
