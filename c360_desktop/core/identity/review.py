"""The review queue: pairs of customers the model is unsure about, for an analyst to decide.

``build_queue`` resolves the cache's customers against each other (engine.resolve) and keeps
the pairs whose match probability lies between ``low`` and ``high`` (migration 0010's
``review_pair``, with each field's contribution). They are served by the value of a decision:
how uncertain the pair is (1 at probability 0.5, 0 at 0 or 1) times what is at stake (the two
customers' spend, on a log scale), so the decisions that matter most come first.

A "match" merges the two (golden.merge, so it syncs and can be undone); "not a match" and
"skip" are recorded with the reviewer and time. Match and not-a-match decisions (and their
undoing) are also written as audit events, which sync: another desktop does not ask again, and
every later queue passes them to the model as labels. ``undo_last`` takes the latest decision
back (unmerging a match). Pairs at ``high`` or above are left to an explicit automatic merge.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

from c360_desktop.core.progress import Progress, step_of
from c360_desktop.core.timestamps import db_now

# (column, field type); the engine (numpy, pandas, rapidfuzz) loads only when a queue is built,
# so the pane costs start-up nothing.
CUSTOMER_COLUMNS = (("given_name", "given_name"), ("family_name", "surname"), ("business_name", "business_name"),
                    ("date_of_birth", "date"), ("trn", "id_number"), ("street", "street"), ("town", "locality"),
                    ("parish", "region"), ("primary_phone", "phone"), ("primary_email", "email"))
DECISIONS = ("match", "no_match", "skip")


@dataclass(frozen=True)
class ReviewPair:
    id: int
    customer_a: str
    customer_b: str
    probability: float
    contributions: list[dict[str, Any]]  # field, bits (in CUSTOMER_FIELDS order), then "prior"
    value: float


REVIEW_ACTION = "identity_review"


def record_decision(conn: sqlite3.Connection, a: str, b: str, decision: str, probability: float | None,
                    user: str, ledger_id: str | None = None) -> str:
    """An analyst's decision on a pair as an audit event, locally and in the outbox: it syncs, so
    other desktops neither ask again nor lose the label, and the model learns from it."""
    from c360_desktop.core.audit import log as audit_log

    details = {"customer_a": a, "customer_b": b, "decision": decision, "probability": probability,
               "ledger_id": ledger_id}
    return audit_log.record(conn, user, f"{REVIEW_ACTION}.{decision}", "customer", a, details)


def decided_labels(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Every pair an analyst has decided, here or on another desktop (the synced audit events),
    latest decision first: 1 match, 0 not a match; an undone decision removes the label."""
    labels: dict[tuple[str, str], int] = {}
    for action, details in conn.execute(
            "SELECT action, details FROM audit_event WHERE action LIKE ? AND deleted_at IS NULL "
            "ORDER BY occurred_at, rowid", (f"{REVIEW_ACTION}.%",)):
        d = json.loads(details) if isinstance(details, str) else details
        key = tuple(sorted((d["customer_a"], d["customer_b"])))
        decision = action.split(".", 1)[1]
        if decision == "undo":
            labels.pop(key, None)  # type: ignore[arg-type]
        elif decision in ("match", "no_match"):
            labels[key] = 1 if decision == "match" else 0  # type: ignore[index]
    return labels


def decision_value(probability: float, spend_cents: float = 0.0) -> float:
    """How much deciding a pair is worth: its uncertainty (1 at 0.5, 0 at 0 or 1) times the
    stake (1 + log10 of the pair's spend in JMD, plus one)."""
    return (1 - abs(2 * probability - 1)) * (1 + math.log10(1 + spend_cents / 100))


def build_queue(cache: Any, low: float = 0.2, high: float = 0.9,
                progress: Progress | None = None) -> int:
    """Resolve the customers and refill the queue with the uncertain pairs not yet decided."""
    import numpy as np
    import pandas as pd

    from c360_desktop.core.identity.engine import Field, resolve

    fields = [Field(name, kind) for name, kind in CUSTOMER_COLUMNS]
    conn = cache.reader()
    cols = ["id"] + [f.name for f in fields]
    frame = pd.DataFrame(conn.execute(f"SELECT {', '.join(cols)} FROM customer WHERE deleted_at IS NULL "
                                      "ORDER BY id").fetchall(), columns=cols).fillna("")
    spend = dict(conn.execute("SELECT customer_id, lifetime_spend_cents FROM customer_summary"))
    if len(frame) < 2:
        return 0
    decided = decided_labels(conn)
    index = {cid: k for k, cid in enumerate(frame["id"])}
    labels = {(min(index[a], index[b]), max(index[a], index[b])): v for (a, b), v in decided.items()
              if a in index and b in index}
    result = resolve(frame, None, fields, threshold=high, progress=step_of(progress), with_clusters=False,
                     labels=labels or None)
    pick = np.flatnonzero((result.probability >= low) & (result.probability < high))
    ids = frame["id"].to_numpy()
    rows = []
    for k in pick.tolist():
        a, b = ids[result.i[k]], ids[result.j[k]]
        p = float(result.probability[k])
        value = decision_value(p, spend.get(a, 0) + spend.get(b, 0))
        contributions = result.contributions(k)
        if tuple(sorted((a, b))) in decided:
            continue  # an analyst has said (here or elsewhere)
        rows.append((a, b, p, json.dumps(contributions), value))
    with cache.writer() as w:
        here = {(a, b) for a, b in w.execute("SELECT customer_a, customer_b FROM review_pair "
                                             "WHERE status != 'pending'")}
        fresh = [r for r in rows if (r[0], r[1]) not in here]
        w.execute("DELETE FROM review_pair WHERE status = 'pending'")
        w.executemany("INSERT INTO review_pair (customer_a, customer_b, probability, contributions, value, status) "
                      "VALUES (?, ?, ?, ?, ?, 'pending')", fresh)
    return len(fresh)


def pending(conn: sqlite3.Connection, limit: int = 1) -> list[ReviewPair]:
    """The next pairs to decide, most valuable first (skipped ones after the rest)."""
    rows = conn.execute(
        "SELECT id, customer_a, customer_b, probability, contributions, value FROM review_pair "
        "WHERE status = 'pending' ORDER BY skipped_at IS NOT NULL, skipped_at, value DESC, id LIMIT ?",
        (limit,)).fetchall()
    return [ReviewPair(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]


def remaining(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM review_pair WHERE status = 'pending'").fetchone()[0])


def decide(cache: Any, pair_id: int, decision: str, user: str, settings: Any = None) -> str | None:
    """Record a decision; a match merges the two (returns the merge ledger id), by the
    survivorship rules of ``settings`` when given."""
    from c360_desktop.core.identity.golden import merge

    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r}: choose {', '.join(DECISIONS)}")
    row = cache.reader().execute("SELECT customer_a, customer_b, status FROM review_pair WHERE id = ?",
                                 (pair_id,)).fetchone()
    if row is None:
        raise KeyError(f"no review pair {pair_id}")
    a, b, status = row
    if status != "pending":
        raise ValueError(f"pair {pair_id} was decided already ({status})")
    entry = None
    if decision == "match":
        rules = settings.survivorship_rules() if settings is not None else None
        priority = tuple(settings.source_priority) if settings is not None else ()
        entry = merge(cache, a, [b], user, rules=rules, reason=f"review pair {pair_id}", priority=priority)
    with cache.writer() as conn:
        if decision == "skip":
            conn.execute("UPDATE review_pair SET skipped_at = ? WHERE id = ?", (db_now(), pair_id))
        else:
            probability = conn.execute("SELECT probability FROM review_pair WHERE id = ?", (pair_id,)).fetchone()[0]
            record_decision(conn, a, b, decision, probability, user, entry)
            conn.execute("UPDATE review_pair SET status = ?, decided_by = ?, decided_at = ?, ledger_id = ? "
                         "WHERE id = ?", (decision, user, db_now(), entry, pair_id))
            if decision == "match":  # other pairs with the retired customer now concern the survivor
                conn.execute("DELETE FROM review_pair WHERE status = 'pending' AND (customer_a = ? OR customer_b = ?)",
                             (b, b))
    return entry


def undo_last(cache: Any, user: str) -> int | None:
    """Take back the latest match or no-match decision; returns its pair id (pending again)."""
    from c360_desktop.core.identity.golden import unmerge

    row = cache.reader().execute(
        "SELECT id, status, ledger_id, customer_a, customer_b FROM review_pair WHERE status IN ('match', 'no_match') "
        "ORDER BY decided_at DESC, id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    pair_id, status, ledger_id, a, b = row
    if status == "match" and ledger_id:
        unmerge(cache, ledger_id, user)
    with cache.writer() as conn:
        record_decision(conn, a, b, "undo", None, user, ledger_id)
        conn.execute("UPDATE review_pair SET status = 'pending', decided_by = NULL, decided_at = NULL, "
                     "ledger_id = NULL, skipped_at = NULL WHERE id = ?", (pair_id,))
    return int(pair_id)


def side_by_side(conn: sqlite3.Connection, a: str, b: str) -> list[tuple[str, str, str]]:
    """(label, value of A, value of B) for the fields a reviewer compares."""
    labels = [("Name", "display_name"), ("Given name", "given_name"), ("Family name", "family_name"),
              ("Business", "business_name"), ("Date of birth", "date_of_birth"), ("TRN", "trn"),
              ("Phone", "primary_phone"), ("E-mail", "primary_email"), ("Street", "street"), ("Town", "town"),
              ("Parish", "parish")]
    cols = ", ".join(c for _l, c in labels)
    ra = conn.execute(f"SELECT {cols} FROM customer WHERE id = ?", (a,)).fetchone()
    rb = conn.execute(f"SELECT {cols} FROM customer WHERE id = ?", (b,)).fetchone()
    if ra is None or rb is None:
        raise KeyError("one of the pair is no longer in the cache")
    from c360_desktop.core.jamaica import parish_by_code

    def shown(column: str, value: Any) -> str:
        if value is None:
            return ""
        if column == "parish" and value in parish_by_code():
            return parish_by_code()[value].address_name
        return str(value)

    return [(label, shown(c, x), shown(c, y)) for (label, c), x, y in zip(labels, ra, rb, strict=True)]
