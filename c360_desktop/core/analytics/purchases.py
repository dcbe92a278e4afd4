"""The cache's purchases read once, as arrays, for every model of a training run.

Churn (three point-in-time snapshots and two sets of labels), lifetime value (two summaries),
segments and the monthly sales forecasts all look at the same ten million transactions of a large
cache. Each used to ask SQLite for its own aggregate, and SQLite parses every timestamp again each
time (14 s per churn snapshot on a million customers); read once into integer arrays, a snapshot
is a few vectorised passes. The read itself asks SQLite for one row per customer with their days
and amounts concatenated, which is half the cost of fetching ten million Python tuples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np

_EPOCH = date(1970, 1, 1)
# CAST(julianday(t) - 0.5 AS INTEGER) is the Julian day number of t's calendar date; 1970-01-01's is this
_EPOCH_JDN = 2440587
DAY_NUMBER_SQL = f"CAST(julianday(occurred_at) - 0.5 AS INTEGER) - {_EPOCH_JDN}"  # occurred_at's day_number


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def day_date(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


def joined_numbers(texts: Iterable[Any], dtype: type) -> np.ndarray:
    """The numbers of a ``group_concat`` column (one comma-separated text per SQL row) as one
    array: one parse of the joined text instead of a Python step per number."""
    text = ",".join(map(str, texts))
    return np.fromstring(text, dtype=dtype, sep=",") if text else np.zeros(0, dtype=dtype)


@dataclass(frozen=True)
class Window:
    """Each customer's purchase days in a window [lo, hi): how many, what they spent (JMD),
    the first and the last (day numbers, -1 where there was none)."""

    days: np.ndarray
    spend: np.ndarray
    first: np.ndarray
    last: np.ndarray


@dataclass(frozen=True)
class PurchaseLog:
    """One row per customer and day they bought, sorted by customer then day (purchases on one
    day count as one, as every model here counts them), with the day's total in cents."""

    customers: np.ndarray  # customer id of each code, in id order
    code: np.ndarray  # per row: the customer's code (index into customers)
    day: np.ndarray  # per row: days since 1970-01-01
    cents: np.ndarray  # per row: the day's spend, GCT included
    starts: np.ndarray  # each customer's first row; a customer's rows are starts[c]:starts[c + 1]
    # per customer, from the customer table: whether the cache holds them, whether they are live
    # (not retired by a merge or deleted), their parish and kind (None where not known)
    known: np.ndarray
    live: np.ndarray
    parish: np.ndarray
    kind: np.ndarray

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> PurchaseLog:
        """Every live transaction of the cache (those of retired customers too: each model says
        whom it keeps), and who each customer is."""
        rows = conn.execute(f"""
            SELECT customer_id, count(*),
                   group_concat({DAY_NUMBER_SQL}),
                   group_concat(total_cents)
            FROM "transaction" WHERE deleted_at IS NULL GROUP BY customer_id ORDER BY customer_id""").fetchall()
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            none = np.zeros(0, dtype=object)
            return cls(none, empty, empty, empty, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=bool),
                       np.zeros(0, dtype=bool), none, none)
        customers = np.array([r[0] for r in rows], dtype=object)
        counts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        days, cents = joined_numbers((r[2] for r in rows), np.int64), joined_numbers((r[3] for r in rows), np.int64)
        del rows
        codes = np.repeat(np.arange(len(customers), dtype=np.int64), counts)
        origin = int(days.min())
        span = int(days.max()) - origin + 1
        key, where = np.unique(codes * span + (days - origin), return_inverse=True)
        day_cents = np.bincount(where.ravel(), weights=cents.astype(np.float64), minlength=len(key))
        code = key // span
        starts = np.searchsorted(code, np.arange(len(customers) + 1))
        import pandas as pd

        who = pd.DataFrame(conn.execute("SELECT id, deleted_at IS NULL, parish, kind FROM customer").fetchall(),
                           columns=["id", "live", "parish", "kind"]).set_index("id").reindex(customers)
        known = who["live"].notna().to_numpy()
        return cls(customers, code, key % span + origin, np.rint(day_cents).astype(np.int64), starts, known,
                   who["live"].fillna(0).to_numpy().astype(bool),
                   who["parish"].astype(object).where(who["parish"].notna(), None).to_numpy(dtype=object),
                   who["kind"].astype(object).where(who["kind"].notna(), None).to_numpy(dtype=object))

    def __len__(self) -> int:
        return len(self.customers)

    @property
    def empty(self) -> bool:
        return len(self.code) == 0

    def window(self, lo: int | None, hi: int | None) -> Window:
        """Per customer, their purchase days from day ``lo`` (inclusive) to ``hi`` (exclusive);
        None leaves that side open."""
        inside = np.ones(len(self.day), dtype=bool)
        if lo is not None:
            inside &= self.day >= lo
        if hi is not None:
            inside &= self.day < hi
        n = len(self.customers)
        codes = self.code[inside]
        days = np.bincount(codes, minlength=n)
        spend = np.bincount(codes, weights=self.cents[inside], minlength=n) / 100.0
        last = np.full(n, -1, dtype=np.int64)
        first = np.full(n, -1, dtype=np.int64)
        if len(codes):
            # rows are sorted by customer then day: a customer's first and last rows in the window
            # are where the code changes
            boundary = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            picked_days = self.day[inside]
            first[codes[boundary]] = picked_days[boundary]
            ends = np.r_[boundary[1:] - 1, len(codes) - 1]
            last[codes[ends]] = picked_days[ends]
        return Window(days, spend, first, last)

    def before(self, customers: np.ndarray, days: np.ndarray, year: int = 365) -> tuple[Window, np.ndarray]:
        """For each (customer id, day) pair, that customer's purchases on the days before ``day``
        (nothing from that day on), and how many of those days fall in the ``year`` days before
        it. A customer the log does not hold has none. Binary searches in the sorted log, so a
        hundred thousand pairs (open leads, each as it stood when it was opened) take
        milliseconds where SQL would group ten million transactions."""
        n = len(customers)
        days = np.asarray(days, dtype=np.int64)
        if self.empty:
            none = np.full(n, -1, dtype=np.int64)
            return Window(np.zeros(n, dtype=np.int64), np.zeros(n), none, none.copy()), np.zeros(n, dtype=np.int64)
        index, origin, span, key, spent = self._search
        code = index.get_indexer(np.asarray(customers, dtype=object))  # -1: a customer the log does not hold
        held = code >= 0
        code = np.where(held, code, 0)

        def rows_before(day: np.ndarray) -> np.ndarray:
            return np.searchsorted(key, code * span + np.clip(day - origin, 0, span - 1))

        start = self.starts[code]
        end = np.where(held, rows_before(days), start)
        count = end - start
        some = count > 0
        first = np.where(some, self.day[start], -1)
        last = np.where(some, self.day[np.maximum(end - 1, 0)], -1)
        in_year = np.where(held, end - np.maximum(rows_before(days - year), start), 0)
        return Window(count, (spent[end] - spent[start]) / 100.0, first, last), in_year

    @cached_property
    def _search(self) -> tuple[Any, int, int, np.ndarray, np.ndarray]:
        """What ``before`` looks things up in, made once per log (a training run asks twice): a
        hash index of the customer ids, the first day and the span of days, each row's sort key
        (customer code x span + day) and the running total of cents."""
        import pandas as pd

        origin = int(self.day.min())
        span = int(self.day.max()) - origin + 2  # a day past the newest still falls inside its customer
        key = self.code * span + (self.day - origin)  # sorted, as the log is sorted by customer then day
        return pd.Index(self.customers), origin, span, key, np.r_[0, np.cumsum(self.cents)]

    def bought_between(self, lo: int, hi: int) -> np.ndarray:
        """Whether each customer bought on a day in [lo, hi)."""
        inside = (self.day >= lo) & (self.day < hi)
        return np.bincount(self.code[inside], minlength=len(self.customers)) > 0

    def newest_day(self) -> int:
        return int(self.day.max())
