"""Campaign spend from Google Ads and Meta Ads Manager exports, as those tools write them (a title
and date-range line above Google's header, thousands commas, totals rows; Meta's currency in the
header and periods spread over their days), into the campaign figures; twice changes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from c360_desktop.core.reports.semantic import ReportError

C360 = str(Path(sys.executable).with_name("c360"))
GOOGLE = """Campaign report
"November 1, 2026 - November 3, 2026"
Day,Campaign,Campaign state,Currency code,Cost,Impr.,Clicks,Conversions
2026-11-01,Black Friday 2026,Enabled,JMD,"12,500.50","4,210",96,3.00
2026-11-02,Black Friday 2026,Enabled,JMD,"9,999.50","3,100",71,1.00
2026-11-02,Search - Cement,Enabled,JMD,"2,000.00",800,20,0.00
Total: Account,--,--,JMD,"24,500.00","8,110",187,4.00
Total: Campaigns,--,--,JMD,"24,500.00","8,110",187,4.00
"""
META = """Campaign name,Reporting starts,Reporting ends,Amount spent (JMD),Impressions,Link clicks,Results
Hardware Promo (Meta),2026-11-20,2026-11-22,"100,000.01",90000,1200,40
"""


def _spend(cache, channel):
    conn = sqlite3.connect(cache)
    rows = conn.execute("SELECT mc.name, cs.spend_date, cs.amount_cents, cs.impressions, cs.clicks FROM campaign_spend cs "
                        "JOIN marketing_campaign mc ON mc.id = cs.campaign_id WHERE cs.channel = ? "
                        "ORDER BY mc.name, cs.spend_date", (channel,)).fetchall()
    conn.close()
    return rows


def test_a_google_ads_export_adds_daily_spend_and_a_new_campaign(services, tmp_path, demo_cache):
    f = tmp_path / "Campaign report.csv"
    f.write_text(GOOGLE, "utf-8")
    source, counts = services.reports.import_ads(f)
    assert source == "google_ads" and counts == {"campaigns_created": 1, "days_added": 3, "days_replaced": 0,
                                                 "days_unchanged": 0}
    assert _spend(demo_cache, "search") == [
        ("Black Friday 2026", "2026-11-01", 1_250_050, 4210, 96), ("Black Friday 2026", "2026-11-02", 999_950, 3100, 71),
        ("Search - Cement", "2026-11-02", 200_000, 800, 20)]
    assert services.reports.import_ads(f)[1]["days_unchanged"] == 3, "the same file twice changes nothing"
    f.write_text(GOOGLE.replace('"9,999.50"', '"10,999.50"'), "utf-8")
    assert services.reports.import_ads(f)[1] == {"campaigns_created": 0, "days_added": 0, "days_replaced": 1,
                                                 "days_unchanged": 2}
    report = services.reports.campaigns(date(2026, 11, 26)).frame.set_index("campaign")
    conn = sqlite3.connect(demo_cache)
    (total,) = conn.execute("SELECT sum(cs.amount_cents) FROM campaign_spend cs JOIN marketing_campaign mc ON "
                            "mc.id = cs.campaign_id WHERE mc.name = 'Black Friday 2026' AND cs.spend_date <= "
                            "'2026-11-26'").fetchone()
    assert round(report.loc["Black Friday 2026", "spend"] * 100) == total
    assert report.loc["Search - Cement", "budget"] == 0
    queued = conn.execute("SELECT entity, operation FROM outbox ORDER BY seq").fetchall()
    assert queued.count(("campaign_spend", "insert")) == 3 and ("marketing_campaign", "insert") in queued


def test_a_meta_period_is_spread_over_its_days_to_the_cent(services, tmp_path, demo_cache):
    f = tmp_path / "meta.csv"
    f.write_text(META, "utf-8")
    source, counts = services.reports.import_ads(f)
    assert source == "meta_ads" and counts["days_added"] == 3 and counts["campaigns_created"] == 1
    ours = [r for r in _spend(demo_cache, "social") if r[0] == "Hardware Promo (Meta)"]
    assert ours == [("Hardware Promo (Meta)", "2026-11-20", 3_333_334, 90000, 1200),
                    ("Hardware Promo (Meta)", "2026-11-21", 3_333_334, None, None),
                    ("Hardware Promo (Meta)", "2026-11-22", 3_333_333, None, None)]


def test_an_excel_meta_export_with_a_daily_breakdown(services, tmp_path, demo_cache):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Campaign name", "Day", "Amount spent (JMD)", "Impressions", "Link clicks"])
    ws.append(["Heroes Weekend 2026", "2026-10-11", 5000.25, 1000, 12])
    ws.append(["Heroes Weekend 2026", "2026-10-12", 4000, 800, 9])
    f = tmp_path / "meta.xlsx"
    wb.save(f)
    assert services.reports.import_ads(f)[1]["days_added"] == 2


@pytest.mark.parametrize(("text", "message"), [
    ("Campaign name,Day,Amount spent (USD)\nX,2026-11-01,10\n", "amounts are in USD, not JMD"),
    ("Day,Campaign,Currency code,Cost\n2026-11-01,X,USD,10\n", "row 2: the amount is in USD, not JMD"),
    ("Day,Campaign,Cost\n2026-13-01,X,10\n2026-11-02,X,ten\n", "row 2: '2026-13-01' is not a day"),
    ("Name,Spend\nX,10\n", "not a Google Ads or Meta Ads export"),
])
def test_bad_exports_are_refused_with_what_and_where(services, tmp_path, demo_cache, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text, "utf-8")
    before = _spend(demo_cache, "search") + _spend(demo_cache, "social")
    with pytest.raises(ReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        services.reports.import_ads(f)
    assert _spend(demo_cache, "search") + _spend(demo_cache, "social") == before


def test_cli_import_ads(demo_cache, tmp_path):
    f = tmp_path / "g.csv"
    f.write_text(GOOGLE, "utf-8")
    r = subprocess.run([C360, "report", "import-ads", str(f), "--cache", str(demo_cache)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "Google Ads: 3 days of spend added" in r.stderr, r.stderr
