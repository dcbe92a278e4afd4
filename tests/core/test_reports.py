"""Reports: every figure recomputed independently with pandas from the cache's raw tables."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from c360_desktop.core.reports.query import ReportQuery, run_query
from c360_desktop.core.reports.semantic import DIMENSIONS, MEASURES, ReportError

C360 = str(Path(sys.executable).with_name("c360"))
H1 = (date(2026, 1, 1), date(2026, 6, 30))


def _raw(path: Path) -> dict[str, pd.DataFrame]:
    conn = sqlite3.connect(path)
    out = {t: pd.read_sql(f'SELECT * FROM "{t}" WHERE deleted_at IS NULL', conn)
           for t in ("transaction", "customer", "product", "lead", "sales_rep", "campaign_spend", "marketing_campaign")}
    conn.close()
    return out


@pytest.fixture
def raw(demo_cache):
    return _raw(demo_cache)


@pytest.fixture(params=["sqlite", "duckdb"])
def run(request, demo_cache):
    """A report from the cache itself, or from its columnar copy (both must give the same figures)."""
    if request.param == "sqlite":
        conn = sqlite3.connect(demo_cache)
        yield lambda q: run_query(conn, q)
        conn.close()
        return
    from c360_desktop.core.reports.columnar import ColumnarCopy
    from c360_desktop.core.storage.cache import open_cache

    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()

    def query(q):
        with copy.cursor() as cur:
            return run_query(cur, q, "duckdb")

    yield query
    copy.close()
    cache.close()


def _in(frame: pd.DataFrame, column: str, start: date, end: date) -> pd.DataFrame:
    day = frame[column].str[:10]
    return frame[(day >= start.isoformat()) & (day <= end.isoformat())]


def test_revenue_orders_customers_by_parish_and_month_match_pandas_to_the_cent(run, raw):
    got = run(ReportQuery(("revenue", "orders", "customers"), ("parish", "month"), *H1)).frame
    tx = _in(raw["transaction"], "occurred_at", *H1).merge(
        raw["customer"][["id", "parish"]].rename(columns={"id": "customer_id"}), on="customer_id")
    tx["month"] = tx["occurred_at"].str[:7]
    want = tx.groupby(["parish", "month"]).agg(cents=("amount_cents", "sum"), orders=("id", "size"),
                                               customers=("customer_id", "nunique")).reset_index()
    from c360_desktop.core import jamaica

    want["Parish"] = want["parish"].map(lambda c: jamaica.parish_by_code()[c].address_name)
    merged = got.merge(want, left_on=["Parish", "Month"], right_on=["Parish", "month"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(want) > 50
    assert (merged["Revenue"] * 100).round().astype(int).tolist() == merged["cents"].tolist()
    assert merged["Orders"].tolist() == merged["orders"].tolist()
    assert merged["Customers"].tolist() == merged["customers"].tolist()


def test_new_customers_are_first_purchases_in_the_month(run, raw):
    got = run(ReportQuery(("new_customers",), ("month",), *H1)).frame
    tx = raw["transaction"]
    first = tx.groupby("customer_id")["occurred_at"].min().str[:10]
    first = first[(first >= H1[0].isoformat()) & (first <= H1[1].isoformat())]
    want = first.str[:7].value_counts().sort_index()
    assert got.set_index("Month")["New customers"].astype(int).to_dict() == want.to_dict()
    assert want.sum() > 0


def test_lead_measures_by_rep_match_pandas(run, raw):
    year = (date(2026, 1, 1), date(2026, 12, 31))
    got = run(ReportQuery(("leads", "conversions", "conversion_rate", "win_rate", "pipeline_value"),
                                      ("rep",), *year)).frame
    leads = _in(raw["lead"], "created_at", *year).merge(
        raw["sales_rep"][["id", "name"]].rename(columns={"id": "rep_id"}), on="rep_id", how="left")
    for name, g in leads.groupby("name"):
        row = got[got["Rep"] == name].iloc[0]
        won, lost = (g["status"] == "won").sum(), (g["status"] == "lost").sum()
        assert row["Leads"] == len(g) and row["Conversions"] == won
        assert row["Conversion rate"] == pytest.approx(won / len(g))
        assert row["Win rate"] == pytest.approx(won / (won + lost)) if won + lost else row["Win rate"] != row["Win rate"]
        open_value = g.loc[g["status"].isin(["new", "contacted", "qualified"]), "estimated_value_cents"].sum()
        assert round(row["Pipeline value"] * 100) == open_value
    assert got["Leads"].sum() == len(leads) > 0


def test_campaign_spend_and_cpa_by_channel_and_quarter(run, raw):
    year = (date(2025, 1, 1), date(2025, 12, 31))
    got = run(ReportQuery(("campaign_spend",), ("channel", "quarter"), *year)).frame
    spend = _in(raw["campaign_spend"], "spend_date", *year).copy()
    spend["quarter"] = spend["spend_date"].str[:4] + "-Q" + ((spend["spend_date"].str[5:7].astype(int) + 2) // 3).astype(str)
    want = spend.groupby(["channel", "quarter"])["amount_cents"].sum()
    assert len(got) == len(want) > 0
    for _, row in got.iterrows():
        assert round(row["Campaign spend"] * 100) == want[(row["Channel"], row["Quarter"])]


def test_comparisons_are_the_same_report_over_the_shifted_period(run):
    got = run(ReportQuery(("revenue", "customers"), ("month",), *H1, compare="last_year")).frame
    last = run(ReportQuery(("revenue", "customers"), ("month",), date(2025, 1, 1), date(2025, 6, 30))).frame
    assert got["Revenue last year"].tolist() == last["Revenue"].tolist()
    assert got["Customers last year"].tolist() == last["Customers"].tolist()
    assert got["Revenue change"].tolist() == pytest.approx(
        ((got["Revenue"] - last["Revenue"]) / last["Revenue"]).tolist())
    october = (date(2026, 10, 1), date(2026, 10, 31))
    prev = run(ReportQuery(("orders",), ("parish",), *october, compare="previous")).frame
    sept = run(ReportQuery(("orders",), ("parish",), date(2026, 8, 31), date(2026, 9, 30))).frame
    assert dict(zip(prev["Parish"], prev["Orders previous"], strict=True)) == dict(
        zip(sept["Parish"], sept["Orders"].astype(float), strict=True))


def test_filters_and_a_field_reps_territory_limit_the_rows(demo_cache, services):
    from c360_desktop.core.reports.service import ReportService
    from c360_desktop.core.security import Role, User

    conn = sqlite3.connect(demo_cache)
    st_ann = run_query(conn, ReportQuery(("revenue",), (), *H1, (("parish", "St Ann"),))).frame["Revenue"].iloc[0]
    by_parish = run_query(conn, ReportQuery(("revenue",), ("parish",), *H1)).frame.set_index("Parish")["Revenue"]
    assert st_ann == by_parish["St. Ann"] > 0
    rep = ReportService(services.cache, lambda: User("rep", Role.FIELD_REP, ("JM-06",)))
    mine = rep.query(ReportQuery(("revenue",), ("parish",), *H1)).frame
    assert mine["Parish"].tolist() == ["St. Ann"] and mine["Revenue"].iloc[0] == st_ann
    manager = ReportService(services.cache, lambda: User("boss", Role.MANAGER, ("JM-06",)))
    assert len(manager.query(ReportQuery(("revenue",), ("parish",), *H1)).frame) == 14


@pytest.mark.parametrize(("q", "message"), [
    (ReportQuery(("revnue",)), "unknown measure 'revnue'; choose from revenue, orders"),
    (ReportQuery(("revenue",), ("parsh",)), "unknown dimension 'parsh'; choose from day, week"),
    (ReportQuery(("campaign_spend",), ("parish",)), "campaign_spend cannot be split or filtered by parish"),
    (ReportQuery(("revenue",), ("month", "year")), "one time dimension"),
    (ReportQuery(("revenue",), (), date(2026, 2, 1), date(2026, 1, 1)), "starts (2026-02-01) after it ends"),
    (ReportQuery(("revenue",), (), None, None, (("parish", "Atlantis"),)), "not a Jamaican parish"),
    (ReportQuery(("revenue",), compare="previous"), "needs the period's start and end"),
])
def test_bad_reports_say_what_is_wrong(demo_cache, q, message):
    with pytest.raises(ReportError) as info:
        run_query(sqlite3.connect(demo_cache), q)
    assert message in str(info.value)


def test_user_text_never_reaches_the_sql(run, demo_cache):
    conn = sqlite3.connect(demo_cache)
    evil = "x' OR 1=1; DROP TABLE customer; --"
    frame = run(ReportQuery(("revenue", "orders"), (), None, None, (("town", evil),))).frame
    assert frame["Orders"].iloc[0] == 0
    assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] > 0


def test_every_measure_and_dimension_is_documented():
    assert {"revenue", "orders", "customers", "new_customers", "average_order_value", "revenue_per_customer",
            "leads", "conversions", "conversion_rate", "win_rate", "pipeline_value", "campaign_spend", "cpa"} <= set(MEASURES)
    assert {"day", "week", "month", "quarter", "year", "parish", "town", "segment", "kind", "product", "category",
            "rep", "territory", "channel", "campaign"} <= set(DIMENSIONS)
    assert all(m.formula for m in MEASURES.values())


def test_xlsx_has_the_csvs_numbers_formats_and_a_manifest(demo_cache, tmp_path):
    from openpyxl import load_workbook

    args = ["report", "query", "--cache", str(demo_cache), "--measure", "revenue,orders,average_order_value",
            "--by", "parish", "--from", "2026-10-01", "--to", "2026-10-31", "--compare", "previous"]
    for fmt in ("csv", "xlsx", "json", "csv", "xlsx", "json"):  # the second time replaces the first
        r = subprocess.run([C360, *args, "--format", fmt, "--out", str(tmp_path / f"r.{fmt}")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "rows written" in r.stderr
    assert json.loads((tmp_path / "r.json").read_text())["manifest"]["rows"] == 14
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8-sig")))
    wb = load_workbook(tmp_path / "r.xlsx")
    ws = wb["Report"]
    header = [c.value for c in ws[1]]
    assert header == list(rows[0])
    assert ws.freeze_panes == "A2"
    for i, row in enumerate(rows, start=2):
        assert ws.cell(i, 1).value == row["Parish"]
        assert ws.cell(i, 2).value == pytest.approx(float(row["Revenue"]))
        assert ws.cell(i, header.index("Orders") + 1).value == pytest.approx(float(row["Orders"]))
    assert ws.cell(2, 2).number_format == '"J$"#,##0.00'
    assert ws.cell(2, header.index("Orders change") + 1).number_format == "0.0%"
    assert ws._charts  # a native chart of the first measure
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    manifest = json.loads((tmp_path / "r.csv.manifest.json").read_text())
    assert about["Rows"] == manifest["rows"] == len(rows) == 14
    assert "2026-10-01 to 2026-10-31" in about["Filters"] and about["Data as of"].endswith("(demo data)")


def test_exports_refuse_to_replace_other_files_and_cells_are_safe(demo_cache, tmp_path, services):
    from c360_desktop.core.outputs import OutputError
    from c360_desktop.core.reports import export as export_module

    precious = tmp_path / "budget.xlsx"
    precious.write_bytes(b"not a report")
    result = services.reports.query(ReportQuery(("orders",), ("town",), *H1))
    with pytest.raises(OutputError, match="exists and is not a report workbook"):
        services.reports.export(result, precious, "xlsx")
    assert precious.read_bytes() == b"not a report"
    result.frame.loc[0, "Town"] = "=HYPERLINK(\"http://x\")"
    out = tmp_path / "t.csv"
    services.reports.export(result, out, "csv")
    assert "'=HYPERLINK" in out.read_text("utf-8-sig")
    export_module.EXCEL_ROWS, old = 5, export_module.EXCEL_ROWS
    try:
        with pytest.raises(ReportError, match="do not fit an Excel worksheet"):
            services.reports.export(result, tmp_path / "big.xlsx", "xlsx")
    finally:
        export_module.EXCEL_ROWS = old
    assert not (tmp_path / "big.xlsx").exists()


def test_kpi_tiles_are_month_to_date_against_last_year(demo_cache):
    r = subprocess.run([C360, "kpi", "--cache", str(demo_cache), "--role", "manager", "--as-of", "2026-10-15",
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    tiles = {t["measure"]: t for t in json.loads(r.stdout)}
    conn = sqlite3.connect(demo_cache)
    now = conn.execute('SELECT sum(amount_cents) FROM "transaction" WHERE deleted_at IS NULL AND '
                       "occurred_at >= '2026-10-01' AND occurred_at < '2026-10-16'").fetchone()[0]
    then = conn.execute('SELECT sum(amount_cents) FROM "transaction" WHERE deleted_at IS NULL AND '
                        "occurred_at >= '2025-10-01' AND occurred_at < '2025-10-16'").fetchone()[0]
    assert round(tiles["revenue"]["value"] * 100) == now and round(tiles["revenue"]["previous"] * 100) == then
    assert tiles["revenue"]["change"] == pytest.approx(now / then - 1)
    assert {"pipeline_value", "win_rate", "new_customers"} <= set(tiles)


def test_drill_down_lists_the_customers_behind_a_cell(services, raw):
    q = ReportQuery(("revenue", "orders"), ("parish", "month"), *H1, (("kind", "business"),))
    result = services.reports.query(q)
    row = result.frame.iloc[3]
    behind = services.reports.customers_behind(q, {"Parish": row["Parish"], "Month": row["Month"]})
    assert behind["Revenue"].sum() == pytest.approx(row["Revenue"]) and behind["Orders"].sum() == row["Orders"]
    assert behind["Revenue"].is_monotonic_decreasing and set(behind["Parish"]) == {row["Parish"]}
    tx = raw["transaction"].merge(raw["customer"][["id", "kind"]].rename(columns={"id": "customer_id"}))
    tx = tx[(tx["kind"] == "business") & (tx["occurred_at"].str[:7] == row["Month"])]
    ids = set(tx["customer_id"]) & set(behind["customer_id"])
    assert ids == set(behind["customer_id"])
    with pytest.raises(ReportError, match="campaign spend and model scores do not"):
        services.reports.customers_behind(ReportQuery(("campaign_spend",), ("month",), *H1), {"Month": "2026-01"})
    with pytest.raises(ReportError, match="'Town' is not one of this report's dimensions"):
        services.reports.customers_behind(q, {"Town": "Ocho Rios"})


def test_drill_down_lists_the_sales_lines_behind_a_cell(services, raw):
    q = ReportQuery(("revenue", "customers"), ("category",), *H1, (("parish", "St Ann"), ("parish", "St Mary")))
    result = services.reports.query(q)
    row = result.frame.iloc[0]
    lines, total = services.reports.lines_behind(q, {"Category": row["Category"]}, limit=10_000)
    assert total == len(lines) and lines["Amount"].sum() == pytest.approx(row["Revenue"])
    assert lines["customer_id"].nunique() == row["Customers"]
    assert set(lines["Parish"]) <= {"St. Ann", "St. Mary"} and set(lines["Category"]) == {row["Category"]}
    assert lines["Date"].is_monotonic_decreasing
    first, total_again = services.reports.lines_behind(q, {"Category": row["Category"]}, limit=5)
    assert len(first) == 5 and total_again == total and list(first["Date"]) == list(lines["Date"][:5])
    # a cell on a filtered dimension narrows to that one value
    by_parish = ReportQuery(("revenue",), ("parish",), *H1, (("parish", "St Ann"), ("parish", "St Mary")))
    ann = services.reports.query(by_parish).frame.set_index("Parish").loc["St. Ann", "Revenue"]
    lines, _ = services.reports.lines_behind(by_parish, {"Parish": "St. Ann"}, limit=100_000)
    assert set(lines["Parish"]) == {"St. Ann"} and lines["Amount"].sum() == pytest.approx(ann)
    leads, n = services.reports.lines_behind(ReportQuery(("leads",), ("month",), *H1), {"Month": "2026-03"})
    want = raw["lead"][raw["lead"]["created_at"].str[:7] == "2026-03"]
    assert n == len(want) and set(leads["Status"]) <= set(want["status"])


def test_several_values_of_one_filter_keep_rows_of_any(run, raw):
    q = ReportQuery(("revenue", "orders"), ("kind",), *H1,
                    (("parish", "St Ann"), ("parish", "Trelawny"), ("channel", "online")))
    got = run(q).frame.set_index("Customer kind")
    tx = raw["transaction"].merge(raw["customer"][["id", "kind", "parish"]].rename(columns={"id": "customer_id"}))
    tx = tx[(tx["occurred_at"] >= "2026-01-01") & (tx["occurred_at"] < "2026-07-01")
            & tx["parish"].isin(["JM-06", "JM-07"]) & (tx["channel"] == "online")]
    want = tx.groupby("kind")["amount_cents"].agg(["sum", "count"])
    assert len(want) >= 2
    for kind, w in want.iterrows():
        assert round(got.loc[kind, "Revenue"] * 100) == w["sum"] and got.loc[kind, "Orders"] == w["count"]


def test_active_customers_and_churn_rate_match_pandas(run, raw):
    period = (date(2026, 7, 1), date(2026, 10, 31))
    got = run(ReportQuery(("active_customers", "prior_customers", "lapsed_customers", "churn_rate"), ("parish",),
                          *period)).frame.set_index("Parish")
    tx = raw["transaction"].merge(raw["customer"][["id", "parish"]].rename(columns={"id": "customer_id"}))
    day = pd.to_datetime(tx["occurred_at"].str[:10])
    from c360_desktop.core import jamaica

    names = {c: p.address_name for c, p in jamaica.parish_by_code().items()}
    active = tx[(day >= "2025-11-01") & (day <= "2026-10-31")].groupby("parish")["customer_id"].nunique()
    before = tx[(day >= "2025-07-01") & (day < "2026-07-01")].groupby("parish")["customer_id"].apply(set)
    during = tx[(day >= "2026-07-01") & (day <= "2026-10-31")].groupby("parish")["customer_id"].apply(set)
    assert len(got) == 14
    for code, name in names.items():
        row = got.loc[name]
        lapsed = len(before[code] - during.get(code, set()))
        assert row["Active customers"] == active[code]
        assert row["Customers the year before"] == len(before[code]) and row["Lapsed customers"] == lapsed
        assert row["Churn rate"] == pytest.approx(lapsed / len(before[code]))
    with pytest.raises(ReportError, match="cannot be split by day, week, month"):
        run(ReportQuery(("churn_rate",), ("month",), *period))
    with pytest.raises(ReportError, match="churn_rate needs the period's start and end"):
        run(ReportQuery(("churn_rate",)))


def test_clv_is_the_mean_of_the_models_latest_scores(demo_cache):
    """The demo cache holds no scores until the models are trained: the test writes a CLV model's
    scores as the scorer does (one row per customer and model), then reads them on both engines."""
    import numpy as np

    conn = sqlite3.connect(demo_cache)
    ids = [r for (r,) in conn.execute("SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id")]
    rng = np.random.default_rng(4)
    values = rng.gamma(2.0, 40_000.0, len(ids))
    conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at) "
                     "VALUES (?, 0, ?, ?, 'clv-test', ?, '2026-11-27 00:00:00')",
                     [(f"s{i}", cid, "clv", float(v)) for i, (cid, v) in enumerate(zip(ids, values, strict=True))])
    conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at) "
                     "VALUES (?, 0, ?, 'churn', 'churn-test', 0.5, '2026-11-27 00:00:00')",
                     [(f"c{i}", cid) for i, cid in enumerate(ids[:100])])
    conn.commit()
    frame = pd.read_sql("SELECT c.parish, s.value FROM score s JOIN customer c ON c.id = s.customer_id "
                        "WHERE s.model = 'clv'", conn)
    from c360_desktop.core import jamaica

    want = frame.groupby("parish")["value"].agg(["mean", "size"])
    want.index = [jamaica.parish_by_code()[c].address_name for c in want.index]
    from c360_desktop.core.reports.columnar import ColumnarCopy
    from c360_desktop.core.storage.cache import open_cache

    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    q = ReportQuery(("clv", "scored_customers", "revenue"), ("parish",), *H1, compare="last_year")
    with copy.cursor() as cur:
        results = [run_query(conn, q).frame, run_query(cur, q, "duckdb").frame]
    copy.close()
    cache.close()
    for got in results:
        got = got.set_index("Parish")
        assert got["Predicted lifetime value"].to_dict() == pytest.approx(want["mean"].to_dict())
        assert got["Customers with a CLV"].to_dict() == want["size"].to_dict()
        assert got["Predicted lifetime value last year"].isna().all(), "today's snapshot has no last year"
        assert got["Revenue last year"].notna().all()
    with pytest.raises(ReportError, match="clv cannot be split or filtered by month"):
        run_query(conn, ReportQuery(("clv",), ("month",)))


def test_both_distinct_count_paths_give_the_same_customers(demo_cache):
    """DuckDB counts distinct customers as bitstrings for reports with few groups, and per
    customer first for many: a wide report (town by week) must take the second way, a narrow
    one the first, and both agree with SQLite's COUNT(DISTINCT)."""
    from c360_desktop.core.reports import query as Q
    from c360_desktop.core.reports.columnar import ColumnarCopy
    from c360_desktop.core.storage.cache import open_cache

    narrow = ReportQuery(("customers", "new_customers", "revenue"), ("parish",), *H1)
    wide = ReportQuery(("customers", "new_customers", "revenue"), ("town", "week"), *H1)
    m = [MEASURES["customers"], MEASURES["new_customers"]]
    assert Q.use_bits(m, narrow, 3_000) and not Q.use_bits(m, wide, 3_000)
    cache = open_cache(demo_cache)
    copy = ColumnarCopy(cache)
    copy.ready()
    conn = sqlite3.connect(demo_cache)
    for q in (narrow, wide):
        with copy.cursor() as cur:
            got = run_query(cur, q, "duckdb").frame
        want = run_query(conn, q).frame
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    copy.close()
    cache.close()


def test_reports_join_only_the_tables_they_read():
    from c360_desktop.core.reports.query import pruned
    from c360_desktop.core.reports.semantic import FACTS

    src = FACTS["sale"].source
    assert pruned(src, "SELECT SUM(t.amount_cents) WHERE t.deleted_at IS NULL") == 'FROM "transaction" t'
    assert pruned(src, "SELECT c.parish") == 'FROM "transaction" t JOIN customer c ON c.id = t.customer_id'
    spend = FACTS["spend"].source  # an inner join that is not the customers' stays
    assert pruned(spend, "SELECT SUM(cs.amount_cents)") == spend
    by_territory = pruned(src, "SELECT tr.name")
    assert "LEFT JOIN sales_rep r" in by_territory and "LEFT JOIN territory tr" in by_territory  # through the rep
    assert "product" not in by_territory and "segment" not in by_territory
