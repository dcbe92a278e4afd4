"""The lead model, segments, sales forecasts by parish, the registry and drift, on the demo cache."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from c360_desktop.core.analytics import registry
from c360_desktop.core.storage.cache import open_cache


def test_lead_features_use_nothing_from_after_the_lead_was_opened(demo_cache):
    from c360_desktop.core.analytics.lead_model import features

    cache = open_cache(demo_cache)
    before = features(cache.reader(), ("won", "lost"))
    lead_id = before.index[0]
    cid, created = before.loc[lead_id, ["customer_id", "created_at"]]
    later = (datetime.fromisoformat(created) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    moments = [later, (datetime.fromisoformat(created) + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")]
    with cache.writer() as w:  # the next day, and a second after the lead was opened
        for k, when in enumerate(moments):
            w.execute('INSERT INTO "transaction" (id, row_version, customer_id, product_id, occurred_at, quantity, '
                      "amount_cents, gct_cents, total_cents, channel) SELECT ?, 0, ?, id, ?, 1, 100000, 15000, "
                      "115000, 'store' FROM product LIMIT 1", (f"after-lead-{k}", cid, when))
        w.execute("INSERT INTO interaction (id, row_version, customer_id, occurred_at, channel, direction, sentiment) "
                  "VALUES ('after-lead-i', 0, ?, ?, 'support', 'inbound', -0.9)", (cid, later))
    pd.testing.assert_frame_equal(before, features(cache.reader(), ("won", "lost")))
    cache.close()


def test_lead_model_scores_open_leads_0_to_100_with_reasons_and_a_registered_version(demo_cache):
    from c360_desktop.core.analytics.lead_model import train_and_score
    from c360_desktop.core.leads.queue import LeadQueue, band

    cache = open_cache(demo_cache)
    result = train_and_score(cache)
    conn = cache.reader()
    open_customers = {c for (c,) in conn.execute(
        "SELECT DISTINCT customer_id FROM lead WHERE deleted_at IS NULL AND status IN ('new', 'contacted', 'qualified')")}
    scores = dict(conn.execute("SELECT customer_id, value FROM score WHERE model = 'lead' AND deleted_at IS NULL"))
    assert set(scores) == open_customers and result.scored == len(open_customers)
    assert all(0 <= v <= 100 for v in scores.values())
    queue = LeadQueue(cache.reader).query(limit=10_000)
    assert queue and all(q.scored_by == result.model_version and q.band == band(q.score) for q in queue)
    reasons = LeadQueue(cache.reader).explain(queue[0].lead_id)
    assert len(reasons) == 3 and all({"feature", "points", "why"} <= set(r) for r in reasons)
    v = registry.get(conn, result.model_version)
    assert v.model == "lead" and len(v.content_hash) == 64 and v.rows == result.trained_on + result.validated_on
    assert set(v.metrics) == {"ours", "rule score", "majority class"}
    assert v.report["kind"] == "classifier" and v.report["curves"]["ours"]["roc"][-1] == [1.0, 1.0]
    again = train_and_score(cache)  # seeded: the same model, the same hash
    assert again.model_version == result.model_version
    cache.close()


def test_lead_model_says_when_there_are_too_few_closed_leads(demo_cache, capsys):
    from c360_desktop.cli import main

    conn = sqlite3.connect(demo_cache)
    conn.execute("UPDATE lead SET status = 'new' WHERE status = 'lost'")
    conn.commit()
    conn.close()
    assert main(["train", "leads", "--cache", str(demo_cache)]) == 2
    err = capsys.readouterr().err
    assert "c360: error: too few closed leads to learn from" in err and "both outcomes" in err
    assert "Traceback" not in err
    assert sqlite3.connect(demo_cache).execute("SELECT count(*) FROM model_version").fetchone()[0] == 0


def test_segments_follow_the_rfm_grid_and_clusters_are_named_from_their_medians(demo_cache):
    from c360_desktop.core.analytics.segments import RFM_GRID, train_and_assign

    cache = open_cache(demo_cache)
    result = train_and_assign(cache)
    conn = cache.reader()
    buyers = conn.execute('SELECT count(DISTINCT customer_id) FROM "transaction" WHERE deleted_at IS NULL').fetchone()[0]
    rows = pd.DataFrame(conn.execute("SELECT customer_id, r, f, m, rfm_segment, cluster, cluster_name "
                                     "FROM customer_segment").fetchall(),
                        columns=["customer_id", "r", "f", "m", "segment", "cluster", "name"])
    assert len(rows) == buyers == result.customers
    assert rows[["r", "f", "m"]].isin([1, 2, 3, 4, 5]).all().all()
    grid = {name: (r, fm) for name, r, fm in RFM_GRID}
    for row in rows.itertuples():  # the grid covers every score: each customer's cell is its segment's
        (r_lo, r_hi), (fm_lo, fm_hi) = grid[row.segment]
        fm = int(np.rint((row.f + row.m) / 2))
        assert r_lo <= row.r <= r_hi and fm_lo <= fm <= fm_hi
    # the most recent customers score R5; the least recent R1
    last = dict(conn.execute('SELECT customer_id, max(occurred_at) FROM "transaction" GROUP BY customer_id'))
    rows["last"] = rows.customer_id.map(last)
    assert rows.loc[rows.r == 5, "last"].min() >= rows.loc[rows.r == 1, "last"].max()
    # each cluster's reported median is the median of its members, recounted from the cache
    v = registry.get(conn, result.model_version)
    for c in v.report["clusters"]:
        members = rows[rows.cluster == c["cluster"]]
        assert len(members) == c["size"] and set(members.name) == {c["name"]}
        spend = [conn.execute('SELECT sum(total_cents) / 100.0 FROM "transaction" WHERE customer_id = ?',
                              (cid,)).fetchone()[0] for cid in members.customer_id]
        assert float(np.median(spend)) == pytest.approx(c["median"]["monetary"], abs=0.1)
    assert len({c["name"] for c in v.report["clusters"]}) == len(v.report["clusters"])
    cache.close()


def test_calendar_regressors_count_jamaican_holidays_and_trading_days():
    from c360_desktop.core.analytics.sales_forecast import calendar_regressors

    months = pd.DatetimeIndex(["2025-04-01", "2025-12-01", "2026-02-01"])
    # April 2025: Good Friday 18th and Easter Monday 21st; 30 days, 4 Sundays -> 26 - 2 = 24 trading days.
    # December 2025: Christmas (Thu) and Boxing Day (Fri); 31 days, 4 Sundays -> 27 - 2 = 25.
    # February 2026: Ash Wednesday 18th; 28 days, 4 Sundays -> 24 - 1 = 23.
    assert calendar_regressors(months).tolist() == [[2, 24], [2, 25], [1, 23]]


@pytest.mark.slow
def test_sales_forecasts_by_parish_with_actuals_recounted_and_a_backtest(demo_cache):
    from c360_desktop.core.analytics.sales_forecast import TOTAL, train

    cache = open_cache(demo_cache)
    result = train(cache, horizon=6, backtest=4, parish_backtest=3)
    conn = cache.reader()
    v = registry.get(conn, result.model_version)
    series = v.report["series"]
    assert TOTAL in series and result.series == len(series)
    by_month = dict(conn.execute("""SELECT strftime('%Y-%m-01', occurred_at), sum(total_cents) / 100.0
                                    FROM "transaction" WHERE deleted_at IS NULL GROUP BY 1"""))
    for month, value in series[TOTAL]["actual"]:
        assert value == pytest.approx(by_month[month], abs=0.01)
    newest = conn.execute('SELECT max(occurred_at) FROM "transaction"').fetchone()[0]
    assert series[TOTAL]["actual"][-1][0] < newest[:7] + "-01"  # the month not over is left out
    for name, s in series.items():
        assert len(s["forecast"]) == 6 and all(lo <= p <= hi for _d, p, lo, hi in s["forecast"])
        assert {"ours", "seasonal_naive", "sarima", "sarimax", "ets", "theta"} <= set(s["backtest"])
        if name != TOTAL:  # parish sales add up to no more than the island's
            assert dict(s["actual"])[s["actual"][-1][0]] <= dict(series[TOTAL]["actual"])[s["actual"][-1][0]]
    assert set(series) | set(v.report["skipped"]) >= {TOTAL}
    cache.close()


def test_psi_is_zero_for_the_same_population_and_large_for_a_shifted_one():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(0, 1, 5_000), "kind": rng.choice(["a", "b"], 5_000)})
    ref = registry.reference(frame)
    assert ref["x"]["kind"] == "numeric" and ref["kind"]["kind"] == "categorical"
    same = registry.psi(ref, frame)
    assert same["x"] == pytest.approx(0.0, abs=1e-9) and same["kind"] == pytest.approx(0.0, abs=1e-9)
    shifted = pd.DataFrame({"x": rng.normal(1, 1, 5_000), "kind": np.where(rng.random(5_000) < 0.9, "a", "b")})
    out = registry.psi(ref, shifted)
    assert out["x"] > 0.25 and out["kind"] > 0.25
    # by hand for the category: shares 0.5/0.5 against about 0.9/0.1
    a = (shifted.kind == "a").mean()
    expected = (a - ref["kind"]["share"]["a"]) * np.log(a / ref["kind"]["share"]["a"]) + \
        ((1 - a) - ref["kind"]["share"]["b"]) * np.log((1 - a) / ref["kind"]["share"]["b"])
    assert out["kind"] == pytest.approx(expected, rel=1e-3)


def test_drift_in_the_churn_population_raises_one_alert_a_day(demo_cache):
    from c360_desktop.core.analytics.churn import train_and_score
    from c360_desktop.core.analytics.training import check_drift

    cache = open_cache(demo_cache)
    train_and_score(cache)
    now = datetime.now(UTC)
    calm = {d["model"]: d for d in check_drift(cache, now=now - timedelta(hours=1))}
    assert calm["churn"]["worst"] < 0.25 and calm["churn"]["alert"] is None
    with cache.writer() as w:  # every contact of the last half year turns sour
        w.execute("UPDATE interaction SET sentiment = -0.9")
    shifted = {d["model"]: d for d in check_drift(cache, now=now)}
    assert shifted["churn"]["psi"]["sentiment_180d"] > 0.25 and shifted["churn"]["alert"]
    title, body, kind = cache.reader().execute("SELECT title, body, type FROM alert WHERE id = ?",
                                               (shifted["churn"]["alert"],)).fetchone()
    assert kind == registry.DRIFT_ALERT_TYPE and "churn" in title and "sentiment_180d" in body
    again = {d["model"]: d for d in check_drift(cache, now=now + timedelta(minutes=5))}
    assert again["churn"]["alert"] is None  # once a day
    assert len(registry.drift_history(cache.reader(), shifted["churn"]["version"])) == 3
    cache.close()


@pytest.mark.slow
def test_train_all_from_the_cli_records_every_model_and_schedules_by_age(demo_cache, capsys):
    from c360_desktop.cli import main
    from c360_desktop.core.analytics.training import TASKS, due

    cache = open_cache(demo_cache)
    assert due(cache.reader(), 7) == list(TASKS)  # never trained: all due
    cache.close()
    assert main(["train", "all", "--cache", str(demo_cache), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == set(TASKS)
    assert main(["model", "list", "--cache", str(demo_cache), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["model"] for r in listed} == {"churn", "clv", "lead", "forecast", "segments"}
    assert all(len(r["content_hash"]) == 64 and r["features"] and r["data_to"] for r in listed)
    cache = open_cache(demo_cache)
    assert due(cache.reader(), 7) == []
    assert due(cache.reader(), 7, now=datetime.now(UTC) + timedelta(days=8)) == list(TASKS)
    assert due(cache.reader(), 0) == []  # 0: only on demand
    cache.close()


def test_large_runs_give_approximate_reasons_that_still_add_up_and_say_so(demo_cache, monkeypatch):
    import xgboost as xgb

    from c360_desktop.core.analytics import tabular
    from c360_desktop.core.analytics.churn import train_and_score

    monkeypatch.setattr(tabular, "EXACT_REASON_ROWS", 10)
    cache = open_cache(demo_cache)
    result = train_and_score(cache)
    v = registry.get(cache.reader(), result.model_version)
    assert v.params["reasons"] == "approximate contributions (Saabas)"
    rows = cache.reader().execute("SELECT contributions FROM score WHERE model = 'churn' AND deleted_at IS NULL")
    assert all(len(json.loads(r[0])) == 3 for r in rows)
    # both kinds of contributions add up to the model's log-odds, row by row
    from datetime import timedelta

    from c360_desktop.core.analytics.churn import labels, latest_day, snapshot

    at = latest_day(cache.reader()) - timedelta(days=180)
    x = snapshot(cache.reader(), at)
    model = tabular.fit(x, labels(cache.reader(), x.index, at), families=False)
    data = xgb.DMatrix(model.prepared.transform(x), enable_categorical=True)
    booster = model.model.get_booster()
    margin = booster.predict(data, output_margin=True)
    for approx in (False, True):
        parts = booster.predict(data, pred_contribs=True, approx_contribs=approx)
        assert np.allclose(parts.sum(axis=1), margin, atol=1e-3)
    cache.close()


def test_a_base_install_is_told_what_to_install_by_the_names_pip_knows(monkeypatch):
    import importlib.util

    from c360_desktop.core.analytics import training

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name in ("sklearn", "xgboost") else real(name, *args))
    assert training.missing_libraries("leads") == ["sklearn", "xgboost"]
    assert training.missing_libraries("forecast") == []
    assert training.install_hint(training.missing_libraries("all")) == \
        "scikit-learn, xgboost (missing from this installation: reinstall C360 Desktop)"


def test_train_all_ranks_the_lead_queue_with_the_new_churn_risk_even_when_the_lead_model_fails(demo_cache):
    """Retrain all leaves the queue's ranking to the lead model, which runs after churn; when it
    cannot train, the queue is still ranked again with the new churn risk."""
    from c360_desktop.core.analytics.training import train

    conn = sqlite3.connect(demo_cache)
    conn.execute("UPDATE lead SET status = 'new' WHERE status = 'lost'")
    conn.execute("DELETE FROM cache_meta WHERE key = 'lead_ranks_at'")
    conn.commit()
    conn.close()
    cache = open_cache(demo_cache)
    with pytest.raises(ValueError, match="too few closed leads"):
        train(cache, "all")
    conn = cache.reader()
    assert registry.latest(conn, "churn") is not None and registry.latest(conn, "lead") is None
    (ranked_at,) = conn.execute("SELECT value FROM cache_meta WHERE key = 'lead_ranks_at'").fetchone()
    (scored_at,) = conn.execute("SELECT max(scored_at) FROM score WHERE model = 'churn'").fetchone()
    assert ranked_at >= scored_at
    cache.close()


@pytest.mark.parametrize("task", ["churn", "clv"])
def test_a_cancel_while_scoring_keeps_the_previous_scores(demo_cache, task):
    """Scores are written while they are computed: a cancel after the first chunk has gone to
    the cache still rolls it back, and the previous version's scores stay live."""
    from c360_desktop.core.analytics.training import train
    from c360_desktop.core.progress import Cancelled, Progress

    cache = open_cache(demo_cache)
    model = "churn" if task == "churn" else "clv"

    def live():
        return cache.reader().execute("SELECT model_version, count(*), sum(value) FROM score WHERE model = ? "
                                      "AND deleted_at IS NULL GROUP BY 1", (model,)).fetchall()

    train(cache, task)
    before = live()
    assert len(before) == 1 and before[0][1] > 0
    with cache.writer() as w:  # a little newer data, so a new run would make a new version
        w.execute('UPDATE "transaction" SET total_cents = total_cents + 1 WHERE id IN '
                  '(SELECT id FROM "transaction" ORDER BY occurred_at DESC LIMIT 50)')
    messages = []

    def seen(_fraction, message):
        messages.append(message)
        if message.startswith(f"{task}: Scored"):
            progress.cancel()  # the user presses Cancel once the first chunk is in

    progress = Progress(seen)
    with pytest.raises(Cancelled, match="stay"):
        train(cache, task, progress)
    assert any(m.startswith(f"{task}: Scored") for m in messages)  # it was cancelled after a chunk was written
    assert live() == before
    versions = cache.reader().execute("SELECT count(*) FROM model_version WHERE model = ?", (model,)).fetchone()[0]
    assert versions == 1  # and the cancelled version was not registered
    cache.close()
