"""The model registry: what each trained version learnt from, how well it did, and whether today's
customers still look like the ones it learnt from.

Every training run records a ``model_version`` row: the data window, the features, the chosen
parameters, the validation metrics (with the baselines of the same run), a report for the model
dashboard (ROC and precision-recall curves, calibration, gains, feature importance, or a
forecast against actuals), the training population summarised per feature (deciles of numeric
features, shares of categories) and a SHA-256 of the fitted model's content, so two versions with
the same hash are the same model.

Drift is the population stability index per feature between that training population and
today's: PSI = sum((today - train) * ln(today / train)) over the bins. Under 0.1 is stable,
0.1-0.25 a moderate shift, over 0.25 (the default alert threshold) a shift worth retraining for.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

DRIFT_THRESHOLD = 0.25
DRIFT_ALERT_TYPE = "model.drift"
_EPS = 1e-4  # share floor: an empty bin on one side would make PSI infinite


@dataclass(frozen=True)
class ModelVersion:
    version: str
    model: str
    trained_at: str
    data_from: str | None
    data_to: str | None
    rows: int
    features: list[str]
    params: dict[str, Any]
    metrics: dict[str, Any]
    report: dict[str, Any]
    reference: dict[str, Any]
    content_hash: str
    scored: int
    seconds: float


def content_hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def version_id(model: str, digest: str) -> str:
    return f"{model}-{digest[:10]}"


# ---- validation report -----------------------------------------------------------------------

def _thin(xs: np.ndarray, ys: np.ndarray, n: int = 200) -> list[list[float]]:
    if len(xs) > n:
        keep = np.unique(np.linspace(0, len(xs) - 1, n).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(xs, ys, strict=True)]


def classifier_report(y: np.ndarray, p: np.ndarray, importance: dict[str, float],
                      baselines: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Curves for the dashboard from held-out labels ``y`` and scores ``p`` (and baselines')."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = np.asarray(y).astype(int)
    curves: dict[str, Any] = {}
    for name, scores in {"ours": p, **(baselines or {})}.items():
        fpr, tpr, _ = roc_curve(y, scores)
        prec, rec, _ = precision_recall_curve(y, scores)
        curves[name] = {"roc": _thin(fpr, tpr), "pr": _thin(rec[::-1], prec[::-1])}
    bins = np.clip((np.asarray(p) * 10).astype(int), 0, 9)
    calibration = [[float(np.mean(p[bins == b])), float(np.mean(y[bins == b])), int(np.sum(bins == b))]
                   for b in range(10) if np.any(bins == b)]
    order = np.argsort(-np.asarray(p), kind="stable")
    caught = np.cumsum(y[order]) / max(1, int(y.sum()))
    gains = [[k / 10, float(caught[max(0, int(round(k / 10 * len(y))) - 1)]) if k else 0.0] for k in range(11)]
    top = dict(sorted(importance.items(), key=lambda kv: -kv[1])[:20])
    return {"kind": "classifier", "curves": curves, "calibration": calibration, "gains": gains,
            "importance": {k: round(float(v), 5) for k, v in top.items()}, "positives": int(y.sum()),
            "rows": int(len(y))}


# ---- populations and drift -------------------------------------------------------------------

def reference(frame: Any) -> dict[str, Any]:
    """Each feature's distribution: decile edges and shares (numeric: a column of numbers, or of
    text of which at least 98% of the filled values read as numbers) or shares per category."""
    out: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column]
        numeric = _numbers(values)
        if numeric is not None:
            present = numeric[~np.isnan(numeric)]
            edges = np.unique(np.quantile(present, np.linspace(0.1, 0.9, 9))) if present.size else np.array([])
            out[str(column)] = {"kind": "numeric", "edges": edges.tolist(), "share": _numeric_shares(numeric, edges)}
        else:
            shares = values.astype("string").fillna("(missing)").value_counts(normalize=True)
            out[str(column)] = {"kind": "categorical", "share": {str(k): float(v) for k, v in shares.items()}}
    return out


def _numbers(values: Any) -> np.ndarray | None:
    """``values`` as floats (gaps NaN) when the column is numeric, else None. Text is judged by
    its distinct values, each read once (parsing every row of a million-row parish column cost
    more than the rest of the summary)."""
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype) or not values.notna().any():
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):  # numbers, or booleans (counted as 0 and 1)
        return np.asarray(values.to_numpy(dtype=float, na_value=np.nan))
    counts = values.value_counts(dropna=True)
    readable = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce").notna().to_numpy()
    if counts.to_numpy()[readable].sum() < 0.98 * counts.sum():
        return None
    return np.asarray(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan))


def _numeric_shares(values: np.ndarray, edges: np.ndarray | list[float]) -> list[float]:
    """Shares of the bins cut at ``edges`` (right-closed), with missing values as a last bin."""
    missing = np.isnan(values)
    bins = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return (counts / max(1.0, counts.sum())).tolist()


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.maximum(expected, _EPS), np.maximum(actual, _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(ref: dict[str, Any], frame: Any) -> dict[str, float]:
    """The population stability index of each reference feature in ``frame``."""
    import pandas as pd

    out: dict[str, float] = {}
    for column, spec in ref.items():
        if column not in frame.columns:
            continue
        if spec["kind"] == "numeric":
            now = _numeric_shares(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float), spec["edges"])
            out[column] = round(_psi(np.asarray(spec["share"]), np.asarray(now)), 5)
        else:
            shares = frame[column].astype("string").fillna("(missing)").value_counts(normalize=True)
            cats = sorted(set(spec["share"]) | {str(k) for k in shares.index})
            e = np.array([spec["share"].get(c, 0.0) for c in cats])
            a = np.array([float(shares.get(c, 0.0)) for c in cats])
            out[column] = round(_psi(e, a), 5)
    return out


# ---- storage ---------------------------------------------------------------------------------

def record(conn: sqlite3.Connection, v: ModelVersion) -> None:
    """Inside the caller's transaction (with the scores it made)."""
    conn.execute(
        "INSERT OR REPLACE INTO model_version (version, model, trained_at, data_from, data_to, rows, features, "
        "params, metrics, report, reference, content_hash, scored, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (v.version, v.model, v.trained_at, v.data_from, v.data_to, v.rows, json.dumps(v.features),
         json.dumps(v.params), json.dumps(v.metrics), json.dumps(v.report), json.dumps(v.reference),
         v.content_hash, v.scored, v.seconds))


_COLUMNS = ("version, model, trained_at, data_from, data_to, rows, features, params, metrics, report, reference, "
            "content_hash, scored, seconds")


def _row(r: tuple[Any, ...]) -> ModelVersion:
    return ModelVersion(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), json.loads(r[8]),
                        json.loads(r[9]), json.loads(r[10]), r[11], r[12], r[13])


def versions(conn: sqlite3.Connection, model: str | None = None) -> list[ModelVersion]:
    """Recorded versions, newest first."""
    where, params = ("WHERE model = ?", (model,)) if model else ("", ())
    return [_row(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM model_version {where} ORDER BY trained_at DESC, rowid DESC", params)]


def listing(conn: sqlite3.Connection, model: str) -> list[tuple[str, str]]:
    """(version, trained at) of a model's versions, newest first, without their reports."""
    return [(v, at) for v, at in conn.execute(
        "SELECT version, trained_at FROM model_version WHERE model = ? ORDER BY trained_at DESC, rowid DESC", (model,))]


def latest(conn: sqlite3.Connection, model: str) -> ModelVersion | None:
    found = versions(conn, model)
    return found[0] if found else None


def get(conn: sqlite3.Connection, version: str) -> ModelVersion:
    row = conn.execute(f"SELECT {_COLUMNS} FROM model_version WHERE version = ?", (version,)).fetchone()
    if row is None:
        raise KeyError(f"no model version {version}")
    return _row(row)


def drift_history(conn: sqlite3.Connection, version: str) -> list[tuple[str, dict[str, float]]]:
    return [(at, json.loads(p)) for at, p in conn.execute(
        "SELECT checked_at, psi FROM model_drift WHERE version = ? ORDER BY checked_at", (version,))]


def save_drift(cache: Any, v: ModelVersion, values: dict[str, float], threshold: float = DRIFT_THRESHOLD,
               now: datetime | None = None) -> str | None:
    """Store a drift check; over ``threshold`` on any feature, raise an alert (once a day per
    version). Returns the alert id when one was raised."""
    from c360_desktop.core.alerts.pipeline import ALERT_NAMESPACE, NewAlert, store_alert

    now = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    worst = max(values.values(), default=0.0)
    with cache.writer() as conn:
        conn.execute("INSERT OR REPLACE INTO model_drift (version, checked_at, psi, worst) VALUES (?, ?, ?, ?)",
                     (v.version, stamp, json.dumps(values), worst))
        if worst <= threshold:
            return None
        shifted = sorted(((f, x) for f, x in values.items() if x > threshold), key=lambda fx: -fx[1])
        alert_id = str(uuid.uuid5(ALERT_NAMESPACE, f"drift:{v.version}:{now:%Y-%m-%d}"))
        title = f"The {v.model} model's customers have changed: retrain it"
        body = (f"{v.version} was trained on data to {v.data_to}. Population stability index over {threshold}: "
                + ", ".join(f"{f} {x:.2f}" for f, x in shifted[:5]))
        alert = NewAlert(alert_id, alert_id, None, DRIFT_ALERT_TYPE, "medium", title, body, stamp, stamp, ("drift",))
        return alert_id if store_alert(conn, alert, "local:models") else None  # else: alerted today already
