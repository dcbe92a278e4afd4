"""Forecasting: the backtest, the intervals and the CLI's messages."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from c360_desktop.core.analytics.forecast import ForecastError, forecast, load_series


@pytest.fixture(scope="module")
def elec():
    from statsmodels.datasets import elec_equip

    series = elec_equip.load().data.iloc[:, 0]
    series.index = pd.DatetimeIndex(series.index)
    return series


def test_forecast_with_intervals_and_a_backtest_of_every_model(elec):
    f = forecast(elec, horizon=6, backtest=4)
    assert f.period == 12 and len(f.point) == 6 and f.dates[0] == "2016-06-01"
    assert all(lo <= p <= hi for lo, p, hi in zip(f.lower, f.point, f.upper, strict=True))
    assert set(f.backtest) == {"ours", "ets", "sarima", "theta", "seasonal_naive"}
    assert all(m["mape"] > 0 and m["mase"] > 0 for m in f.backtest.values())
    assert forecast(elec, horizon=6, backtest=4).point == f.point  # repeatable


def test_cli_forecast_and_its_messages(elec, tmp_path, capsys):
    from c360_desktop.cli import main

    path = tmp_path / "orders.csv"
    pd.DataFrame({"month": elec.index.strftime("%Y-%m-%d"), "orders": elec.to_numpy()}).to_csv(path, index=False)
    args = ["forecast", "--series", str(path), "--date-column", "month", "--value-column", "orders",
            "--horizon", "3", "--backtest", "3", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["forecast"]) == 3 and "seasonal_naive" in out["backtest"]
    assert main([*args[:4], "date", *args[5:]]) == 2
    assert "no column 'date'" in capsys.readouterr().err
    pd.DataFrame({"month": ["2020-01-01", "2020-02-01"], "orders": ["1", "x"]}).to_csv(path, index=False)
    assert main(args) == 2
    assert "row 3: 'x' is not a number" in capsys.readouterr().err
    pd.DataFrame({"month": pd.date_range("2020-01-01", periods=20, freq="MS").strftime("%Y-%m-%d"),
                  "orders": range(20)}).to_csv(path, index=False)
    assert main(args) == 2
    assert "too few" in capsys.readouterr().err


def test_a_date_twice_is_refused():
    frame = pd.DataFrame({"d": ["2020-01-01", "2020-01-01"], "v": ["1", "2"]})
    with pytest.raises(ForecastError, match="appears twice"):
        load_series(frame, "d", "v")
