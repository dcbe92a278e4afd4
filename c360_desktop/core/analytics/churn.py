"""Churn on the cache: point-in-time features, a time-based split, scores with their reasons.

A snapshot at date D describes each active customer (a purchase in the year before D) using only
what happened before D: recency, frequency and spend, their trend (last 90 days against the 90
before), tenure, interactions by channel and their sentiment, complaints (negative
interactions), parish and kind. Churned means no purchase in the ``horizon`` days from D, so
labels come from the transactions themselves, in any cache.

Training uses two snapshots a horizon apart, the later one for validation (a model is judged on
a later period than it learnt from), against the majority class and a recency rule (churn when
the last purchase is older than the cut that was best on the training snapshot). The model is
then refitted on the later snapshot and scores every active customer today; each score keeps
its version and its top reasons in probability points.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.contacts import CHANNELS, WINDOW_DAYS, ContactLog
from c360_desktop.core.analytics.purchases import PurchaseLog, day_date, day_number
from c360_desktop.core.timestamps import db_now

HORIZON_DAYS = 180


def snapshot(conn: sqlite3.Connection, as_of: date, log: PurchaseLog | None = None,
             contacts: ContactLog | None = None) -> pd.DataFrame:
    """Features of the customers active in the year before ``as_of``, from what came before it.
    ``log``, ``contacts``: the cache's purchases and interactions already read (a training run
    reads them once for all its snapshots); else they are read here."""
    log = log if log is not None else PurchaseLog.read(conn)
    contacts = contacts if contacts is not None else ContactLog.read(conn, as_of - timedelta(days=WINDOW_DAYS))
    t0_day = day_number(as_of)
    before = log.window(None, t0_day)
    recent = log.window(t0_day - 90, t0_day)
    previous = log.window(t0_day - 180, t0_day - 90)
    active = (before.last >= t0_day - 365) & log.live
    tx = pd.DataFrame({
        "recency_days": (t0_day - before.last[active]).astype(float),
        "frequency": before.days[active],
        "monetary": before.spend[active],
        "tenure_days": (t0_day - before.first[active]).astype(float),
        "purchases_90d": recent.days[active],
        "purchases_prev_90d": previous.days[active],
        "spend_90d": recent.spend[active],
        "spend_prev_90d": previous.spend[active],
    }, index=pd.Index(log.customers[active], name="customer_id"))
    tx["avg_order"] = tx.monetary / tx.frequency.clip(lower=1)
    out = tx.join(contacts.recent(t0_day), how="left")
    out["parish"], out["kind"] = log.parish[active], log.kind[active]
    counts = [f"{c}_180d" for c in CHANNELS] + ["complaints_90d"]
    out[counts] = out[counts].fillna(0)
    return out.sort_index()


def labels(conn: sqlite3.Connection, customers: pd.Index, as_of: date, horizon: int = HORIZON_DAYS,
           log: PurchaseLog | None = None) -> np.ndarray:
    """1 for each customer with no purchase in the ``horizon`` days from ``as_of``."""
    log = log if log is not None else PurchaseLog.read(conn)
    start = day_number(as_of)
    bought = pd.Series(log.bought_between(start, start + horizon), index=log.customers)
    return np.where(bought.reindex(customers, fill_value=False).to_numpy(dtype=bool), 0, 1)


def latest_day(conn: sqlite3.Connection, log: PurchaseLog | None = None) -> date:
    """The day after the newest purchase (from ``log`` when the caller has read it: no scan of
    the transactions again)."""
    if log is not None:
        if log.empty:
            raise ValueError("the cache has no transactions to learn from")
        return day_date(log.newest_day()) + timedelta(days=1)
    (newest,) = conn.execute('SELECT max(occurred_at) FROM "transaction" WHERE deleted_at IS NULL').fetchone()
    if not newest:
        raise ValueError("the cache has no transactions to learn from")
    return datetime.fromisoformat(newest).date() + timedelta(days=1)


@dataclass
class ChurnResult:
    model_version: str
    trained_as_of: str
    validated_as_of: str
    metrics: dict[str, dict[str, float]]  # ours / majority / recency rule -> accuracy, roc_auc
    scored: int


READABLE = {"recency_days": "days since the last purchase", "frequency": "purchase days",
            "monetary": "spend to date (JMD)", "tenure_days": "days as a customer",
            "purchases_90d": "purchases in the last 90 days", "purchases_prev_90d": "purchases in the 90 days before",
            "spend_90d": "spend in the last 90 days", "spend_prev_90d": "spend in the 90 days before",
            "avg_order": "average order", "sentiment_180d": "mood of recent contacts",
            "complaints_90d": "complaints in the last 90 days", "parish": "parish", "kind": "kind"}


def _reason(feature: str, value: Any) -> str:
    name = READABLE.get(feature, feature.replace("_180d", " contacts (180 days)").replace("_", " "))
    if feature == "parish" and isinstance(value, str):
        from c360_desktop.core.jamaica import parish_name

        value = parish_name(value) or value
    if isinstance(value, float) and feature.endswith("_days"):
        value = f"{value:,.0f}"
    elif isinstance(value, float):
        value = f"{value:,.0f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{name}: {value}"


def random_forest_baseline(train_x: pd.DataFrame, train_y: np.ndarray, test_x: pd.DataFrame,
                           seed: int) -> np.ndarray:
    """The issue's Random Forest baseline on the same features (categories as codes, gaps as -1),
    trained on at most 50,000 customers (a random sample beyond that: it is a yardstick, and 200
    trees on a million rows would double the retrain)."""
    from sklearn.ensemble import RandomForestClassifier

    from c360_desktop.core.analytics.tabular import prepare

    if len(train_x) > 50_000:
        keep = np.sort(np.random.default_rng(seed).choice(len(train_x), 50_000, replace=False))
        train_x, train_y = train_x.iloc[keep], train_y[keep]
    prepared = prepare(train_x, families=False)

    def codes(frame: pd.DataFrame) -> np.ndarray:
        out = prepared.transform(frame)
        for c in prepared.categorical:
            out[c] = out[c].cat.codes
        return out.fillna(-1).to_numpy(dtype=float)

    forest = RandomForestClassifier(n_estimators=200, min_samples_leaf=5, n_jobs=2, random_state=seed)
    forest.fit(codes(train_x), train_y)
    return np.asarray(forest.predict_proba(codes(test_x))[:, 1])


def current_features(conn: sqlite3.Connection, log: PurchaseLog | None = None) -> pd.DataFrame:
    """Today's population, as the model would score it (for drift checks)."""
    return snapshot(conn, latest_day(conn, log), log)


def train_and_score(cache: Any, today: date | None = None, seed: int = 7,
                    progress: Callable[[float, str], None] | None = None,
                    cancelled: Callable[[], bool] | None = None, log: PurchaseLog | None = None,
                    rank_leads: bool = True) -> ChurnResult:
    """Train on the cache (time-based split), validate, then score every active customer.
    ``log``: the cache's purchases, when the caller has read them already. ``rank_leads``: rank
    the lead queue again with the new risk (off when the lead model runs next and ranks it)."""
    import time

    from sklearn.metrics import roc_auc_score

    from c360_desktop.core.analytics import registry
    from c360_desktop.core.analytics.scores import CHUNK_ROWS, write_scores
    from c360_desktop.core.analytics.tabular import fit
    from c360_desktop.core.progress import checkpoints

    started = time.perf_counter()
    say = progress or (lambda _f, _m: None)
    step = checkpoints(progress, cancelled, "the previous churn scores stay")

    conn = cache.reader()
    log = log if log is not None else PurchaseLog.read(conn)
    end = today or latest_day(conn, log)
    valid_at = end - timedelta(days=HORIZON_DAYS)
    train_at = valid_at - timedelta(days=HORIZON_DAYS)
    step(0.05, f"Features as of {train_at} and {valid_at}")
    contacts = ContactLog.read(conn, train_at - timedelta(days=WINDOW_DAYS))  # once, for the three snapshots
    train_x = snapshot(conn, train_at, log, contacts)
    train_y = labels(conn, train_x.index, train_at, log=log)
    valid_x = snapshot(conn, valid_at, log, contacts)
    valid_y = labels(conn, valid_x.index, valid_at, log=log)
    if len(train_x) < 50 or len(np.unique(train_y)) < 2 or len(np.unique(valid_y)) < 2:
        raise ValueError("too little history to learn churn: a year and a half of purchases is needed")
    step(0.2, f"Training on {len(train_x):,} customers")
    model = fit(train_x, train_y, seed, families=False)
    p = model.predict_proba(valid_x)
    step(0.4, "Random Forest baseline")
    forest = random_forest_baseline(train_x, train_y, valid_x, seed)
    majority = int(train_y.mean() >= 0.5)
    cuts = np.arange(30, 365, 15)
    best_cut = max(cuts, key=lambda c: float(np.mean((train_x.recency_days.to_numpy() > c) == (train_y == 1))))
    rule = valid_x.recency_days.to_numpy() > best_cut
    metrics = {
        "ours": {"accuracy": float(np.mean((p >= 0.5) == (valid_y == 1))), "roc_auc": float(roc_auc_score(valid_y, p))},
        "random forest": {"accuracy": float(np.mean((forest >= 0.5) == (valid_y == 1))),
                          "roc_auc": float(roc_auc_score(valid_y, forest))},
        "majority class": {"accuracy": float(np.mean(valid_y == majority)), "roc_auc": 0.5},
        f"recency rule (> {best_cut} days)": {"accuracy": float(np.mean(rule == (valid_y == 1))),
                                             "roc_auc": float(roc_auc_score(valid_y, valid_x.recency_days))},
    }
    report = registry.classifier_report(valid_y, p, model.importance(),
                                        {"random forest": forest,
                                         "recency rule": valid_x.recency_days.to_numpy(dtype=float)})
    step(0.6, f"Refitting on {len(valid_x):,} customers")
    final = fit(valid_x, valid_y, seed, families=False, params=model.params)  # as validated, on newer data
    population = registry.reference(valid_x)  # what the final model learnt from, for drift checks
    step(0.8, f"Scoring: features as of {end}")
    now_x = snapshot(conn, end, log, contacts)
    step(0.85, f"Scoring {len(now_x):,} customers")
    digest = registry.content_hash(final.content(), json.dumps(
        {"params": final.params, "features": final.prepared.features, "window": [str(valid_at), str(end)],
         "rows": len(valid_x), "seed": seed}, sort_keys=True))
    version = registry.version_id("churn", digest)
    stamp = db_now()
    customers, records = now_x.index.tolist(), []

    def chunks() -> Iterator[list[tuple[str, float, str]]]:  # each written while the next is scored
        for start, probability, reasons in final.score_chunks(now_x, _reason, CHUNK_ROWS):
            yield list(zip(customers[start:start + len(reasons)], probability.tolist(), reasons, strict=True))
            done = start + len(reasons)
            step(0.85 + 0.1 * done / len(now_x), f"Scored {done:,} of {len(now_x):,} customers")
        step(0.95, "Saving")
        records.append(registry.ModelVersion(
            version, "churn", stamp, str(valid_at - timedelta(days=365)), str(end), len(valid_x),
            final.prepared.features, {**final.params, "seed": seed, "horizon_days": HORIZON_DAYS,
                                      "trained_as_of": str(train_at), "validated_as_of": str(valid_at),
                                      "reasons": final.reason_method(len(now_x))},
            metrics, report, population, digest, len(now_x),
            round(time.perf_counter() - started, 2)))

    def then(w: sqlite3.Connection) -> None:
        registry.record(w, records[0])
        if rank_leads:
            from c360_desktop.core.leads.queue import refresh_lead_ranks

            refresh_lead_ranks(w)  # next best actions use churn risk

    write_scores(cache, "churn", version, stamp, chunks(), len(now_x), then)
    say(1.0, "Done")
    return ChurnResult(version, str(train_at), str(valid_at), metrics, len(now_x))
