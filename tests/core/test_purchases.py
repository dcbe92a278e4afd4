"""The purchase log every model of a training run shares: the same days and amounts SQLite's own
date() gives, and the same features as asking SQLite for each aggregate."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.purchases import PurchaseLog, day_date, day_number
from c360_desktop.core.storage.cache import open_cache


def test_the_log_has_sqlites_calendar_days_and_day_totals(demo_cache):
    cache = open_cache(demo_cache)
    someone = cache.reader().execute("SELECT id FROM customer WHERE deleted_at IS NULL LIMIT 1").fetchone()[0]
    with cache.writer() as w:  # either side of midnight, and a deleted purchase that must not count
        for k, (stamp, deleted) in enumerate([("2031-03-01 23:59:59", None), ("2031-03-02 00:00:00", None),
                                              ("2031-03-02 13:30:00", None), ("2031-03-03 10:00:00", "2031-03-04")]):
            w.execute('INSERT INTO "transaction" (id, row_version, customer_id, product_id, occurred_at, quantity, '
                      "amount_cents, gct_cents, total_cents, channel, deleted_at) SELECT ?, 0, ?, id, ?, 1, 1000, 150, "
                      "1150, 'store', ? FROM product LIMIT 1", (f"edge-{k}", someone, stamp, deleted))
    conn = cache.reader()
    log = PurchaseLog.read(conn)
    expected = pd.DataFrame(conn.execute(
        'SELECT customer_id, date(occurred_at), sum(total_cents) FROM "transaction" WHERE deleted_at IS NULL '
        "GROUP BY 1, 2 ORDER BY 1, 2").fetchall(), columns=["customer", "day", "cents"])
    assert len(log.code) == len(expected)
    assert log.customers[log.code].tolist() == expected.customer.tolist()
    assert [str(day_date(d)) for d in log.day] == expected.day.tolist()
    assert log.cents.tolist() == expected.cents.tolist()
    rows = slice(log.starts[np.searchsorted(log.customers, someone)],
                 log.starts[np.searchsorted(log.customers, someone) + 1])
    tail = list(zip([str(day_date(d)) for d in log.day[rows]][-2:], log.cents[rows][-2:].tolist(), strict=True))
    assert tail == [("2031-03-01", 1150), ("2031-03-02", 2300)]  # the deleted one is not there
    cache.close()


def test_windows_count_days_spend_and_first_and_last_days(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    log = PurchaseLog.read(conn)
    lo, hi = date(2025, 1, 1), date(2025, 7, 1)
    w = log.window(day_number(lo), day_number(hi))
    rows = conn.execute(
        'SELECT customer_id, count(DISTINCT date(occurred_at)), sum(total_cents) / 100.0, min(date(occurred_at)), '
        'max(date(occurred_at)) FROM "transaction" WHERE deleted_at IS NULL AND occurred_at >= ? AND occurred_at < ? '
        "GROUP BY 1", (f"{lo} 00:00:00", f"{hi} 00:00:00")).fetchall()
    code = {c: k for k, c in enumerate(log.customers)}
    assert len(rows) == int((w.days > 0).sum()) > 100
    for cid, days, spend, first, last in rows:
        k = code[cid]
        assert (w.days[k], str(day_date(w.first[k])), str(day_date(w.last[k]))) == (days, first, last)
        assert abs(w.spend[k] - spend) < 0.005
    nobody = w.days == 0
    assert (w.first[nobody] == -1).all() and (w.last[nobody] == -1).all()
    bought = log.bought_between(day_number(lo), day_number(hi))
    assert bought.sum() == len(rows)
    cache.close()
