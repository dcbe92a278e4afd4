"""Lead scoring: how likely an open lead is to be won, 0-100, with the reasons.

Learnt from the cache's closed leads (won against lost). Each lead is described as it stood when
it was opened, from the customer's history before that moment (purchases, spend, recency,
tenure, contacts and their mood, complaints), the lead itself (source, estimated value, the
value against the customer's usual order) and how it has been worked (sales activities by kind).
Validation is by time: the model learns from the older closed leads and is judged on the newest
quarter, beside the rule-based score the queue used before. It is then refitted on every closed
lead and scores the open ones: the score is the calibrated chance of winning in percent, banded
hot (70+), warm (45+) and cold like the rule score, with each reason in score points.

Drift is watched on the open leads: the registry keeps the open leads the model scored when it was
trained (closed leads differ from open ones by design: a new lead has no activities yet), and
later checks compare today's open leads with them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.contacts import COMPLAINT
from c360_desktop.core.analytics.purchases import PurchaseLog
from c360_desktop.core.models import OPEN_LEAD_STATUSES
from c360_desktop.core.timestamps import db_now

MIN_CLOSED = 40

READABLE = {"source": "came by", "estimated_value": "estimated value (JMD)", "value_to_order": "value / usual order",
            "kind": "kind", "parish": "parish", "purchases_before": "purchase days before the lead",
            "spend_before": "spend before the lead (JMD)", "recency_days": "days since a purchase",
            "tenure_days": "days as a customer", "purchases_year": "purchase days in the year before",
            "contacts_180d": "contacts in the 180 days before", "sentiment_180d": "mood of those contacts",
            "complaints_180d": "complaints in the 180 days before", "activities": "sales activities",
            "calls": "calls", "emails": "e-mails", "meetings": "meetings", "visits": "visits"}


def features(conn: sqlite3.Connection, statuses: tuple[str, ...], log: PurchaseLog | None = None) -> pd.DataFrame:
    """One row per lead in ``statuses``, as it stood when it was opened (plus its activities).
    Purchases count from the days before the lead's day (the purchase log keeps days, not times),
    so nothing bought from that day on can enter. ``log``: the cache's purchases, when the caller
    has read them; else they are read here."""
    log = log if log is not None else PurchaseLog.read(conn)
    marks = ",".join("?" * len(statuses))
    base = f"SELECT id, customer_id, created_at FROM lead WHERE deleted_at IS NULL AND status IN ({marks})"
    inter = pd.DataFrame(conn.execute(f"""
        WITH l AS ({base})
        SELECT l.id, count(i.id), avg(i.sentiment), sum(CASE WHEN i.sentiment <= {COMPLAINT} THEN 1 ELSE 0 END)
        FROM l JOIN interaction i ON i.customer_id = l.customer_id AND i.deleted_at IS NULL
             AND i.occurred_at < l.created_at AND i.occurred_at >= datetime(l.created_at, '-180 days')
        GROUP BY l.id""", statuses).fetchall(),
        columns=["lead_id", "contacts_180d", "sentiment_180d", "complaints_180d"])
    acts = pd.DataFrame(conn.execute(f"""
        SELECT a.lead_id, count(*), sum(a.kind = 'call'), sum(a.kind = 'email'), sum(a.kind = 'meeting'),
               sum(a.kind = 'visit')
        FROM sales_activity a JOIN lead l ON l.id = a.lead_id
        WHERE a.deleted_at IS NULL AND l.deleted_at IS NULL AND l.status IN ({marks})
        GROUP BY a.lead_id""", statuses).fetchall(),
        columns=["lead_id", "activities", "calls", "emails", "meetings", "visits"])
    leads = pd.DataFrame(conn.execute(f"""
        SELECT l.id, l.customer_id, l.status, l.created_at, l.source, l.estimated_value_cents / 100.0, c.kind, c.parish
        FROM lead l JOIN customer c ON c.id = l.customer_id
        WHERE l.deleted_at IS NULL AND l.status IN ({marks})""", statuses).fetchall(),
        columns=["lead_id", "customer_id", "status", "created_at", "source", "estimated_value", "kind", "parish"])
    opened = pd.to_datetime(leads.created_at).to_numpy().astype("datetime64[D]").astype(np.int64)  # day numbers
    history, in_year = log.before(leads.customer_id.to_numpy(dtype=object), opened)
    some = history.days > 0
    leads["purchases_before"], leads["spend_before"], leads["purchases_year"] = history.days, history.spend, in_year
    leads["recency_days"] = np.where(some, opened - history.last, np.nan)
    leads["tenure_days"] = np.where(some, opened - history.first, np.nan)
    out = leads.merge(inter, on="lead_id", how="left").merge(acts, on="lead_id", how="left") \
        .set_index("lead_id").sort_index()
    zero = ["contacts_180d", "complaints_180d", "activities", "calls", "emails", "meetings", "visits",
            "purchases_before", "spend_before", "purchases_year"]
    out[zero] = out[zero].fillna(0)
    numeric = [c for c in out.columns if c not in ("customer_id", "status", "created_at", "source", "kind", "parish")]
    out[numeric] = out[numeric].astype(float)
    out["value_to_order"] = out.estimated_value / (out.spend_before / out.purchases_before.replace(0, np.nan))
    return out


FEATURES = ["source", "estimated_value", "value_to_order", "kind", "parish", "purchases_before", "spend_before",
            "recency_days", "tenure_days", "purchases_year", "contacts_180d", "sentiment_180d", "complaints_180d",
            "activities", "calls", "emails", "meetings", "visits"]


def current_features(conn: sqlite3.Connection, log: PurchaseLog | None = None) -> pd.DataFrame:
    """The open leads, as the model would score them (for drift checks)."""
    return features(conn, OPEN_LEAD_STATUSES, log)[FEATURES]


def _describe(feature: str, value: Any) -> str:
    name = READABLE.get(feature, feature.replace("_", " "))
    if feature == "source":
        return f"came by {value}" if value is not None else "source unknown"
    if feature == "parish" and isinstance(value, str):
        from c360_desktop.core.jamaica import parish_name

        return f"parish: {parish_name(value) or value}"
    if isinstance(value, float) and np.isnan(value):
        return f"{name}: none"
    if isinstance(value, float) and value.is_integer():
        value = f"{value:,.0f}"
    elif isinstance(value, float):
        value = f"{value:,.0f}" if abs(value) >= 10 or feature.endswith("_days") else f"{value:.2f}"
    return f"{name}: {value}"


def _rule_scores(frame: pd.DataFrame) -> np.ndarray:
    """The queue's rule score for each lead as it stood a week after it was opened."""
    from datetime import timedelta

    from c360_desktop.core.leads.queue import LeadFacts, rule_score

    out = []
    for row in frame.itertuples():
        created = datetime.fromisoformat(row.created_at)
        status = "contacted" if row.activities else "new"
        facts = LeadFacts(status, row.source, created, None, row.estimated_value, float(row.spend_before), None, None)
        out.append(rule_score(facts, created + timedelta(days=7))[0])
    return np.asarray(out, dtype=float)


@dataclass
class LeadResult:
    model_version: str
    trained_on: int
    validated_on: int
    metrics: dict[str, dict[str, float]]
    scored: int


def train_and_score(cache: Any, seed: int = 7, progress: Callable[[float, str], None] | None = None,
                    cancelled: Callable[[], bool] | None = None, log: PurchaseLog | None = None) -> LeadResult:
    """Learn from the closed leads (validated on the newest quarter), then score the open ones.
    ``log``: the cache's purchases, when the caller has read them already."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from c360_desktop.core.analytics import registry
    from c360_desktop.core.analytics.tabular import fit
    from c360_desktop.core.progress import checkpoints

    started = time.perf_counter()
    say = progress or (lambda _f, _m: None)
    step = checkpoints(progress, cancelled, "the previous lead scores stay")

    conn = cache.reader()
    step(0.05, "Features of the closed leads")
    log = log if log is not None else PurchaseLog.read(conn)
    closed = features(conn, ("won", "lost"), log).sort_values(["created_at", "customer_id"])
    y = (closed.status == "won").to_numpy().astype(int)
    if len(closed) < MIN_CLOSED or len(np.unique(y)) < 2:
        raise ValueError(f"too few closed leads to learn from: {len(closed)} ({int(y.sum())} won); "
                         f"at least {MIN_CLOSED} with both outcomes are needed")
    cut = int(len(closed) * 0.75)
    train, valid = closed.iloc[:cut], closed.iloc[cut:]
    if len(np.unique(y[:cut])) < 2 or len(np.unique(y[cut:])) < 2:
        raise ValueError("the older and the newer closed leads each need both won and lost ones")
    step(0.2, f"Training on {cut:,} older closed leads")
    model = fit(train[FEATURES], y[:cut], seed, families=False)
    p = model.predict_proba(valid[FEATURES])
    rules = _rule_scores(valid)
    yv = y[cut:]
    metrics = {
        "ours": {"accuracy": float(np.mean((p >= 0.5) == (yv == 1))), "roc_auc": float(roc_auc_score(yv, p)),
                 "pr_auc": float(average_precision_score(yv, p))},
        "rule score": {"accuracy": float(np.mean((rules >= 45) == (yv == 1))),
                       "roc_auc": float(roc_auc_score(yv, rules)), "pr_auc": float(average_precision_score(yv, rules))},
        "majority class": {"accuracy": float(np.mean(yv == int(y[:cut].mean() >= 0.5))), "roc_auc": 0.5,
                           "pr_auc": float(yv.mean())},
    }
    report = registry.classifier_report(yv, p, model.importance(), {"rule score": rules / 100})
    step(0.55, f"Refitting on all {len(closed):,} closed leads")
    final = fit(closed[FEATURES], y, seed, families=False, params=model.params)  # as validated, on all of them
    step(0.75, "Scoring: the open leads")
    open_leads = features(conn, OPEN_LEAD_STATUSES, log)
    stamp = db_now()
    digest = registry.content_hash(final.content(), json.dumps(
        {"params": final.params, "features": FEATURES, "rows": len(closed), "seed": seed,
         "window": [closed.created_at.min(), closed.created_at.max()]}, sort_keys=True))
    version = registry.version_id("lead", digest)
    rows = []
    if len(open_leads):
        probability, reasons = final.score(open_leads[FEATURES], _describe)
        score = np.round(100 * probability, 1)
        best: dict[str, int] = {}  # a customer's lead score: their most promising open lead
        for k, cid in enumerate(open_leads.customer_id.tolist()):
            if cid not in best or score[k] > score[best[cid]]:
                best[cid] = k
        rows = [(cid, float(score[k]), reasons[k]) for cid, k in best.items()]
    step(0.95, "Saving")
    record = registry.ModelVersion(
        version, "lead", stamp, closed.created_at.min()[:10], closed.created_at.max()[:10], len(closed), FEATURES,
        {**final.params, "seed": seed, "validation": "newest quarter of closed leads",
         "reasons": final.reason_method(len(open_leads))}, metrics, report,
        registry.reference(open_leads[FEATURES] if len(open_leads) else closed[FEATURES]), digest, len(rows), round(time.perf_counter() - started, 2))
    from c360_desktop.core.analytics.scores import write_scores
    from c360_desktop.core.leads.queue import refresh_lead_ranks

    def then(w: sqlite3.Connection) -> None:
        registry.record(w, record)
        refresh_lead_ranks(w)

    write_scores(cache, "lead", version, stamp, [rows], len(rows), then)
    say(1.0, "Done")
    return LeadResult(version, cut, len(closed) - cut, metrics, len(rows))
