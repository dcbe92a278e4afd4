"""Campaign analytics: every figure recomputed with pandas from the raw tables, on both engines;
the budget monitor raises one alert per campaign that will pass its budget."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from c360_desktop.core.reports.campaigns import budget_alerts, campaign_report
from c360_desktop.core.reports.query import ReportQuery, run_query
from c360_desktop.core.reports.semantic import ReportError

C360 = str(Path(sys.executable).with_name("c360"))
AS_OF = date(2026, 11, 26)


def _raw(path):
    conn = sqlite3.connect(path)
    out = {t: pd.read_sql(f'SELECT * FROM "{t}" WHERE deleted_at IS NULL', conn)
           for t in ("marketing_campaign", "campaign_spend", "lead", "transaction")}
    conn.close()
    return out


def test_campaign_figures_match_pandas_to_the_cent(engine, demo_cache):
    got = engine(campaign_report, AS_OF, window_days=30).frame.set_index("id")
    raw = _raw(demo_cache)
    assert len(got) == len(raw["marketing_campaign"])
    leads = raw["lead"].assign(day=pd.to_datetime(raw["lead"]["created_at"].str[:10]).dt.date)
    sales = raw["transaction"].assign(day=pd.to_datetime(raw["transaction"]["occurred_at"].str[:10]).dt.date)
    spend = raw["campaign_spend"].assign(day=pd.to_datetime(raw["campaign_spend"]["spend_date"]).dt.date)
    checked_conversions = 0
    for c in raw["marketing_campaign"].itertuples():
        row = got.loc[c.id]
        start, end = date.fromisoformat(c.start_date), date.fromisoformat(c.end_date)
        until = end + timedelta(days=30)
        spent = spend[(spend.campaign_id == c.id) & (spend.day <= AS_OF)].amount_cents.sum()
        assert round(row["spend"] * 100) == spent
        assert round(row["budget"] * 100) == c.budget_cents
        assert round(row["budget_left"] * 100) == c.budget_cents - spent
        mine = leads[(leads.campaign_id == c.id) & (leads.day >= start) & (leads.day <= min(until, AS_OF))]
        assert row["leads"] == len(mine)
        won = int((mine.status == "won").sum())
        assert row["conversions"] == won
        checked_conversions += won
        revenue = sales[(sales.campaign_id == c.id) & (sales.day >= start) & (sales.day <= min(until, AS_OF))]
        assert round(row["revenue"] * 100) == revenue.amount_cents.sum()
        if spent:
            assert row["roas"] == pytest.approx(revenue.amount_cents.sum() / spent)
            assert row["roi"] == pytest.approx((revenue.amount_cents.sum() - spent) / spent)
        if won:
            assert row["cpa"] == pytest.approx(spent / 100 / won)
        if start <= AS_OF <= end:  # running: the spend so far at its daily rate to the last day
            days_in = (AS_OF - start).days + 1
            assert row["status"] == "running"
            assert row["projected_spend"] == pytest.approx(spent / 100 * (1 + (end - AS_OF).days / days_in))
        elif end < AS_OF:
            assert row["status"] == "ended" and row["projected_spend"] == pytest.approx(spent / 100)
    assert checked_conversions > 0, "the demo's campaign leads convert"


def test_a_campaign_that_will_pass_its_budget_is_alerted_once(services):
    from c360_desktop.core.alerts.pipeline import store_alert

    report = services.reports.campaigns(AS_OF)
    over = report.over_budget()
    # the demo's Black Friday 2026 runs on 20-29 November and its spend so far is booked by week
    assert "Black Friday 2026" in set(over["campaign"]), report.frame[["campaign", "status", "projected_spend"]]
    alerts = budget_alerts(report)
    assert len(alerts) == len(over)
    alert = next(a for a in alerts if a.title.startswith("Black Friday 2026"))
    assert "will pass its budget by J$" in alert.title and "by its last day, 2026-11-29" in alert.body
    raised = services.reports.raise_budget_alerts(AS_OF)
    assert {a.id for a in raised} == {a.id for a in alerts}
    assert services.reports.raise_budget_alerts(AS_OF) == [], "an alerted campaign is not alerted again"
    with services.cache.writer() as conn:
        assert not store_alert(conn, alert, "local:budget")
        (n,) = conn.execute("SELECT count(*) FROM alert WHERE type = 'campaign_budget'").fetchone()
    assert n == len(alerts)


def test_roas_and_roi_measures_by_campaign(engine, demo_cache):
    year = (date(2025, 1, 1), date(2025, 12, 31))
    got = engine(lambda conn, dialect: run_query(conn, ReportQuery(("campaign_spend", "campaign_revenue", "roas",
                                                                    "roi"), ("campaign",), *year), dialect)).frame
    raw = _raw(demo_cache)
    names = dict(zip(raw["marketing_campaign"].id, raw["marketing_campaign"].name, strict=True))
    tx = raw["transaction"][raw["transaction"].occurred_at.str[:10].between("2025-01-01", "2025-12-31")]
    rev = tx.dropna(subset=["campaign_id"]).groupby("campaign_id").amount_cents.sum().rename(index=names)
    sp = raw["campaign_spend"][raw["campaign_spend"].spend_date.between("2025-01-01", "2025-12-31")]
    spent = sp.groupby("campaign_id").amount_cents.sum().rename(index=names)
    rows = got.set_index("Campaign").dropna(subset=["Return on ad spend"])
    assert len(rows) >= 8
    for name, row in rows.iterrows():
        assert row["Return on ad spend"] == pytest.approx(rev.get(name, 0) / spent[name])
        assert row["Return on investment"] == pytest.approx(rev.get(name, 0) / spent[name] - 1)
    with pytest.raises(ReportError, match="roas cannot be split or filtered by channel"):
        ReportQuery(("roas",), ("channel",)).check()


def test_cli_campaigns_json(demo_cache):
    out = subprocess.run([C360, "campaigns", "--cache", str(demo_cache), "--as-of", "2026-11-26", "--json"],
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    black_friday = next(c for c in data["campaigns"] if c["campaign"] == "Black Friday 2026")
    assert black_friday["status"] == "running" and black_friday["projected_spend"] > black_friday["budget"]
    assert data["over_budget"] == [c["campaign"] for c in data["campaigns"]
                                   if c["status"] != "ended" and c["projected_spend"] > c["budget"]]
