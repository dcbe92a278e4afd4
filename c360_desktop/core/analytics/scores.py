"""Writing a model's scores to the cache: the previous ones retired, the new ones in, at once."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence


def replace_scores(conn: sqlite3.Connection, model: str, version: str, stamp: str,
                   rows: Sequence[tuple[str, float, str]]) -> None:
    """Inside the caller's transaction: retire ``model``'s live scores and insert ``rows`` of
    (customer id, value, contributions JSON) made by ``version``. Scores retired by an earlier
    run are removed, so a weekly retrain of a million customers does not grow the cache by a
    million rows a week: the table holds the live run and the one before it. The new rows get
    time-ordered ids (UUIDv7), so a million inserts append to the primary key's index instead of
    landing all over it."""
    import numpy as np

    from c360_desktop.core.ids import id_batch

    conn.execute("DELETE FROM score WHERE model = ? AND deleted_at IS NOT NULL", (model,))
    conn.execute("UPDATE score SET deleted_at = ? WHERE model = ? AND deleted_at IS NULL", (stamp, model))
    ids = id_batch(np.random.default_rng(), time.time_ns() // 1_000_000 - len(rows), len(rows))
    conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at, "
                     "contributions, updated_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                     [(i, cid, model, version, value, stamp, reasons, stamp)
                      for i, (cid, value, reasons) in zip(ids, rows, strict=True)])
