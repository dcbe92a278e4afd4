"""Models: ``c360 train``, ``c360 model``, ``c360 forecast`` and ``c360 clv``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import (
    CliError,
    date_type,
    need_analytics,
    open_services,
    print_json,
    read_csv,
    stderr_progress,
)


def cmd_train(args: argparse.Namespace) -> int:
    from c360_desktop.core.analytics.training import missing_libraries

    need_analytics(*missing_libraries(args.model))
    services = open_services(args)
    try:
        results = services.models.train(args.model, stderr_progress())
    except (ValueError, PermissionError) as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    if args.json:
        print_json(results if args.model == "all" else {"model": args.model, **results[args.model]})
        return 0
    for task, r in results.items():
        _print_training(task, r)
    return 0


def _print_training(task: str, r: dict[str, Any]) -> None:
    version = r["model_version"]
    if task == "churn":
        print(f"{version}: trained on the snapshot of {r['trained_as_of']}, validated on {r['validated_as_of']}; "
              f"{r['scored']:,} customers scored")
    elif task == "leads":
        print(f"{version}: trained on {r['trained_on']:,} closed leads, validated on the newest {r['validated_on']:,}; "
              f"{r['scored']:,} customers with open leads scored")
    elif task == "clv":
        print(f"{version}: {r['customers']:,} customers scored as of {r['as_of']}; expected spend over the next 12 "
              f"months JMD {r['total_expected_jmd']:,.0f} in all")
        ours = r["validation"]["ours"]
        print(f"  last 26 weeks: {ours['predicted_purchases']:,.0f} repeat purchases predicted, "
              f"{ours['actual_purchases']:,.0f} made")
        return
    elif task == "forecast":
        print(f"{version}: {r['series']} series forecast (all Jamaica and the parishes with enough history)")
        for name, m in r["validation"].items():
            print(f"  {name:16s} backtest MAPE {m['mape']:6.2f}%  MASE {m['mase']:.3f}")
        return
    elif task == "segments":
        print(f"{version}: {r['customers']:,} customers in {len(r['clusters'])} clusters")
        for c in r["clusters"]:
            print(f"  {c['name']:40s} {c['size']:8,d}")
        return
    for name, m in r["validation"].items():
        print(f"  {name:28s} accuracy {m['accuracy']:.4f}  ROC-AUC {m['roc_auc']:.4f}")


def cmd_model_list(args: argparse.Namespace) -> int:

    services = open_services(args)
    try:
        found = services.models.recorded(args.name)
    finally:
        services.close()
    rows = [{"version": v.version, "model": v.model, "trained_at": v.trained_at, "data_from": v.data_from,
             "data_to": v.data_to, "rows": v.rows, "features": v.features, "metrics": v.metrics,
             "content_hash": v.content_hash, "scored": v.scored, "seconds": v.seconds} for v in found]
    if args.json:
        print_json(rows)
    elif not rows:
        print("no model has been trained on this cache yet: c360 train all")
    else:
        for r in rows:
            print(f"{r['version']:22s} {r['trained_at']}  data {r['data_from'] or '...'} to {r['data_to']}  "
                  f"{r['rows']:>9,} rows  {r['scored']:>9,} scored  {r['seconds']:7.1f} s  sha256 {r['content_hash'][:16]}")
    return 0


def cmd_model_drift(args: argparse.Namespace) -> int:
    from c360_desktop.core.analytics.registry import DRIFT_THRESHOLD
    threshold = DRIFT_THRESHOLD if args.threshold is None else args.threshold
    services = open_services(args)
    try:
        found = services.models.check_drift(threshold)
    finally:
        services.close()
    if args.json:
        print_json(found)
    elif not found:
        print("no model to check: c360 train all")
    else:
        for d in found:
            shifted = sorted(d["psi"].items(), key=lambda kv: -kv[1])[:3]
            flag = "ALERT" if d["worst"] > threshold else "ok"
            print(f"{d['version']:22s} worst PSI {d['worst']:.3f} {flag:5s} "
                  + ", ".join(f"{f} {x:.3f}" for f, x in shifted))
    return 0


def cmd_model_evaluate(args: argparse.Namespace) -> int:
    need_analytics("sklearn", "xgboost")
    from c360_desktop.core.analytics.tabular import ModelError, evaluate, load_table

    path = Path(args.data)
    if not path.exists():
        raise CliError(f"{path}: no such file")
    if args.folds < 2:
        raise CliError("--folds: at least 2")
    try:
        frame, y, positive = load_table(path, args.label, args.id_column)
        result = evaluate(frame, y, folds=args.folds, progress=stderr_progress().update)
    except ModelError as exc:
        raise CliError(str(exc)) from None
    result.update({"task": args.task, "label": args.label, "positive_class": positive})
    if args.json:
        print_json(result)
    else:
        print(f"{args.task}: {result['rows']:,} rows, {result['positives']:,} '{positive}', {args.folds}-fold")
        for name in ("ours", "logistic_regression"):
            m = result[name]
            print(f"{name:20s} accuracy {m['accuracy']:.4f}  ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  "
                  f"Brier {m['brier']:.4f}  top-20% capture {m['top20_capture']:.4f}")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    need_analytics("statsmodels")
    from c360_desktop.core.analytics.forecast import ForecastError, as_dict, forecast, load_series

    path = Path(args.series)
    frame = read_csv(path)
    try:
        result = as_dict(forecast(load_series(frame, args.date_column, args.value_column), args.horizon,
                                  args.backtest, progress=stderr_progress().update))
    except ForecastError as exc:
        raise CliError(f"{path}: {exc}") from None
    if args.json:
        print_json(result)
    else:
        for row in result["forecast"]:
            print(f"{row['date']}  {row['value']:12,.2f}  (90%: {row['lower_90']:,.2f} to {row['upper_90']:,.2f})")
        print(f"backtest ({args.backtest} origins, {args.horizon} steps):")
        for name, m in result["backtest"].items():
            print(f"  {name:15s} MAPE {m['mape']:6.2f}%  MASE {m['mase']:.3f}")
    return 0


def cmd_clv_fit(args: argparse.Namespace) -> int:
    need_analytics("scipy")
    from c360_desktop.core.analytics.clv import ClvError, report, summarise

    path = Path(args.transactions)
    frame = read_csv(path)
    if args.holdout_end is not None and args.holdout_end <= args.calibration_end:
        raise CliError("--holdout-end must come after --calibration-end")
    try:
        summary = summarise(frame, args.customer_column, args.date_column, args.amount_column, args.calibration_end,
                            args.holdout_end, args.time_unit)
        result = report(summary, with_spend=args.amount_column is not None)
    except ClvError as exc:
        raise CliError(f"{path}: {exc}") from None
    if args.json:
        print_json(result)
    else:
        bg = result["bgnbd"]
        print(f"BG/NBD  r {bg['r']:.4f}  alpha {bg['alpha']:.4f}  a {bg['a']:.4f}  b {bg['b']:.4f}  "
              f"log-likelihood {bg['log_likelihood']:.2f}  ({result['customers']:,} customers)")
        if "gamma_gamma" in result:
            gg = result["gamma_gamma"]
            print(f"Gamma-Gamma  p {gg['p']:.4f}  q {gg['q']:.4f}  v {gg['v']:.4f}")
        if "holdout" in result:
            h = result["holdout"]
            print(f"holdout to {h['end']}: predicted {h['predicted_total']:,.1f} repeat purchases, actual "
                  f"{h['actual_total']:,.0f}; mean absolute error per customer {h['mean_absolute_error']:.3f}")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("train", help="train a model on the cache and score its customers",
                       description="Each run is recorded in the cache's model registry (c360 model list) "
                       "with its data window, features, metrics and a content hash.")
    p.add_argument("model", choices=("churn", "clv", "leads", "forecast", "segments", "all"),
                   help="churn (risk with reasons), clv (expected spend over the next 12 months), leads "
                   "(chance of winning each open lead), forecast (monthly sales, all Jamaica and by parish), "
                   "segments (RFM and named clusters), or all of them")
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("model", help="the app's churn and lead pipelines on any table; the model registry and drift")
    model = p.add_subparsers(dest="model_command", required=True)
    p = model.add_parser("evaluate", help="stratified k-fold cross-validation of the pipeline on a CSV table",
                         description="Prints accuracy, ROC-AUC, PR-AUC, Brier score and top-20% capture, beside "
                                     "a logistic-regression baseline.")
    p.add_argument("--task", choices=("churn", "lead"), required=True)
    p.add_argument("--data", required=True, metavar="FILE.csv")
    p.add_argument("--label", required=True, metavar="COL", help="the yes/no column to predict")
    p.add_argument("--id-column", metavar="COL", help="a column to leave out of the features")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_evaluate)
    p = model.add_parser("list", help="the model versions trained on a cache, newest first, with their "
                         "data window, size, time and content hash")
    p.add_argument("name", nargs="?", choices=("churn", "clv", "lead", "forecast", "segments"))
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_list)
    p = model.add_parser("drift", help="population stability index per feature of each model against today's "
                         "customers; an alert in the app over the threshold")
    p.add_argument("--threshold", type=float, default=None, help="PSI that raises an alert (default 0.25)")
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_drift)

    p = sub.add_parser("forecast", help="forecast a series (ETS, SARIMA and Theta combined) with a backtest",
                       description="One row per period. Prints the forecast with 90%% intervals and the backtest "
                                   "MAPE and MASE of each model and of seasonal naive.")
    p.add_argument("--series", required=True, metavar="FILE.csv")
    p.add_argument("--date-column", required=True, metavar="COL")
    p.add_argument("--value-column", required=True, metavar="COL")
    p.add_argument("--horizon", required=True, type=int, metavar="H")
    p.add_argument("--backtest", type=int, default=12, metavar="K", help="rolling origins (default 12)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser("clv", help="customer lifetime value models (BG/NBD and Gamma-Gamma)")
    clv = p.add_subparsers(dest="clv_command", required=True)
    p = clv.add_parser("fit", help="fit BG/NBD (and Gamma-Gamma with amounts) to a transaction log",
                       description="One row per transaction. Purchases on one day count as one.")
    p.add_argument("--transactions", required=True, metavar="FILE.csv")
    p.add_argument("--customer-column", required=True, metavar="COL")
    p.add_argument("--date-column", required=True, metavar="COL")
    p.add_argument("--amount-column", metavar="COL")
    p.add_argument("--calibration-end", required=True, type=date_type, metavar="DATE")
    p.add_argument("--holdout-end", type=date_type, metavar="DATE")
    p.add_argument("--time-unit", choices=("week", "day"), default="week")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clv_fit)

