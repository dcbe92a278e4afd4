"""Forecasting on statsmodels' elec_equip (euro-area electrical equipment orders, monthly,
1995-2016), rolling-origin backtest, every model in the same run.

    ours            the mean of ETS, SARIMA and Theta (core/analytics/forecast.py)
    ets / sarima / theta / seasonal naive, each on its own

24 origins (the last 24 months before the final 12), 12 months ahead from each.

    python -m benchmarks.bench_forecast
"""

from __future__ import annotations

import time

import pandas as pd

from c360_desktop.core.analytics.forecast import MODELS, forecast


def main() -> int:
    from statsmodels.datasets import elec_equip

    series = elec_equip.load().data.iloc[:, 0]
    series.index = pd.DatetimeIndex(series.index)
    started = time.perf_counter()
    f = forecast(series, horizon=12, backtest=24)
    took = time.perf_counter() - started
    print(f"elec_equip: {len(series)} months; 24 origins x 12 months ahead; {took:.1f} s")
    for name in ("ours", *MODELS, "seasonal_naive"):
        m = f.backtest[name]
        print(f"{name:15s} MAPE {m['mape']:6.3f}%  MASE {m['mase']:.4f}")
    best = min(MODELS, key=lambda m: f.backtest[m]["mase"])
    ours, naive = f.backtest["ours"], f.backtest["seasonal_naive"]
    print(f"against seasonal naive: MAPE {ours['mape'] / naive['mape'] - 1:+.1%}, MASE {ours['mase'] / naive['mase'] - 1:+.1%}; "
          f"against the best single model ({best}): MASE {ours['mase'] / f.backtest[best]['mase'] - 1:+.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
