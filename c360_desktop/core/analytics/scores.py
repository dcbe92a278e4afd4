"""Writing a model's scores to the cache: the previous ones replaced by the new ones, at once.

A million scores take seconds to insert, about as long as computing them, so the two overlap:
``write_scores`` writes on a thread of its own, in one transaction, while the caller computes the
next chunk of rows. SQLite does its work with the GIL released, so on two cores the writing costs
little more than the longer of the two. The WAL checkpoint after such a write (copying a few
hundred megabytes into the database file) is left to the cache's background checkpoint instead of
the next commit.

A customer who already has a score from the model keeps its row, rewritten in place with the new
version, value and reasons; only customers new to the model get new rows, and rows of customers no
longer scored are deleted. The weekly retrain rescores the same customers, and rewriting a row
costs one table write and no index entry (no index holds a column the rewrite sets: schema 0012),
where deleting it and inserting a new one cost a table write and three index entries each (the id,
the customer and the model indexes).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

CHUNK_ROWS = 65_536  # rows computed, then written, at a time

Row = tuple[str, float, str]  # customer id, value, contributions JSON
_DONE, _STOP = object(), object()


def write_scores(cache: Any, model: str, version: str, stamp: str, chunks: Iterable[Sequence[Row]], total: int,
                 then: Callable[[sqlite3.Connection], None] | None = None) -> None:
    """Replace ``model``'s scores by the ``chunks`` of new ones (``total`` rows in
    all) in one write transaction on a thread of its own, which writes each chunk while the
    caller's iterator computes the next. ``then(conn)`` runs in the same transaction after the
    last row (the version's registry record, ranks that read the new scores). If the chunks
    raise (a cancel, a failure) or the write fails, nothing is written and the error is raised
    here."""
    pending: queue.Queue[Any] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            with cache.writer(bulk=True) as w:  # its checkpoint runs in the background afterwards
                held, extra = _held(w, model)
                first, done = _first_ms(total), 0
                while (rows := pending.get()) is not _DONE:
                    if rows is _STOP:
                        raise _Stopped
                    fresh = _rewrite(w, version, stamp, rows, held)
                    _insert(w, model, version, stamp, fresh, first, done)
                    done += len(rows)
                _delete(w, extra + list(held.values()))  # customers this run did not score
                if then is not None:
                    then(w)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failed.append(exc)
            while True:  # let a producer blocked on a full queue go on to see the failure
                try:
                    pending.get_nowait()
                except queue.Empty:
                    break

    def put(item: Any) -> None:
        while writer.is_alive():
            try:
                pending.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    writer = threading.Thread(target=write, name=f"c360-{model}-scores", daemon=True)
    writer.start()
    try:
        for rows in chunks:
            if failed:
                break
            put(rows)
        put(_DONE)
    except BaseException:
        put(_STOP)
        writer.join()
        raise
    writer.join()
    if failed:
        raise failed[0]


class _Stopped(Exception):
    """The producer of the rows failed: the write transaction is rolled back."""


def _first_ms(rows: int) -> int:
    return time.time_ns() // 1_000_000 - rows


def _held(conn: sqlite3.Connection, model: str) -> tuple[dict[str, int], list[int]]:
    """The model's rows now: each customer's live row (by rowid) to rewrite, and the rest to
    delete (a second live row, retired rows older caches kept). Nothing reads a retired score; the
    registry keeps every version's metrics."""
    held: dict[str, int] = {}
    extra: list[int] = []
    for customer, rowid, live in conn.execute("SELECT customer_id, rowid, deleted_at IS NULL FROM score "
                                              "WHERE model = ?", (model,)):
        if not live or held.setdefault(customer, rowid) != rowid:
            extra.append(rowid)
    return held, extra


def _rewrite(conn: sqlite3.Connection, version: str, stamp: str, rows: Sequence[Row],
             held: dict[str, int]) -> list[Row]:
    """Rewrite the rows of the customers in ``rows`` who have one (taking them out of ``held``);
    return the rows of those who have none."""
    again, fresh = [], []
    for row in rows:
        rowid = held.pop(row[0], None)
        if rowid is None:
            fresh.append(row)
        else:
            again.append((version, row[1], stamp, row[2], stamp, rowid))
    # Only live rows are rewritten, so deleted_at is left alone: setting it, even to the NULL it
    # holds, would rewrite each row's entry in the model index too (1.2 s more for 839,532 rows).
    conn.executemany("UPDATE score SET model_version = ?, value = ?, scored_at = ?, contributions = ?, "
                     "updated_at = ?, row_version = 0, updated_by = NULL WHERE rowid = ?", again)
    return fresh


def _delete(conn: sqlite3.Connection, rowids: list[int]) -> None:
    conn.executemany("DELETE FROM score WHERE rowid = ?", ((r,) for r in sorted(rowids)))


def _insert(conn: sqlite3.Connection, model: str, version: str, stamp: str, rows: Sequence[Row], first_ms: int,
            offset: int) -> None:
    """The rows get time-ordered ids (UUIDv7), so a million inserts append to the primary key's
    index instead of landing all over it."""
    if not rows:
        return
    import numpy as np

    from c360_desktop.core.ids import id_batch

    ids = id_batch(np.random.default_rng(), first_ms + offset, len(rows))
    conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at, "
                     "contributions, updated_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                     [(i, cid, model, version, value, stamp, reasons, stamp)
                      for i, (cid, value, reasons) in zip(ids, rows, strict=True)])
