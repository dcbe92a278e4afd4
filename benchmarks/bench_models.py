"""Full retrain of every model, and scoring, on a demo cache of N customers (target for 1M: all
models retrained in under 5 minutes, 1M customers scored in under 30 s), beside baselines run on
the same data in the same run.

Ours: ``c360 train all`` (core/analytics/training.py): churn (two point-in-time snapshots, XGBoost
with its parameter search, calibration and a Random Forest baseline, refit, score), lifetime value
(BG/NBD and Gamma-Gamma, validated on the last 26 weeks, refit, score), leads, monthly forecasts
for all Jamaica and each parish, and segments. "Scoring" is each model's last phase, timed from
its progress messages: today's features read from the cache, predictions, three reasons per
customer, and the scores written with their version.

Baselines, on the same churn snapshot:
  plain XGBoost     one fit with the library's defaults (no search, no calibration)
  Random Forest     scikit-learn, 200 trees
  row-by-row        reasons made one customer at a time with pandas, the way churn scoring was
                    first written (timed on 20,000 customers and reported per million)

Two runs by default on the same copy: the first on a cache without scores, the second replacing
the first's scores, as the weekly retrain does on a user's cache (its scoring figure is the one
users meet every week).

    python -m benchmarks.bench_models --customers 1000000 [--runs 2]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import demo_cache


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="train on the benchmark cache itself (else a copy)")
    parser.add_argument("--cache", help="a demo cache to use instead of the benchmark's own (it is copied)")
    parser.add_argument("--runs", type=int, default=2,
                        help="retrain this many times on the same copy (the second replaces the first's scores)")
    args = parser.parse_args()
    from c360_desktop.core.analytics.training import TASKS, train
    from c360_desktop.core.progress import Progress
    from c360_desktop.core.storage.cache import open_cache

    source = Path(args.cache) if args.cache else demo_cache(args.customers)
    work = Path(tempfile.mkdtemp(prefix="c360-bench-models-"))
    path = source if args.keep else work / "cache.db"
    if not args.keep:
        shutil.copyfile(source, path)
    cache = open_cache(path)
    scorings: list[float] = []
    for run in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"== run {run} of {args.runs}" + (" (the previous run's scores are replaced: the weekly "
                  "retrain's steady state)" if run > 1 else " (a cache without scores)"), flush=True)
        marks: list[tuple[float, str]] = []
        started = time.perf_counter()

        def progress(fraction: float, message: str, marks: list[tuple[float, str]] = marks,
                     started: float = started) -> None:
            marks.append((time.perf_counter(), message))
            print(f"  {marks[-1][0] - started:7.1f} s  {message}", file=sys.stderr, flush=True)

        results = train(cache, "all", Progress(progress))
        total = time.perf_counter() - started
        marks.append((time.perf_counter(), "end"))
        per_task: dict[str, dict[str, float]] = {}
        for task in TASKS:
            mine = [(t, m) for t, m in marks if m.startswith(f"{task}:")]
            nxt = mine[-1][0]  # its "Done"
            score_from = next((t for t, m in mine if m.startswith(f"{task}: Scoring")), None)
            per_task[task] = {"seconds": nxt - mine[0][0], "scoring": (nxt - score_from) if score_from else float("nan")}
        rows = {"churn": results["churn"]["scored"], "clv": results["clv"]["customers"], "leads": results["leads"]["scored"],
                "forecast": results["forecast"]["series"], "segments": results["segments"]["customers"]}
        (customers,) = cache.reader().execute("SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
        (transactions,) = cache.reader().execute('SELECT count(*) FROM "transaction"').fetchone()
        print(f"demo cache: {customers:,} customers, {transactions:,} transactions ({path})")
        print(f"{'model':10s} {'train+score s':>14s} {'scoring s':>10s} {'scored':>10s}")
        for task in TASKS:
            p = per_task[task]
            print(f"{task:10s} {p['seconds']:14.1f} {p['scoring']:10.1f} {rows[task]:10,d}")
        scoring = sum(p["scoring"] for t, p in per_task.items() if t != "forecast")
        scorings.append(scoring)
        scored = max(rows["churn"], rows["clv"], rows["segments"])
        print(f"all models retrained: {total:.1f} s (target < 300 s for 1M customers); peak memory {_peak_mib():,.0f} MiB")
        print(f"scoring (churn, CLV, leads, segments; reasons and writes included): {scoring:.1f} s for "
              f"{scored:,} customers (target < 30 s for 1M)")
        print(f"held-out: churn accuracy {results['churn']['validation']['ours']['accuracy']:.4f} "
              f"(majority {results['churn']['validation']['majority class']['accuracy']:.4f}), "
              f"lead ROC-AUC {results['leads']['validation']['ours']['roc_auc']:.4f} "
              f"(rule score {results['leads']['validation']['rule score']['roc_auc']:.4f}), forecast MAPE "
              f"{results['forecast']['validation']['ours']['mape']:.2f}% "
              f"(seasonal naive {results['forecast']['validation']['seasonal_naive']['mape']:.2f}%)")

    if len(scorings) > 1:
        print(f"scoring, run by run: {scorings[0]:.1f} s on a cache without scores, "
              + ", ".join(f"{s:.1f} s" for s in scorings[1:]) + " replacing the previous run's (the weekly retrain)")

    # ---- baselines on the churn snapshot ----
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier

    from c360_desktop.core.analytics.churn import (
        HORIZON_DAYS,
        _reason,
        labels,
        latest_day,
        snapshot,
    )
    from c360_desktop.core.analytics.tabular import fit

    conn = cache.reader()
    at = latest_day(conn)
    from datetime import timedelta

    valid_at = at - timedelta(days=HORIZON_DAYS)
    x = snapshot(conn, valid_at)
    y = labels(conn, x.index, valid_at)
    model = fit(x.iloc[:50_000], y[:50_000], 7, families=False)  # for the row-by-row reasons
    prepared = model.prepared
    X = prepared.transform(x)
    t0 = time.perf_counter()
    xgb.XGBClassifier(tree_method="hist", enable_categorical=True, n_jobs=2, random_state=7).fit(X, y)
    plain = time.perf_counter() - t0
    codes = X.copy()
    for c in prepared.categorical:
        codes[c] = codes[c].cat.codes
    t0 = time.perf_counter()
    RandomForestClassifier(n_estimators=200, min_samples_leaf=5, n_jobs=2, random_state=7).fit(
        codes.fillna(-1).to_numpy(float), y)
    forest = time.perf_counter() - t0
    sample = x.iloc[:20_000]
    from c360_desktop.core.analytics import tabular

    exact_rows = tabular.EXACT_REASON_ROWS
    t0 = time.perf_counter()
    model.reasons(sample, _reason)
    ours_reasons = time.perf_counter() - t0
    tabular.EXACT_REASON_ROWS = 0  # the approximate contributions used beyond EXACT_REASON_ROWS rows
    t0 = time.perf_counter()
    model.reasons(sample, _reason)
    approx_reasons = time.perf_counter() - t0
    tabular.EXACT_REASON_ROWS = exact_rows
    t0 = time.perf_counter()
    contrib = model.contributions(sample)
    margin = np.asarray(model.model.predict(prepared.transform(sample), output_margin=True))
    for k in range(len(sample)):  # the first version's loop
        top = contrib.iloc[k].abs().sort_values(ascending=False).index[:3]
        with_all = 1 / (1 + np.exp(-margin[k]))
        [{"feature": _reason(f, sample.iloc[k].get(f)), "value": None,
          "contribution": round(float(100 * (with_all - 1 / (1 + np.exp(-(margin[k] - contrib.iloc[k][f]))))), 1)}
         for f in top]
    row_by_row = time.perf_counter() - t0
    today = snapshot(conn, at)
    t0 = time.perf_counter()
    model.score(today, _reason)
    model_only = time.perf_counter() - t0
    print(f"churn model alone on today's {len(today):,} customers (probabilities and reasons, in memory): "
          f"{model_only:.1f} s")
    print(f"churn snapshot of {len(x):,} customers, same run:")
    print(f"  ours (search, calibration, refit)  {per_task['churn']['seconds'] - per_task['churn']['scoring']:8.1f} s "
          "(two snapshots and the Random Forest baseline included)")
    print(f"  plain XGBoost, defaults            {plain:8.1f} s")
    print(f"  Random Forest, 200 trees           {forest:8.1f} s")
    per_million = 1e6 / len(sample)
    print(f"  reasons for {len(sample):,} customers: ours exact {ours_reasons:.2f} s ({ours_reasons * per_million:.0f} s "
          f"per million), ours approximate {approx_reasons:.2f} s ({approx_reasons * per_million:.0f} s per million), "
          f"row by row (exact) {row_by_row:.2f} s ({row_by_row * per_million:.0f} s per million)")
    cache.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
