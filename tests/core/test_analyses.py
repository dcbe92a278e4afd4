"""The ready-made analyses, recomputed independently with pandas from the cache's raw tables,
on both engines (the cache's SQLite and the columnar copy's DuckDB)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from c360_desktop.core.reports import analyses as A
from c360_desktop.core.reports.semantic import ReportError

C360 = str(Path(sys.executable).with_name("c360"))


@pytest.fixture(scope="module")
def raw(demo_template):
    conn = sqlite3.connect(demo_template)
    tx = pd.read_sql('SELECT * FROM "transaction" WHERE deleted_at IS NULL', conn)
    customers = pd.read_sql("SELECT id AS customer_id, parish, town FROM customer", conn)
    leads = pd.read_sql("SELECT customer_id, created_at FROM lead WHERE deleted_at IS NULL", conn)
    products = dict(conn.execute("SELECT id, name FROM product").fetchall())
    conn.close()
    tx = tx.merge(customers, on="customer_id")
    tx["date"] = pd.to_datetime(tx["occurred_at"].str[:10])
    tx["d"] = (tx["date"] - pd.Timestamp("1970-01-01")).dt.days
    tx["mi"] = tx["date"].dt.year * 12 + tx["date"].dt.month - 1
    return {"tx": tx, "leads": leads, "products": products}


def test_cohort_matrix_matches_pandas(engine, raw):
    got = engine(A.cohorts, date(2025, 1, 1), date(2025, 12, 31), months=12)
    tx = raw["tx"]
    first = tx.groupby("customer_id")["mi"].min().rename("first")
    active = tx[["customer_id", "mi"]].drop_duplicates().join(first, on="customer_id")
    active["age"] = active["mi"] - active["first"]
    lo, hi = 2025 * 12, 2025 * 12 + 11
    want = (active[(active["first"].between(lo, hi)) & (active["age"] <= 12)]
            .groupby(["first", "age"]).size().unstack(fill_value=0))
    last = int(tx["mi"].max())
    assert got.last_month == A.month_label(last)
    assert list(got.counts.index) == [A.month_label(i) for i in range(lo, hi + 1)]
    for first_month in range(lo, hi + 1):
        row = got.counts.loc[A.month_label(first_month)]
        for age in range(13):
            if first_month + age > last:
                assert np.isnan(row[age]), "a month not yet reached is unknown, not zero"
            else:
                assert row[age] == want.loc[first_month].get(age, 0)
    # month 0 is the whole cohort, so every share there is 1
    assert (got.shares[0] == 1).all()
    assert got.shares.iloc[0, 1] == pytest.approx(want.loc[lo, 1] / want.loc[lo, 0])


def test_product_affinity_matches_pandas(engine, raw):
    start, end = date(2025, 6, 1), date(2026, 11, 26)
    got = engine(A.affinity, start, end, window_days=30, where=(("parish", "St James"),), min_customers=3, top=500)
    tx = raw["tx"]
    tx = tx[(tx["parish"] == "JM-08") & (tx["date"] >= pd.Timestamp(start)) & (tx["date"] <= pd.Timestamp(end))]
    b = tx[["customer_id", "product_id", "d"]].drop_duplicates()
    pairs = b.merge(b, on="customer_id", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["product_id_a"] < pairs["product_id_b"]) & ((pairs["d_a"] - pairs["d_b"]).abs() <= 30)]
    n_ab = pairs.drop_duplicates(["customer_id", "product_id_a", "product_id_b"]).groupby(
        ["product_id_a", "product_id_b"]).size()
    n = b.groupby("product_id")["customer_id"].nunique()
    buyers = b["customer_id"].nunique()
    assert got.customers == buyers
    want = {(raw["products"][a], raw["products"][bb]): (k, k / buyers, k / n[a], k / n[bb], k * buyers / (n[a] * n[bb]))
            for (a, bb), k in n_ab.items() if k >= 3}
    assert len(got.pairs) == len(want) > 10
    for row in got.pairs.itertuples(index=False):
        k, support, conf_ab, conf_ba, lift = want[(row.product_a, row.product_b)]
        assert row.customers == k
        assert (row.support, row.confidence_a_b, row.confidence_b_a, row.lift) == pytest.approx(
            (support, conf_ab, conf_ba, lift))
    assert got.pairs["lift"].is_monotonic_decreasing


def test_journey_matches_pandas(engine, raw):
    as_of = date(2026, 11, 26)
    got = {s["stage"]: s for s in engine(A.journey, as_of, lapse_days=180).stages}
    tx = raw["tx"]
    days = tx[["customer_id", "d"]].drop_duplicates().sort_values(["customer_id", "d"])
    days["gap"] = days.groupby("customer_id")["d"].diff()
    per = days.groupby("customer_id").agg(first=("d", "min"), last=("d", "max"), n=("d", "size"))
    gaps = days[days["gap"] > 180]
    first_gap = gaps.groupby("customer_id").first()
    at = (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days
    lapsed_now = per.index.difference(first_gap.index)[(at - per.loc[per.index.difference(first_gap.index), "last"]
                                                        >= 180).to_numpy()]
    assert got["first purchase"]["customers"] == len(per)
    assert got["repeat purchase"]["customers"] == int((per["n"] >= 2).sum())
    assert got["lapsed"]["customers"] == len(first_gap) + len(lapsed_now)
    assert got["won back"]["customers"] == len(first_gap)
    back = first_gap["d"] - (first_gap["d"] - first_gap["gap"] + 180)
    assert got["won back"]["median_days"] == pytest.approx(float(back.median()))
    second = days[days["gap"].notna()].groupby("customer_id")["d"].first()
    assert got["repeat purchase"]["median_days"] == pytest.approx(float((second - per.loc[second.index, "first"]).median()))
    leads = raw["leads"].assign(ld=(pd.to_datetime(raw["leads"]["created_at"].str[:10])
                                    - pd.Timestamp("1970-01-01")).dt.days).groupby("customer_id")["ld"].min()
    first_buy = per["first"].reindex(leads.index)
    lead_first = first_buy.isna() | (leads <= first_buy)
    assert got["lead"]["customers"] == int(lead_first.sum())
    converted = lead_first & first_buy.notna()
    assert got["first purchase"]["from_previous"] == int(converted.sum())
    assert got["first purchase"]["of_previous"] == pytest.approx(converted.sum() / lead_first.sum())


def test_seasonality_finds_the_demo_s_closed_holidays_and_quiet_sundays(engine, raw):
    """The demo sells at a tenth of the usual rate on public holidays and at 0.4 on Sundays."""
    got = engine(A.seasonality, date(2024, 1, 1), date(2025, 12, 31))
    hol = got.holidays.set_index("date")
    assert hol.loc[date(2024, 8, 6), "holiday"] == "Independence Day"
    assert hol.loc[date(2025, 12, 25), "holiday"] == "Christmas Day"
    # 3,000 customers' sales are noisy day to day (one large order moves a day): the typical
    # holiday sells a small fraction of its weekday's usual day, and none sells a normal day
    assert hol["index"].median() < 0.2 and (hol["index"] < 0.6).all(), hol
    weekday = got.by_weekday.set_index("name")
    assert weekday.loc["Sunday", "index"] < 0.5 < weekday.loc["Saturday", "index"]
    tx = raw["tx"]
    tx = tx[(tx["date"] >= "2024-01-01") & (tx["date"] <= "2025-12-31")]
    december = tx[tx["date"].dt.month == 12]["amount_cents"].sum() / 100
    assert got.by_month.set_index("month").loc[12, "revenue"] == pytest.approx(december)
    # index: revenue per day of the month against the mean day (731 days, zero-sale days included)
    mean_day = tx["amount_cents"].sum() / 100 / 731
    assert got.by_month.set_index("month").loc[12, "index"] == pytest.approx(december / 62 / mean_day)


def test_rfm_distribution_counts_every_buyer_once(engine, raw):
    got = engine(A.rfm, date(2026, 11, 26))
    buyers = raw["tx"][raw["tx"]["date"] <= "2026-11-26"]["customer_id"].nunique()
    assert got.customers == buyers == int(got.grid.to_numpy().sum()) == int(got.segments["customers"].sum())
    assert got.segments["revenue"].sum() == pytest.approx(
        raw["tx"][raw["tx"]["date"] <= "2026-11-26"]["amount_cents"].sum() / 100)
    champions = got.segments.set_index("segment").loc["Champions"]
    lost = got.segments.set_index("segment").loc["Lost"]
    assert champions["median_recency_days"] < lost["median_recency_days"]


def test_bad_input_is_named(engine):
    with pytest.raises(ReportError, match="cannot be filtered by month"):
        engine(A.cohorts, date(2025, 1, 1), date(2025, 6, 30), where=(("month", "2025-01"),))
    with pytest.raises(ReportError, match="not a Jamaican parish"):
        engine(A.rfm, date(2026, 1, 1), where=(("parish", "Atlantis"),))
    with pytest.raises(ReportError, match="window"):
        engine(A.affinity, date(2026, 1, 1), date(2026, 2, 1), window_days=-1)


def test_cli_cohorts_and_analysis_json(demo_cache):
    out = subprocess.run([C360, "cohorts", "--cache", str(demo_cache), "--from", "2025-01-01", "--to", "2025-03-31",
                          "--json"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert [c["cohort"] for c in data["cohorts"]] == ["2025-01", "2025-02", "2025-03"]
    assert all(c["share"][0] == 1 for c in data["cohorts"])
    out = subprocess.run([C360, "report", "analysis", "affinity", "--cache", str(demo_cache), "--from",
                          "2025-06-01", "--to", "2026-11-26", "--where", "parish=St James", "--min-customers", "3",
                          "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["pairs"][0]["lift"] > 1
    bad = subprocess.run([C360, "report", "analysis", "affinity", "--cache", str(demo_cache), "--where", "colour=red"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown dimension 'colour'" in bad.stderr


def test_correlations_match_scipy_on_the_raw_lines_and_are_holm_adjusted(engine, raw):
    from scipy.stats import spearmanr

    got = engine(A.correlations, date(2026, 11, 26), 90)
    tx = raw["tx"]
    cut = (pd.Timestamp("2026-11-26") - pd.Timestamp("1970-01-01")).days - 90
    before = tx[tx["d"] <= cut]
    after = tx[(tx["d"] > cut) & (tx["d"] <= cut + 90)]
    buyers = before["customer_id"].unique()
    cats = before.merge(pd.DataFrame({"product_id": list(raw["products"])}), on="product_id")
    assert got.customers == len(buyers) and got.cutoff == date(2026, 8, 28)
    recent = before[before["d"] > cut - 365].groupby("customer_id").size().reindex(buyers, fill_value=0)
    bought = pd.Series(1.0, index=after["customer_id"].unique()).reindex(buyers, fill_value=0.0)
    rho, p = spearmanr(recent.to_numpy(), bought.to_numpy())
    row = got.table.set_index(["behaviour", "outcome"]).loc[("orders", "bought_after")]
    assert row["rho"] == pytest.approx(rho) and row["p_value"] == pytest.approx(p, rel=1e-6)
    assert len(cats) == len(before)
    # Holm: the smallest p-value times the number of pairs, and never below a smaller one's
    table = got.table.dropna(subset=["p_value"]).sort_values("p_value")
    assert table["p_holm"].iloc[0] == pytest.approx(min(1.0, table["p_value"].iloc[0] * len(table)))
    assert table["p_holm"].is_monotonic_increasing and (table["p_holm"] >= table["p_value"]).all()
    assert got.sentences and all("Spearman ρ" in s or "beyond chance" in s for s in got.sentences)
