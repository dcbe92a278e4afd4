"""Churn on the cache: features from the past only, a later period to validate on, scores with
their version and reasons in the 360 view."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.churn import labels, snapshot, train_and_score
from c360_desktop.core.storage.cache import open_cache


def test_features_use_nothing_from_after_the_snapshot_date(demo_cache):
    """Add purchases and complaints after the snapshot date: the snapshot must not move."""
    cache = open_cache(demo_cache)
    as_of = date(2026, 6, 1)
    before = snapshot(cache.reader(), as_of)
    someone = before.index[0]
    with cache.writer() as w:
        for k in range(5):
            day = f"{as_of + timedelta(days=k * 10):%Y-%m-%d} 12:00:00"
            w.execute('INSERT INTO "transaction" (id, row_version, customer_id, product_id, occurred_at, quantity, '
                      "amount_cents, gct_cents, total_cents, channel) SELECT ?, 0, ?, id, ?, 1, 100000, 15000, 115000, "
                      "'store' FROM product LIMIT 1", (f"future-t{k}", someone, day))
            w.execute("INSERT INTO interaction (id, row_version, customer_id, occurred_at, channel, direction, "
                      "sentiment) VALUES (?, 0, ?, ?, 'support', 'inbound', -0.9)", (f"future-i{k}", someone, day))
    after = snapshot(cache.reader(), as_of)
    pd.testing.assert_frame_equal(before, after)
    assert labels(cache.reader(), pd.Index([someone]), as_of)[0] == 0  # ...but the label sees them
    cache.close()


def test_training_validates_on_a_later_period_and_scores_with_reasons(demo_cache):
    from c360_desktop.core.profile.service import ProfileService

    cache = open_cache(demo_cache)
    result = train_and_score(cache)
    assert result.validated_as_of > result.trained_as_of
    ours = result.metrics["ours"]
    majority = result.metrics["majority class"]
    assert ours["roc_auc"] > 0.6 and ours["accuracy"] >= majority["accuracy"]
    conn = cache.reader()
    cid, version, contributions = conn.execute(
        "SELECT customer_id, model_version, contributions FROM score WHERE model = 'churn' AND deleted_at IS NULL "
        "LIMIT 1").fetchone()
    assert version == result.model_version and len(json.loads(contributions)) == 3
    profile = ProfileService(cache).get(cid)
    churn = next(s for s in profile.scores if s.model == "churn")
    assert churn.model_version == result.model_version and churn.top_reasons()
    again = train_and_score(cache)  # seeded: the same model again
    assert again.model_version == result.model_version and again.metrics == result.metrics
    assert conn.execute("SELECT count(*) FROM score WHERE model = 'churn' AND deleted_at IS NULL").fetchone()[0] \
        == result.scored
    cache.close()


def test_reasons_are_the_json_the_360_view_reads(demo_cache):
    """Reasons are put together as text for speed: each must be what json.dumps gives for its
    list, with the row's own values and text that needs escaping kept intact."""
    from c360_desktop.core.analytics.churn import _reason, latest_day
    from c360_desktop.core.analytics.tabular import fit

    cache = open_cache(demo_cache)
    at = latest_day(cache.reader()) - timedelta(days=180)
    x = snapshot(cache.reader(), at)
    model = fit(x, labels(cache.reader(), x.index, at), families=False)
    sample = x.iloc[:500]
    for text in model.reasons(sample, _reason):
        reasons = json.loads(text)
        assert json.dumps(reasons) == text and len(reasons) == 3
        assert all(isinstance(r["contribution"], float) and r["value"] is None for r in reasons)
        assert all(r["feature"].partition(": ")[2] for r in reasons)  # "purchase days: 7"
    # put together column by column: the same as worded one row at a time from its contributions
    contrib, margin = model.contributions(sample), model.model.predict(model.prepared.transform(sample),
                                                                       output_margin=True)
    for k, text in enumerate(model.reasons(sample, _reason)[:50]):
        top = contrib.iloc[k].abs().sort_values(ascending=False, kind="stable").index[:3]
        expected = [{"feature": _reason(f, sample.iloc[k][f]), "value": None, "contribution": round(
            100 * (1 / (1 + np.exp(-margin[k])) - 1 / (1 + np.exp(-(margin[k] - contrib.iloc[k][f])))), 1) + 0.0}
            for f in top]
        assert [r["feature"] for r in json.loads(text)] == [e["feature"] for e in expected]
        assert np.allclose([r["contribution"] for r in json.loads(text)], [e["contribution"] for e in expected],
                           atol=0.051)
    probability, texts = model.score(sample, _reason)  # one pass of the main model for both
    assert texts == model.reasons(sample, _reason)
    assert np.allclose(probability, model.predict_proba(sample), atol=1e-6)
    odd = model.reasons(sample.iloc[:3], lambda f, v: f'{f} "{v}" \\ café')
    for text, (_, row) in zip(odd, sample.iloc[:3].iterrows(), strict=True):
        for r in json.loads(text):
            feature = r["feature"].split(" ")[0]
            assert r["feature"] == f'{feature} "{row[feature]}" \\ café'
    cache.close()


def test_contact_features_are_what_sqlite_counts(demo_cache):
    """The snapshot's contacts by channel, their mood and the complaints, from the interactions
    read once, equal SQLite's own aggregates over the same windows (the windows end at midnight)."""
    from c360_desktop.core.analytics.contacts import CHANNELS

    cache = open_cache(demo_cache)
    conn = cache.reader()
    as_of = date(2026, 5, 31)
    d90, d180 = (f"{as_of - timedelta(days=n)} 00:00:00" for n in (90, 180))
    someone = conn.execute(  # active at the snapshot: a purchase in the year before it
        'SELECT t.customer_id FROM "transaction" t JOIN customer c ON c.id = t.customer_id AND c.deleted_at IS NULL '
        "WHERE t.occurred_at BETWEEN '2025-09-01' AND '2026-05-01' LIMIT 1").fetchone()[0]
    with cache.writer() as w:  # a contact with no known mood, one on another channel, one deleted
        for k, (channel, sentiment, deleted) in enumerate([("call", None, None), ("fax", -0.8, None),
                                                           ("email", -0.9, "2026-01-01")]):
            w.execute("INSERT INTO interaction (id, row_version, customer_id, occurred_at, channel, direction, "
                      "sentiment, deleted_at) VALUES (?, 0, ?, '2026-05-30 23:59:59', ?, 'inbound', ?, ?)",
                      (f"edge-{k}", someone, channel, sentiment, deleted))
    x = snapshot(conn, as_of)
    channels = ", ".join(f"sum(channel = '{c}')" for c in CHANNELS)
    expected = {r[0]: r[1:] for r in conn.execute(f"""
        SELECT customer_id, {channels}, avg(sentiment),
               sum(CASE WHEN sentiment <= -0.3 AND occurred_at >= ? THEN 1 ELSE 0 END)
        FROM interaction WHERE deleted_at IS NULL AND occurred_at < ? AND occurred_at >= ?
        GROUP BY customer_id""", (d90, f"{as_of} 00:00:00", d180))}
    assert someone in x.index and len(expected) > 100
    columns = [f"{c}_180d" for c in CHANNELS]
    for cid, row in x.iterrows():
        got = expected.get(cid)
        if got is None:
            assert (row[columns + ["complaints_90d"]] == 0).all() and np.isnan(row.sentiment_180d)
            continue
        assert row[columns].tolist() == list(got[:len(CHANNELS)]), cid
        assert row.complaints_90d == got[-1]
        assert (np.isnan(row.sentiment_180d) and got[-2] is None) or abs(row.sentiment_180d - got[-2]) < 1e-9
    assert x.loc[someone, "complaints_90d"] >= 1  # the "fax" complaint counts, the deleted one does not
    cache.close()
