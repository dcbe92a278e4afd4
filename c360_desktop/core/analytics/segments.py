"""Segmentation: RFM segments everyone knows, and clusters named by what sets them apart.

RFM: each buying customer gets a score of 1-5 for recency (5 = most recent), frequency (purchase
days) and monetary value (spend), by quintile of the cache's customers, and a named segment from
the usual grid of recency against the mean of the other two (Champions, Loyal, At risk, Can't
lose them, Hibernating, Lost...).

Clusters: k-means over the log of recency, frequency, spend and tenure (standardised), with k from
3 to 6 chosen by silhouette on a seeded sample. Each cluster is named from its median customer
against everyone's terciles ("Recent frequent high spenders") and the report keeps the medians,
so the name can be checked against the numbers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.purchases import PurchaseLog, day_number
from c360_desktop.core.timestamps import db_now

# (name, recency scores, frequency-and-monetary scores): the first that fits wins
RFM_GRID = [
    ("Champions", (4, 5), (4, 5)),
    ("Can't lose them", (1, 2), (5, 5)),
    ("Loyal", (3, 5), (3, 5)),
    ("New", (5, 5), (1, 1)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("Promising", (4, 4), (1, 1)),
    ("Need attention", (3, 3), (2, 3)),
    ("About to sleep", (3, 3), (1, 2)),
    ("At risk", (1, 2), (3, 4)),
    ("Hibernating", (2, 2), (1, 2)),
    ("Lost", (1, 1), (1, 2)),
]


def rfm_table(conn: sqlite3.Connection, as_of: date, log: PurchaseLog | None = None) -> pd.DataFrame:
    """Recency (days), frequency (purchase days), monetary (JMD) and tenure of every buyer before
    ``as_of`` (``log``: the cache's purchases, when read already)."""
    log = log if log is not None else PurchaseLog.read(conn)
    at = day_number(as_of)
    before = log.window(None, at)
    keep = (before.days > 0) & log.live
    return pd.DataFrame({"recency": (at - before.last[keep]).astype(float), "frequency": before.days[keep],
                         "monetary": before.spend[keep], "tenure": (at - before.first[keep]).astype(float)},
                        index=pd.Index(log.customers[keep], name="customer_id"))


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> np.ndarray:
    """1-5 by quintile of rank (ties share the lower rank, so equal values score alike)."""
    ranks = values.rank(method="min", pct=True).to_numpy()
    scores = np.ceil(ranks * 5).clip(1, 5).astype(int)
    return scores if higher_is_better else 6 - scores


def rfm_segment(r: int, fm: int) -> str:
    for name, (r_lo, r_hi), (fm_lo, fm_hi) in RFM_GRID:
        if r_lo <= r <= r_hi and fm_lo <= fm <= fm_hi:
            return name
    return "Others"


def name_cluster(median: pd.Series, cuts: dict[str, tuple[float, float]]) -> str:
    def level(feature: str, words: tuple[str, str, str]) -> str:
        lo, hi = cuts[feature]
        return words[0] if median[feature] <= lo else words[2] if median[feature] > hi else words[1]

    recency = level("recency", ("Recent", "Lapsing", "Lapsed"))
    frequency = level("frequency", ("occasional", "regular", "frequent"))
    spend = level("monetary", ("low spenders", "mid spenders", "high spenders"))
    newness = "new " if median["tenure"] <= 120 else ""
    return f"{recency} {newness}{frequency} {spend}"


def cluster(frame: pd.DataFrame, seed: int, ks: range = range(3, 7),
            progress: Callable[[], None] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Cluster labels for each row of an RFM table, and the model (centres, scaling, k, silhouettes).
    ``progress`` is called once k is chosen, before every row is assigned."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    X = np.log1p(frame[["recency", "frequency", "monetary", "tenure"]].to_numpy(dtype=float).clip(min=0))
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / np.where(std > 0, std, 1)
    rng = np.random.default_rng(seed)
    sample = Z[rng.choice(len(Z), min(len(Z), 5_000), replace=False)]
    silhouettes = {}
    fits = {}
    for k in ks:
        if k >= len(sample):
            break
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(sample)
        silhouettes[k] = float(silhouette_score(sample, km.labels_, random_state=seed))
        fits[k] = km
    k = max(silhouettes, key=lambda kk: (silhouettes[kk], -kk))
    km = fits[k]
    if progress:
        progress()
    labels = km.predict(Z)
    return labels, {"k": k, "silhouette": silhouettes, "centres": km.cluster_centers_.tolist(),
                    "mean": mean.tolist(), "std": std.tolist()}


@dataclass
class SegmentResult:
    model_version: str
    customers: int
    rfm: dict[str, int]
    clusters: list[dict[str, Any]]


def train_and_assign(cache: Any, seed: int = 7, progress: Callable[[float, str], None] | None = None,
                     cancelled: Callable[[], bool] | None = None, log: PurchaseLog | None = None) -> SegmentResult:
    from c360_desktop.core.analytics import registry
    from c360_desktop.core.analytics.churn import latest_day
    from c360_desktop.core.progress import checkpoints

    started = time.perf_counter()
    say = progress or (lambda _f, _m: None)
    step = checkpoints(progress, cancelled, "the previous segments stay")

    conn = cache.reader()
    log = log if log is not None else PurchaseLog.read(conn)
    end = latest_day(conn, log)
    step(0.05, "Recency, frequency and spend of every buyer")
    frame = rfm_table(conn, end, log)
    if len(frame) < 20:
        raise ValueError(f"too few buying customers to segment: {len(frame)}")
    r = quintile_scores(frame.recency, higher_is_better=False)
    f = quintile_scores(frame.frequency)
    m = quintile_scores(frame.monetary)
    fm = np.rint((f + m) / 2).astype(int)
    names = [rfm_segment(a, b) for a, b in zip(r.tolist(), fm.tolist(), strict=True)]
    population = registry.reference(frame)  # what the clusters are fitted on, for drift checks
    step(0.3, "Clustering")
    labels, km = cluster(frame, seed, progress=lambda: step(0.6, "Scoring: each customer to its cluster"))
    cuts = {c: (float(frame[c].quantile(1 / 3)), float(frame[c].quantile(2 / 3)))
            for c in ("recency", "frequency", "monetary")}
    clusters: list[dict[str, Any]] = []
    for k in range(km["k"]):
        members = frame[labels == k]
        median = members.median()
        clusters.append({"cluster": k, "name": name_cluster(median, cuts), "size": int(len(members)),
                         "median": {c: round(float(median[c]), 1) for c in frame.columns}})
    seen: dict[str, int] = {}
    for c in sorted(clusters, key=lambda c: -c["size"]):  # two alike: the smaller one is told apart by number
        seen[c["name"]] = seen.get(c["name"], 0) + 1
        if seen[c["name"]] > 1:
            c["name"] = f"{c['name']} ({seen[c['name']]})"
    cluster_name = {c["cluster"]: c["name"] for c in clusters}
    rfm_counts = pd.Series(names).value_counts().to_dict()
    digest = registry.content_hash(json.dumps(km, sort_keys=True), json.dumps(cuts, sort_keys=True))
    version = registry.version_id("segments", digest)
    stamp = db_now()
    overall = {c: round(float(frame[c].median()), 1) for c in frame.columns}
    report = {"kind": "segments", "rfm": {k: int(v) for k, v in rfm_counts.items()}, "clusters": clusters,
              "overall_median": overall, "terciles": cuts}
    metrics = {"ours": {"silhouette": km["silhouette"][km["k"]], "k": km["k"]}}
    rows = [(cid, version, int(a), int(b), int(c), name, int(lab), cluster_name[int(lab)])
            for cid, a, b, c, name, lab in zip(frame.index.tolist(), r.tolist(), f.tolist(), m.tolist(), names,
                                               labels.tolist(), strict=True)]
    step(0.9, "Saving")
    record = registry.ModelVersion(
        version, "segments", stamp, None, str(end - timedelta(days=1)), len(frame),
        ["recency", "frequency", "monetary", "tenure"], {"seed": seed, **{k: v for k, v in km.items()
                                                                          if k in ("k", "silhouette")}},
        metrics, report, population, digest, len(rows), round(time.perf_counter() - started, 2))
    with cache.writer(bulk=True) as w:
        w.execute("DELETE FROM customer_segment")
        w.executemany("INSERT INTO customer_segment (customer_id, version, r, f, m, rfm_segment, cluster, "
                      "cluster_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        registry.record(w, record)
    say(1.0, "Done")
    return SegmentResult(version, len(rows), {k: int(v) for k, v in rfm_counts.items()}, clusters)


def current_features(conn: sqlite3.Connection, log: PurchaseLog | None = None) -> pd.DataFrame:
    from c360_desktop.core.analytics.churn import latest_day

    return rfm_table(conn, latest_day(conn, log), log)
