"""Sales forecasting: ETS, SARIMA and Theta (statsmodels), combined, judged by a rolling backtest
against seasonal naive.

The forecast is the mean of the three models (a combination is rarely far from the best single
model and never has to guess which one that is). Prediction intervals are empirical: the spread
of the combination's own backtest errors at each step ahead (so they are as wide as the model
has actually been wrong). The backtest refits every model at each of ``backtest`` origins (the
last ones before the end of the series) and forecasts ``horizon`` steps from each; MAPE and MASE
(errors scaled by the in-sample seasonal-naive error) are reported for every model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np
import pandas as pd

MODELS = ("ets", "sarima", "theta")


class ForecastError(ValueError):
    """The series cannot be forecast as given; the message says why."""


def _period(index: pd.DatetimeIndex) -> int:
    freq = pd.infer_freq(index) or ""
    return {"M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "W": 52, "D": 7, "B": 5}.get(
        freq.split("-")[0], 12 if freq.startswith(("M", "Q")) is False and len(index) > 24 else 1)


def _fit_predict(name: str, y: pd.Series, horizon: int, period: int,
                 exog: np.ndarray | None = None) -> np.ndarray:
    """``exog``: regressors for the history and the horizon (rows len(y) + horizon), SARIMAX only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "sarimax":
            from statsmodels.tsa.statespace.sarimax import SARIMAX

            assert exog is not None
            positive = bool((y > 0).all())
            past, future = exog[: len(y)], exog[len(y): len(y) + horizon]
            model = SARIMAX(np.log(y.to_numpy(float)) if positive else y.to_numpy(float), exog=past,
                            order=(1, 1, 1), seasonal_order=(0, 1, 1, period))
            fc = np.asarray(model.fit(disp=False).forecast(horizon, exog=future))
            return np.exp(fc) if positive else fc
        if name == "ets":
            from statsmodels.tsa.holtwinters import ExponentialSmoothing

            seasonal = "mul" if (y > 0).all() else "add"
            model = ExponentialSmoothing(y.to_numpy(float), trend="add", damped_trend=True, seasonal=seasonal,
                                         seasonal_periods=period).fit()
            return np.asarray(model.forecast(horizon))
        if name == "sarima":
            from statsmodels.tsa.statespace.sarimax import SARIMAX

            model = SARIMAX(np.log(y.to_numpy(float)) if (y > 0).all() else y.to_numpy(float),
                            order=(1, 1, 1), seasonal_order=(0, 1, 1, period))
            fc = np.asarray(model.fit(disp=False).forecast(horizon))
            return np.exp(fc) if (y > 0).all() else fc
        if name == "theta":
            from statsmodels.tsa.forecasting.theta import ThetaModel

            series = pd.Series(y.to_numpy(float), index=pd.RangeIndex(len(y)))
            return np.asarray(ThetaModel(series, period=period).fit().forecast(horizon))
        if name == "seasonal_naive":
            values = y.to_numpy(float)
            return np.array([values[len(values) - period + (h % period)] for h in range(horizon)])
    raise ForecastError(f"unknown model {name!r}")


def combined(y: pd.Series, horizon: int, period: int, exog: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every model's forecast and ours, the mean of ETS, SARIMA (SARIMAX with ``exog`` when given:
    the plain SARIMA is then kept as a baseline) and Theta."""
    out = {name: _fit_predict(name, y, horizon, period) for name in (*MODELS, "seasonal_naive")}
    if exog is not None:
        out["sarimax"] = _fit_predict("sarimax", y, horizon, period, exog)
    out["ours"] = np.mean([out["sarimax" if m == "sarima" and exog is not None else m] for m in MODELS], axis=0)
    return out


@dataclass
class Forecast:
    dates: list[str]
    point: list[float]
    lower: list[float]
    upper: list[float]
    backtest: dict[str, dict[str, float]]  # model -> mape, mase
    period: int
    paths: list[tuple[str, list[float]]] = dataclass_field(default_factory=list)  # backtest forecasts by origin


def load_series(frame: pd.DataFrame, date_column: str, value_column: str) -> pd.Series:
    for column in (date_column, value_column):
        if column not in frame.columns:
            raise ForecastError(f"no column {column!r} (the file has {', '.join(map(str, frame.columns[:20]))})")
    if frame.empty:
        raise ForecastError("the series is empty")
    dates = pd.to_datetime(frame[date_column].astype(str), errors="coerce", format="mixed")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise ForecastError(f"column {date_column!r}, row {bad[0] + 2}: {frame[date_column].iloc[bad[0]]!r} is not a date")
    values = pd.to_numeric(frame[value_column].astype(str).str.replace(",", ""), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if len(bad):
        raise ForecastError(f"column {value_column!r}, row {bad[0] + 2}: {frame[value_column].iloc[bad[0]]!r} "
                            "is not a number")
    series = pd.Series(values.to_numpy(float), index=pd.DatetimeIndex(dates)).sort_index()
    if series.index.has_duplicates:
        raise ForecastError(f"column {date_column!r}: a date appears twice ({series.index[series.index.duplicated()][0].date()})")
    return series


def forecast(series: pd.Series, horizon: int, backtest: int = 12,
             progress: Callable[[float, str], None] | None = None,
             regressors: Callable[[pd.DatetimeIndex], np.ndarray] | None = None) -> Forecast:
    """``regressors(dates)``: known-in-advance regressors for any dates (public holidays in a
    month), used by SARIMAX."""
    if horizon < 1:
        raise ForecastError("the horizon must be at least one step")
    period = _period(pd.DatetimeIndex(series.index))
    if len(series) < 2 * period + horizon + backtest:
        raise ForecastError(f"{len(series)} points are too few: at least {2 * period + horizon + backtest} are needed "
                            f"for two seasons ({period} steps each), the horizon and the backtest")
    errors: dict[str, list[np.ndarray]] = {}
    scale = float(np.mean(np.abs(series.to_numpy()[period:] - series.to_numpy()[:-period])))
    signed: list[np.ndarray] = []
    paths: list[tuple[str, list[float]]] = []
    freq = pd.infer_freq(series.index) or "MS"
    every = pd.date_range(series.index[0], periods=len(series) + horizon, freq=freq)
    exog = regressors(every) if regressors else None
    for k in range(backtest):
        if progress:
            progress(k / (backtest + 1), f"Backtest {k + 1} of {backtest}")
        cut = len(series) - horizon - (backtest - 1 - k)
        train, test = series.iloc[:cut], series.iloc[cut:cut + horizon].to_numpy()
        preds = combined(train, len(test), period, None if exog is None else exog[: cut + len(test)])
        paths.append((series.index[cut].date().isoformat(), [float(v) for v in preds["ours"][: len(test)]]))
        for name, pred in preds.items():
            errors.setdefault(name, []).append(pred[: len(test)] - test)
        signed.append(preds["ours"][: len(test)] - test)
    actual = [series.iloc[len(series) - horizon - (backtest - 1 - k):][:horizon].to_numpy() for k in range(backtest)]
    summary = {}
    for name, errs in errors.items():
        flat = np.concatenate(errs)
        truth = np.concatenate(actual)
        summary[name] = {"mape": float(np.mean(np.abs(flat / truth)) * 100), "mase": float(np.mean(np.abs(flat)) / scale)}
    final = combined(series, horizon, period, exog)
    steps = np.full((backtest, horizon), np.nan)
    for k, e in enumerate(signed):
        steps[k, : len(e)] = e
    # the band always holds the forecast itself: when every backtest error had one sign (a biased
    # run of origins), the other side of the band is the forecast, not past it
    low_q = np.minimum(np.nanquantile(steps, 0.05, axis=0), 0.0)
    high_q = np.maximum(np.nanquantile(steps, 0.95, axis=0), 0.0)
    point = final["ours"]
    future = pd.date_range(series.index[-1], periods=horizon + 1, freq=freq)[1:]
    return Forecast([d.date().isoformat() for d in future], [float(v) for v in point],
                    [float(v) for v in point - high_q], [float(v) for v in point - low_q], summary, period, paths)


def as_dict(f: Forecast) -> dict[str, Any]:
    best_single = min(MODELS, key=lambda m: f.backtest[m]["mase"])
    return {"period": f.period, "forecast": [{"date": d, "value": v, "lower_90": lo, "upper_90": hi}
                                             for d, v, lo, hi in zip(f.dates, f.point, f.lower, f.upper, strict=True)],
            "backtest": f.backtest, "chosen": "ours (mean of ETS, SARIMA and Theta)", "best_single": best_single}
