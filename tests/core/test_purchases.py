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


def test_before_counts_each_customers_purchases_on_the_days_before_a_day(demo_cache):
    """As SQLite counts them: purchase days before the given day (none from that day on), their
    spend, the first and last of them, and how many fall in the year before."""
    cache = open_cache(demo_cache)
    conn = cache.reader()
    log = PurchaseLog.read(conn)
    pairs = conn.execute("SELECT customer_id, date(created_at) FROM lead WHERE deleted_at IS NULL").fetchall()
    buyer = log.customers[0]
    first_day = str(day_date(log.day[log.starts[0]]))
    pairs += [("no-such-customer", "2025-06-01"),  # the log does not hold them: nothing before
              (buyer, first_day),  # their first purchase day itself: nothing before it
              (buyer, str(day_date(log.newest_day() + 40)))]  # past the newest day: all of theirs
    history, in_year = log.before(np.array([c for c, _ in pairs], dtype=object),
                                  np.array([day_number(date.fromisoformat(d)) for _, d in pairs]))
    assert len(pairs) > 100 and (history.days > 0).sum() > 50
    for k, (cid, day) in enumerate(pairs):
        days, spend, first, last, year = conn.execute(
            'SELECT count(DISTINCT date(occurred_at)), coalesce(sum(total_cents), 0) / 100.0, min(date(occurred_at)), '
            'max(date(occurred_at)), count(DISTINCT CASE WHEN date(occurred_at) >= date(?, \'-365 days\') '
            'THEN date(occurred_at) END) FROM "transaction" WHERE deleted_at IS NULL AND customer_id = ? '
            "AND date(occurred_at) < ?", (day, cid, day)).fetchone()
        assert (history.days[k], in_year[k]) == (days, year), (cid, day)
        assert abs(history.spend[k] - spend) < 0.005
        assert (history.first[k], history.last[k]) == ((day_number(date.fromisoformat(first)),
                                                         day_number(date.fromisoformat(last))) if days else (-1, -1))
    assert history.days[-3] == 0 and history.days[-2] == 0
    assert history.days[-1] == log.starts[1] - log.starts[0]
    again, again_year = log.before(np.array([c for c, _ in pairs], dtype=object),  # from what the first call kept
                                   np.array([day_number(date.fromisoformat(d)) for _, d in pairs]))
    assert (again.days == history.days).all() and (again.spend == history.spend).all()
    assert (again.first == history.first).all() and (again_year == in_year).all()
    nobody, nobody_year = log.before(np.array(["nobody", "no one"], dtype=object), np.array([20_000, 20_500]))
    assert nobody.days.tolist() == [0, 0] and nobody.first.tolist() == [-1, -1] and nobody_year.tolist() == [0, 0]
    cache.close()
