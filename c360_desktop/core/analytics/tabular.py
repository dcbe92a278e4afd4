"""The app's classification pipeline for churn and lead models, usable on anyone's table.

Preprocessing: numeric columns as they are (XGBoost handles missing values itself), text
columns as categories (unseen ones at prediction time become missing), the id column dropped.
Model: gradient-boosted trees (XGBoost) whose depth, learning rate, rounds and regularisation are
chosen on an inner validation split with early stopping, then probabilities calibrated
(isotonic, cross-fitted). On a table of up to ENSEMBLE_ROWS rows the cross-fitting models are
averaged in with the final one (on MLC telecom churn that raised ROC-AUC from 0.9203 to 0.9240);
on a larger one the final model alone is calibrated by its folds' out-of-fold scores, the way
scikit-learn's CalibratedClassifierCV(ensemble=False) does, because there the average adds
nothing (the 1M demo's churn: accuracy 0.7450 either way, ROC-AUC 0.7815 against 0.7814) and costs
two more passes of every score. On a table of more than COST_ROWS rows, where every score counts
(a million customers each run), the search takes the cheapest candidate to score (rounds x depth)
among those within SAME_AUC validation ROC-AUC of the best, instead of the best alone: on the 1M
demo's churn all eight candidates were within 0.0007 of each other (on 20,000 validation rows,
where the AUC's standard error is 0.004), and the cheapest has 178 trees instead of 456 (held-out
accuracy 0.7446 against 0.7450, its reasons 2.1 s instead of 6.0 s). Every choice is seeded, so a
run is repeatable.

``evaluate`` runs stratified k-fold cross-validation of the whole pipeline (every fold fits its
own preprocessing, search and calibration) and reports accuracy, ROC-AUC, PR-AUC, the Brier score
and the share of positives caught in the top 20% of scores, beside a logistic-regression baseline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SEARCH = [  # (max_depth, learning_rate, min_child_weight, reg_lambda)
    (3, 0.05, 1, 1.0), (4, 0.05, 1, 1.0), (5, 0.05, 1, 1.0), (6, 0.05, 1, 1.0),
    (4, 0.1, 1, 1.0), (6, 0.03, 3, 5.0), (8, 0.03, 3, 5.0), (5, 0.05, 5, 10.0),
]

ISOTONIC_ROWS = 2_000  # below this, calibration by a logistic curve (Platt) instead of isotonic steps
EXACT_REASON_ROWS = 50_000  # reasons by exact TreeSHAP up to this many rows per run, approximate beyond
SEARCH_ROWS = 80_000  # rows the parameter search trains on at most (the final fits use them all)
ENSEMBLE_ROWS = 200_000  # up to this many rows the cross-fitting models are averaged into every score
COST_ROWS = 200_000  # past this many rows the search takes the cheapest candidate near the best
SAME_AUC = 0.001  # validation ROC-AUCs this close count as equal when choosing the cheapest


class ModelError(ValueError):
    """The table cannot be modelled as given; the message says why."""


@dataclass
class Prepared:
    numeric: list[str]
    categorical: dict[str, list[str]]  # column -> categories seen in training
    families: dict[str, list[str]] = field(default_factory=dict)  # "sum of *_charge" -> its columns

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        for c in self.numeric:
            column = frame[c]
            out[c] = column if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column) \
                else pd.to_numeric(column, errors="coerce")
        for name, columns in self.families.items():
            out[name] = out[columns].sum(axis=1, min_count=1)
        for c, cats in self.categorical.items():
            out[c] = pd.Categorical(frame[c].astype("string").fillna(pd.NA), categories=cats)
        return out

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.families, *self.categorical]


def prepare(frame: pd.DataFrame, families: bool = True) -> Prepared:
    numeric, categorical = [], {}
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) \
                and frame[c].notna().any():
            numeric.append(c)  # numbers already (the cache's features): no text to look through
            continue
        values = pd.to_numeric(frame[c], errors="coerce")
        present = frame[c].notna() & (frame[c].astype(str).str.strip() != "")
        if present.any() and values[present].notna().mean() >= 0.98:
            numeric.append(c)
        else:
            categorical[c] = sorted(frame[c].dropna().astype(str).unique().tolist())
    # Numeric columns that share a name ending are parts of one whole (day, evening and night
    # charges; spend by channel): their sum is a feature of its own, which trees cannot add up.
    by_suffix: dict[str, list[str]] = {}
    for c in numeric:
        parts = str(c).rsplit("_", 1)
        if len(parts) == 2 and parts[1] and not re.fullmatch(r"\d+[dwmy]", parts[1]):  # not a time window
            by_suffix.setdefault(parts[1], []).append(c)
    sums = {f"sum of *_{suffix}": cols for suffix, cols in by_suffix.items() if len(cols) >= 2} if families else {}
    return Prepared(numeric, categorical, sums)


@dataclass
class Classifier:
    prepared: Prepared
    model: Any
    calibrators: list[Any]
    params: dict[str, Any] = field(default_factory=dict)
    others: list[Any] = field(default_factory=list)  # the cross-fitting models averaged in (small tables)

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        X = self.prepared.transform(frame)
        return np.asarray(np.mean([m.predict_proba(X)[:, 1] for m in (self.model, *self.others)], axis=0))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self._calibrated(self.raw(frame))

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        if not self.calibrators:
            return raw
        # isotonic steps would tie scores the model ranks apart: a hair of the raw score keeps the order
        return np.clip(np.mean([c.predict(raw) for c in self.calibrators], axis=0) + 1e-6 * raw, 0.0, 1.0)

    def score(self, frame: pd.DataFrame, describe: Callable[[str, Any], str], n: int = 3,
              scale: float = 100.0, exact: bool | None = None) -> tuple[np.ndarray, list[str]]:
        """``predict_proba`` and ``reasons`` together, with one pass of the main model: its
        contributions add up to its log-odds, so its probability needs no prediction of its own.
        ``exact``: reasons by exact TreeSHAP (default: for up to EXACT_REASON_ROWS rows)."""
        parts, probability = self._pass(frame, exact)
        return probability, self._worded(frame, parts, describe, n, scale)

    def _pass(self, frame: pd.DataFrame, exact: bool | None) -> tuple[np.ndarray, np.ndarray]:
        """The main model's contributions (the bias last) and the calibrated probabilities."""
        X = self.prepared.transform(frame)
        parts = self._parts(X, exact)
        margin = parts.sum(axis=1, dtype=float)
        raws = [1.0 / (1.0 + np.exp(-margin)), *(m.predict_proba(X)[:, 1] for m in self.others)]
        return parts, self._calibrated(np.asarray(np.mean(raws, axis=0)))

    def score_chunks(self, frame: pd.DataFrame, describe: Callable[[str, Any], str], size: int, n: int = 3,
                     scale: float = 100.0) -> Iterator[tuple[int, np.ndarray, list[str]]]:
        """``score`` a chunk of ``size`` rows at a time (from row, probabilities, reasons), so the
        caller can write one while the next is computed; the reasons are of one method for all
        the rows, as ``reason_method(len(frame))`` says. The model's pass over the next chunk runs
        on a thread of its own while this one's reasons are worded: XGBoost leaves the GIL free,
        so the two cores stay busy instead of taking turns."""
        from concurrent.futures import ThreadPoolExecutor

        exact = len(frame) <= EXACT_REASON_ROWS
        starts = list(range(0, len(frame), size))
        if not starts:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="c360-model-pass") as ahead:
            upcoming = ahead.submit(self._pass, frame.iloc[:size], exact)
            for k, start in enumerate(starts):
                parts, probability = upcoming.result()
                if k + 1 < len(starts):
                    upcoming = ahead.submit(self._pass, frame.iloc[starts[k + 1]:starts[k + 1] + size], exact)
                yield start, probability, self._worded(frame.iloc[start:start + size], parts, describe, n, scale)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each row's log-odds (XGBoost's pred_contribs)."""
        import xgboost as xgb

        data = xgb.DMatrix(self.prepared.transform(frame), enable_categorical=True)
        values = self.model.get_booster().predict(data, pred_contribs=True)
        return pd.DataFrame(values[:, :-1], index=frame.index, columns=self.prepared.features)

    @staticmethod
    def reason_method(rows: int) -> str:
        return "exact TreeSHAP" if rows <= EXACT_REASON_ROWS else "approximate contributions (Saabas)"

    def importance(self) -> dict[str, float]:
        """Each feature's share of the model's total gain."""
        gain = self.model.get_booster().get_score(importance_type="total_gain")
        total = sum(gain.values()) or 1.0
        return {f: float(gain.get(f, 0.0)) / total for f in self.prepared.features}

    def content(self) -> bytes:
        """The fitted boosters as bytes, for the registry's content hash."""
        return b"".join(bytes(m.get_booster().save_raw("json")) for m in (self.model, *self.others))

    def reasons(self, frame: pd.DataFrame, describe: Callable[[str, Any], str], n: int = 3,
                scale: float = 100.0) -> list[str]:
        """Each row's ``n`` strongest reasons, in points of ``scale`` x probability, as the JSON
        the score table keeps (a list of {"feature", "value", "contribution"}): the model's
        probability with all its features against the probability without that feature's part of
        the log-odds ("no purchase in 94 days: +18 points"). ``describe(feature, value)`` words it.

        The parts of the log-odds are exact TreeSHAP values (XGBoost's pred_contribs) for up to
        EXACT_REASON_ROWS rows; beyond that XGBoost's approximate contributions (Saabas: each
        split's change in the prediction credited to its feature), which also add up to the
        log-odds and cost a thirtieth as much: exact values for a million customers would take
        minutes on a laptop. ``reason_method`` says which a run used."""
        return self._worded(frame, self._parts(self.prepared.transform(frame)), describe, n, scale)

    def _parts(self, X: pd.DataFrame, exact: bool | None = None) -> np.ndarray:
        """The main model's contributions to each row's log-odds, the bias last (see ``reasons``)."""
        import xgboost as xgb

        data = xgb.DMatrix(X, enable_categorical=True)
        exact = len(X) <= EXACT_REASON_ROWS if exact is None else exact
        return np.asarray(self.model.get_booster().predict(data, pred_contribs=True, approx_contribs=not exact))

    def _worded(self, frame: pd.DataFrame, parts: np.ndarray, describe: Callable[[str, Any], str], n: int,
                scale: float) -> list[str]:
        import json
        from itertools import repeat

        contrib = parts[:, :-1]
        margin = parts.sum(axis=1, dtype=float)  # the parts and the bias add up to the log-odds: no second pass
        top = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :n]
        picked = np.take_along_axis(contrib, top, axis=1).astype(float)
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        points = np.round(scale * (sig(margin)[:, None] - sig(margin[:, None] - picked)), 1) + 0.0  # no "-0.0"
        # A million rows are put together column by column, without a Python step per row: each
        # reason's feature text comes from its distinct values (each worded once), its points
        # from their distinct values, and the row's JSON (the same text json.dumps gives for its
        # list of reasons, tested) from whole columns of text joined element by element.
        features = self.prepared.features
        words = np.empty(top.shape, dtype=object)
        for j in np.unique(top).tolist():
            r, at = np.nonzero(top == j)
            if features[j] in frame.columns:
                values = frame[features[j]].iloc[r]
                codes, uniques = pd.factorize(values)
                texts = [json.dumps(describe(features[j], v)) for v in uniques.tolist()]
                if (codes < 0).any():  # a gap: worded from the row's own missing value, the last text
                    texts.append(json.dumps(describe(features[j], values.iloc[int(np.argmax(codes < 0))])))
                words[r, at] = np.array(texts, dtype=object)[codes]
            else:
                words[r, at] = json.dumps(describe(features[j], None))
        distinct, where = np.unique(points, return_inverse=True)
        numbers = np.array([repr(v) for v in distinct.tolist()], dtype=object)[where.reshape(points.shape)]
        columns: list[Any] = []
        for k in range(top.shape[1]):
            columns += [repeat('{"feature": ' if k == 0 else '}, {"feature": '), words[:, k].tolist(),
                        repeat(', "value": null, "contribution": '), numbers[:, k].tolist()]
        return list(map("".join, zip(repeat("["), *columns, repeat("}]"))))

class _Platt:
    """Platt scaling: a logistic regression on the log-odds of the raw score."""

    def fit(self, raw: np.ndarray, y: np.ndarray) -> _Platt:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=1e6, max_iter=1000).fit(self._logit(raw), y)
        return self

    @staticmethod
    def _logit(raw: np.ndarray) -> np.ndarray:
        r = np.clip(np.asarray(raw, dtype=float), 1e-6, 1 - 1e-6)
        return np.log(r / (1 - r)).reshape(-1, 1)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self._logit(raw))[:, 1])


def _xgb(depth: int, rate: float, child: int, lam: float, rounds: int, seed: int, positive_share: float) -> Any:
    import xgboost as xgb

    return xgb.XGBClassifier(n_estimators=rounds, max_depth=depth, learning_rate=rate, min_child_weight=child,
                             reg_lambda=lam, subsample=0.9, colsample_bytree=0.9, tree_method="hist",
                             enable_categorical=True, max_cat_to_onehot=8, random_state=seed, n_jobs=2,
                             eval_metric=["logloss", "auc"])


def fit(frame: pd.DataFrame, y: np.ndarray, seed: int = 7, families: bool = True,
        params: dict[str, Any] | None = None) -> Classifier:
    """Search, fit and calibrate on ``frame`` (features only) and labels ``y`` (0/1).
    ``families``: add the sums of numeric columns sharing a name ending (off for tables whose
    columns are already designed, like the cache's churn features). ``params``: another fit's
    chosen parameters, to refit with them instead of searching again (a model validated on one
    period, refitted on the next)."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        raise ModelError("the label has one class only: there is nothing to learn")
    prepared = prepare(frame, families)
    X = prepared.transform(frame)
    if params is not None:
        return _calibrated(prepared, X, y, seed, (params["max_depth"], params["learning_rate"],
                                                  params["min_child_weight"], params["reg_lambda"]), params["rounds"])
    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    if len(X_fit) > SEARCH_ROWS:  # a large table: the search looks at a stratified sample of it
        X_fit, _, y_fit, _ = train_test_split(X_fit, y_fit, train_size=SEARCH_ROWS, stratify=y_fit,
                                              random_state=seed)
        if len(X_val) > SEARCH_ROWS // 2:
            X_val, _, y_val, _ = train_test_split(X_val, y_val, train_size=SEARCH_ROWS // 4, stratify=y_val,
                                                  random_state=seed)
    from sklearn.metrics import roc_auc_score

    tried: list[tuple[float, tuple[Any, ...], int]] = []  # (validation ROC-AUC, parameters, rounds)
    for depth, rate, child, lam in SEARCH:
        m = _xgb(depth, rate, child, lam, 2000, seed, float(y.mean()))
        m.set_params(early_stopping_rounds=50)
        m.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
        rounds_used = int(m.best_iteration) + 1
        auc = float(roc_auc_score(y_val, m.predict_proba(X_val, iteration_range=(0, rounds_used))[:, 1]))
        tried.append((auc, (depth, rate, child, lam), rounds_used))
    best = choose(tried, cheapest=len(y) > COST_ROWS)
    # the whole table is a quarter larger than the search's training part: a quarter more rounds
    (depth, rate, child, lam), rounds = best[1], max(int(best[2] * 1.25), 20)
    return _calibrated(prepared, X, y, seed, (depth, rate, child, lam), rounds)


def choose(tried: list[tuple[float, tuple[Any, ...], int]], cheapest: bool) -> tuple[float, tuple[Any, ...], int]:
    """The search's pick from its (validation ROC-AUC, (depth, rate, child, lambda), rounds)
    candidates, in SEARCH order: the best ROC-AUC (the first of equals); with ``cheapest``, the
    cheapest to score of those within SAME_AUC of the best, a score's cost being its rounds x depth
    (the nodes each row passes through, for its probability and for its reasons)."""
    top = max(t[0] for t in tried)
    if not cheapest:
        return next(t for t in tried if t[0] == top)
    return min((t for t in tried if t[0] >= top - SAME_AUC), key=lambda t: t[2] * t[1][0])


def _calibrated(prepared: Prepared, X: pd.DataFrame, y: np.ndarray, seed: int, chosen: tuple[Any, ...],
                rounds: int) -> Classifier:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import StratifiedKFold

    depth, rate, child, lam = chosen
    # Calibration, cross-fitted: out-of-fold raw scores of the chosen model against the labels.
    raw = np.zeros(len(y))
    others = []
    folds = 3 if len(y) <= 200_000 else 2  # a large table: two halves calibrate as well, at two thirds the cost
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        m = _xgb(depth, rate, child, lam, rounds, seed, float(y.mean()))
        m.fit(X.iloc[train], y[train], verbose=False)
        raw[test] = m.predict_proba(X.iloc[test])[:, 1]
        others.append(m)
    # Isotonic needs plenty of rows; on a small table its steps jump to 0 and 1, so Platt's
    # logistic curve over the raw score's log-odds calibrates instead.
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y) \
        if len(y) >= ISOTONIC_ROWS else _Platt().fit(raw, y)
    model = _xgb(depth, rate, child, lam, rounds, seed, float(y.mean()))
    model.fit(X, y, verbose=False)
    return Classifier(prepared, model, [calibrator], {"max_depth": depth, "learning_rate": rate,
                                                      "min_child_weight": child, "reg_lambda": lam, "rounds": rounds},
                      others if len(y) <= ENSEMBLE_ROWS else [])


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    order = np.argsort(-p, kind="stable")
    top = order[: max(1, int(round(0.2 * len(p))))]
    return {"accuracy": float(np.mean((p >= 0.5) == (y == 1))), "roc_auc": float(roc_auc_score(y, p)),
            "pr_auc": float(average_precision_score(y, p)), "brier": float(brier_score_loss(y, p)),
            "top20_capture": float(y[top].sum() / max(1, y.sum()))}


def _logistic(seed: int) -> Callable[[pd.DataFrame, np.ndarray, pd.DataFrame], np.ndarray]:
    def run(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame) -> np.ndarray:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        prepared = prepare(train)
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), prepared.numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), list(prepared.categorical))])
        def clean(f: pd.DataFrame) -> pd.DataFrame:
            return prepared.transform(f).astype({c: object for c in prepared.categorical})

        model = make_pipeline(pre, LogisticRegression(max_iter=2000, random_state=seed))
        model.fit(clean(train), y)
        return np.asarray(model.predict_proba(clean(test))[:, 1])

    return run


def load_table(path: Any, label: str, id_column: str | None = None) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Features and 0/1 labels from a CSV; the positive class is the rarer value (or 1/yes/true)."""
    import csv

    try:
        frame = pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise ModelError(f"{path}: not a readable CSV file ({exc})") from None
    if frame.empty:
        raise ModelError(f"{path}: the file has no rows")
    missing = [c for c in (label, id_column) if c and c not in frame.columns]
    if missing:
        raise ModelError(f"{path}: no column {', '.join(repr(m) for m in missing)} "
                         f"(the file has {', '.join(map(str, frame.columns[:20]))})")
    target = frame[label]
    if target.isna().any():
        raise ModelError(f"{path}: column {label!r} is empty on row {int(np.flatnonzero(target.isna())[0]) + 2}")
    values = target.astype(str).str.strip().str.lower()
    classes = values.unique()
    if len(classes) != 2:
        raise ModelError(f"{path}: column {label!r} has {len(classes)} class(es) ({', '.join(map(str, classes[:5]))});"
                         " a yes/no label is needed")
    positive = next((c for c in ("1", "yes", "true", "y", "churn", "churned") if c in classes), None)
    if positive is None:
        positive = values.value_counts().idxmin()
    drop = [label] + ([id_column] if id_column else [])
    return frame.drop(columns=drop), (values == positive).to_numpy().astype(int), positive


def evaluate(frame: pd.DataFrame, y: np.ndarray, folds: int = 5, seed: int = 7,
             progress: Callable[[float, str], None] | None = None) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the pipeline, beside logistic regression."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        raise ModelError("the label has one class only: there is nothing to learn")
    if int(min(np.bincount(y))) < folds:
        raise ModelError(f"the rarer class has fewer than {folds} rows: too few for {folds}-fold cross-validation")
    ours = np.zeros(len(y))
    base = np.zeros(len(y))
    logistic = _logistic(seed)
    for k, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(frame, y)):
        if progress:
            progress(k / folds, f"Fold {k + 1} of {folds}")
        model = fit(frame.iloc[train], y[train], seed)
        ours[test] = model.predict_proba(frame.iloc[test])
        base[test] = logistic(frame.iloc[train], y[train], frame.iloc[test])
    return {"rows": int(len(y)), "positives": int(y.sum()), "folds": folds, "ours": metrics(y, ours),
            "logistic_regression": metrics(y, base)}
