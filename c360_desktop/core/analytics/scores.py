"""Writing a model's scores to the cache: the previous ones retired, the new ones in, at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any


def replace_scores(conn: sqlite3.Connection, model: str, stamp: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Inside the caller's transaction: retire ``model``'s live scores and insert ``rows`` of
    (id, customer id, model version, value, scored at, contributions JSON). Scores retired by an
    earlier run are removed, so a weekly retrain of a million customers does not grow the cache
    by a million rows a week: the table holds the live run and the one before it."""
    conn.execute("DELETE FROM score WHERE model = ? AND deleted_at IS NOT NULL", (model,))
    conn.execute("UPDATE score SET deleted_at = ? WHERE model = ? AND deleted_at IS NULL", (stamp, model))
    conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at, "
                     "contributions, updated_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                     [(r[0], r[1], model, *r[2:6], stamp) for r in rows])
