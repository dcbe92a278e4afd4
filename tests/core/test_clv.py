"""Lifetime value models on CDNOW (Fader, Hardie and Lee 2005): the published parameters."""

from __future__ import annotations

import json
from datetime import date
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from c360_desktop.core.analytics.clv import ClvError, fit_bgnbd, fit_gamma_gamma, summarise

DATA = Path(list(find_spec("lifetimes").submodule_search_locations)[0]) / "datasets"


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                       names=["customer", "id", "date", "quantity", "amount"], dtype=str)


def test_the_summary_is_the_published_one(cdnow):
    s = summarise(cdnow, "id", "date", "amount", date(1997, 9, 30), date(1998, 6, 30))
    ref = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    ref.index = ref.ID.astype(str).str.zfill(4)
    ours = s.table.set_axis(s.table.index.str.zfill(4))
    both = ours.join(ref, rsuffix="_ref", how="inner")
    assert len(both) == len(ours) == len(ref) == 2357
    assert (both.frequency == both.x).all()
    assert (both.recency - both.t_x).abs().max() < 0.005 and (both["T"] - both["T_ref"]).abs().max() < 0.005
    assert (both.monetary_value - both.zbar).abs().max() < 0.006


def test_bgnbd_and_gamma_gamma_match_the_published_parameters(cdnow):
    s = summarise(cdnow, "id", "date", "amount", date(1997, 9, 30))
    bg = fit_bgnbd(s)
    assert bg.r == pytest.approx(0.243, abs=0.001) and bg.alpha == pytest.approx(4.414, abs=0.001)
    assert bg.a == pytest.approx(0.793, abs=0.001) and bg.b == pytest.approx(2.426, abs=0.001)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    gg = fit_gamma_gamma(s)
    assert gg.p == pytest.approx(6.25, abs=0.01) and gg.q == pytest.approx(3.74, abs=0.01)
    assert gg.v == pytest.approx(15.44, abs=0.01)


def test_a_fit_started_near_the_answer_finds_the_same_answer(cdnow):
    """The cache's final CLV fit starts from its validation fit: a start elsewhere than the
    defaults must still reach the published maximum."""
    from c360_desktop.core.analytics.clv import BgNbd, GammaGamma

    s = summarise(cdnow, "id", "date", "amount", date(1997, 9, 30))
    bg = fit_bgnbd(s, quick=True, near=BgNbd(0.4, 3.0, 1.2, 4.0, 0.0))
    assert (bg.r, bg.alpha, bg.a, bg.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=0.002)
    gg = fit_gamma_gamma(s, quick=True, near=GammaGamma(4.0, 5.0, 10.0, 0.0))
    assert (gg.p, gg.q, gg.v) == pytest.approx((6.25, 3.74, 15.44), abs=0.02)


def test_nothing_after_the_calibration_end_leaks_into_the_summary(cdnow):
    """Purchases after the calibration end change the holdout count only: a leak would move
    frequency, recency, age or spend."""
    before = summarise(cdnow[cdnow.date <= "19970930"], "id", "date", "amount", date(1997, 9, 30))
    after = summarise(cdnow, "id", "date", "amount", date(1997, 9, 30))
    pd.testing.assert_frame_equal(before.table, after.table)


def test_cli_clv_fit(cdnow, tmp_path, capsys):
    from c360_desktop.cli import main

    path = tmp_path / "cdnow.csv"
    cdnow.to_csv(path, index=False)
    args = ["clv", "fit", "--transactions", str(path), "--customer-column", "id", "--date-column", "date",
            "--amount-column", "amount", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bgnbd"]["r"] == pytest.approx(0.243, abs=0.001)
    assert out["holdout"]["actual_total"] == 1882 and 1500 < out["holdout"]["predicted_total"] < 1900

    assert main([*args[:7], "when", *args[8:]]) == 2
    assert "no column 'when'" in capsys.readouterr().err
    bad = cdnow.copy()
    bad.loc[5, "amount"] = "twelve"
    bad.to_csv(path, index=False)
    assert main(args) == 2
    assert "column 'amount', row 7: 'twelve' is not an amount" in capsys.readouterr().err
    path.write_text("")
    assert main(args) == 2
    assert "not a readable CSV" in capsys.readouterr().err
    one = tmp_path / "one.csv"
    one.write_text("id,date,amount\nA,1997-01-01,5\nB,1997-01-02,6\nC,1997-01-03,7\n")
    assert main(["clv", "fit", "--transactions", str(one), "--customer-column", "id", "--date-column", "date",
                 "--calibration-end", "1997-09-30"]) == 2
    assert "nobody bought twice" in capsys.readouterr().err


def test_bad_inputs_say_what_is_wrong():
    frame = pd.DataFrame({"id": ["A"], "date": ["not a date"], "amount": ["1"]})
    with pytest.raises(ClvError, match="row 2: 'not a date' is not a date"):
        summarise(frame, "id", "date", "amount", date(2026, 1, 1))
    with pytest.raises(ClvError, match="time unit 'month'"):
        summarise(frame, "id", "date", "amount", date(2026, 1, 1), unit="month")


def test_lifetime_values_on_the_cache_reach_the_360_view(demo_cache):
    """Fitted on the demo's own transactions: a value for every buying customer, with its version
    and the quantities it is made of, and a total near what the same customers spent last year."""
    import sqlite3

    from c360_desktop.cli import main
    from c360_desktop.core.profile.service import ProfileService
    from c360_desktop.core.storage.cache import open_cache

    assert main(["train", "clv", "--cache", str(demo_cache), "--json"]) == 0
    conn = sqlite3.connect(demo_cache)
    buyers = conn.execute('SELECT count(DISTINCT customer_id) FROM "transaction" WHERE deleted_at IS NULL').fetchone()[0]
    scored, total = conn.execute("SELECT count(*), sum(value) FROM score WHERE model = 'clv' AND deleted_at IS NULL"
                                 ).fetchone()
    (last_year,) = conn.execute('SELECT sum(total_cents) / 100.0 FROM "transaction" WHERE occurred_at >= '
                                """date((SELECT max(occurred_at) FROM "transaction"), '-365 days')""").fetchone()
    conn.close()
    assert scored == buyers and 0.5 * last_year < total < 1.5 * last_year
    cache = open_cache(demo_cache)
    cid = cache.reader().execute("SELECT customer_id FROM score WHERE model = 'clv' ORDER BY value DESC LIMIT 1"
                                 ).fetchone()[0]
    clv = next(s for s in ProfileService(cache).get(cid).scores if s.model == "clv")
    assert clv.model_version.startswith("clv-") and clv.value > 0
    assert "purchases expected in the next 12 months" in clv.contributions[0].feature
    cache.close()


def test_reasons_are_the_json_the_360_view_reads():
    """The reasons are written as text for speed: they must be exactly what json.dumps gives,
    and the 360 view words them."""
    from c360_desktop.core.analytics.clv import reasons_json
    from c360_desktop.core.analytics.reasons import worded

    x = np.array([0.0, 3.0, 12.0])
    texts = reasons_json(x, np.array([0.04, 2.345, 11.0]), np.array([1234.5, 99999.123, 5.0]),
                         np.array([1.0, 0.3333, 0.999]), 12, by_regression=True)
    for text, xk in zip(texts, x, strict=True):
        reasons = json.loads(text)
        assert json.dumps(reasons) == text
        assert len(reasons) == 4 and all(set(r) == {"feature", "contribution"} for r in reasons)
        said = [r["feature"] for r in worded("clv", reasons)]
        assert said[0] == "valued by the regression: it predicted the last 26 weeks better"
        assert ("unknown until a second purchase" in said[3]) == (xk == 0)
        assert ("the average customer's" in said[2]) == (xk == 0)
    assert json.loads(texts[1])[1] == {"feature": "purchases_12m", "contribution": 2.35}
    assert worded("clv", json.loads(texts[1])) == [
        {"feature": "valued by the regression: it predicted the last 26 weeks better", "contribution": 0.0},
        {"feature": "purchases expected in the next 12 months: 2.4", "contribution": 2.35},  # 2.35 as kept,
        {"feature": "spend per purchase: JMD 99,999", "contribution": 99999.12},
        {"feature": "still a customer: 33%", "contribution": 0.3333}]
    assert len(json.loads(reasons_json(x, x, x, x, 6, by_regression=False)[0])) == 3
    assert worded("clv", json.loads(reasons_json(x, x, x, x, 6, by_regression=False)[2]))[0]["feature"] == \
        "purchases expected in the next 6 months: 12.0"
    # reasons worded already (a cache scored before they were kept as data) are shown as they are
    old = [{"feature": "spend per purchase: JMD 5", "value": None, "contribution": 5.0}]
    assert worded("clv", old) == old
