"""The cache's interactions read once, as arrays, for the churn snapshots of a training run.

A churn run describes its customers at three dates (training, validation, today), each with their
contacts by channel, the mood of those contacts and their complaints over the months before.
Asking SQLite for each aggregate scans and parses every interaction's timestamp again (2 s per
snapshot on a million customers); read once by day, as the purchase log is, a snapshot's contacts
are a few vectorised passes. The windows start and end at midnight, so days lose nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.purchases import DAY_NUMBER_SQL, joined_numbers

CHANNELS = ("call", "email", "sms", "social", "support", "visit", "whatsapp")
COMPLAINT = -0.3  # a contact this sour or worse is a complaint
WINDOW_DAYS = 180  # contacts count over this many days before a snapshot, complaints over the last 90


@dataclass(frozen=True)
class ContactLog:
    """One row per live interaction, by customer: its day (days since 1970-01-01), its channel
    (an index into CHANNELS, -1 for any other) and its sentiment (NaN where not known)."""

    customers: np.ndarray  # customer id of each code, in id order
    code: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    sentiment: np.ndarray

    @classmethod
    def read(cls, conn: sqlite3.Connection, since: date) -> ContactLog:
        """The interactions from ``since`` on (a snapshot at D needs them from D - WINDOW_DAYS)."""
        channel = " ".join(f"WHEN '{c}' THEN {k}" for k, c in enumerate(CHANNELS))
        rows = conn.execute(f"""
            SELECT customer_id, count(*),
                   group_concat({DAY_NUMBER_SQL}),
                   group_concat(CASE channel {channel} ELSE -1 END),
                   group_concat(coalesce(sentiment, 'nan'))
            FROM interaction WHERE deleted_at IS NULL AND occurred_at >= ?
            GROUP BY customer_id ORDER BY customer_id""", (f"{since} 00:00:00",)).fetchall()
        customers = np.array([r[0] for r in rows], dtype=object)
        counts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        return cls(customers, np.repeat(np.arange(len(rows), dtype=np.int64), counts),
                   joined_numbers((r[2] for r in rows), np.int64), joined_numbers((r[3] for r in rows), np.int64),
                   joined_numbers((r[4] for r in rows), np.float64))

    def recent(self, day: int) -> pd.DataFrame:
        """Per customer with a contact in the ``WINDOW_DAYS`` before ``day``: how many by channel
        (``call_180d``...), their mean sentiment (``sentiment_180d``) and the complaints among
        those of the last 90 days (``complaints_90d``), as the churn snapshot names them."""
        inside = (self.day >= day - WINDOW_DAYS) & (self.day < day)
        code, channel, sentiment = self.code[inside], self.channel[inside], self.sentiment[inside]
        n = len(self.customers)
        out = {f"{c}_180d": np.bincount(code[channel == k], minlength=n).astype(float) for k, c in enumerate(CHANNELS)}
        known = ~np.isnan(sentiment)
        rated = np.bincount(code[known], minlength=n)
        total = np.bincount(code[known], weights=sentiment[known], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["sentiment_180d"] = np.where(rated > 0, total / rated, np.nan)
        sour = known & (sentiment <= COMPLAINT) & (self.day[inside] >= day - 90)
        out["complaints_90d"] = np.bincount(code[sour], minlength=n).astype(float)
        seen = np.bincount(code, minlength=n) > 0
        return pd.DataFrame(out, index=pd.Index(self.customers, name="customer_id"))[seen]
