"""Saved reports: kept by name with relative periods, renamed, copied, deleted and annotated, each
change queued in the outbox; the command line lists, runs and exports them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from c360_desktop.core.reports.query import ReportQuery
from c360_desktop.core.reports.saved import Definition, from_query
from c360_desktop.core.reports.semantic import ReportError

C360 = str(Path(sys.executable).with_name("c360"))


@pytest.mark.parametrize(("period", "today", "want"), [
    ("last_7_days", date(2026, 11, 26), (date(2026, 11, 20), date(2026, 11, 26))),
    ("last_week", date(2026, 11, 26), (date(2026, 11, 16), date(2026, 11, 22))),  # a Thursday
    ("month_to_date", date(2026, 11, 26), (date(2026, 11, 1), date(2026, 11, 26))),
    ("last_month", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
    ("quarter_to_date", date(2026, 11, 26), (date(2026, 10, 1), date(2026, 11, 26))),
    ("year_to_date", date(2026, 11, 26), (date(2026, 1, 1), date(2026, 11, 26))),
    ("last_12_months", date(2026, 11, 26), (date(2025, 11, 1), date(2026, 10, 31))),
    ("last_12_months", date(2027, 1, 5), (date(2026, 1, 1), date(2026, 12, 31))),
    ("all", date(2026, 11, 26), (None, None)),
])
def test_relative_periods_move_with_the_day(period, today, want):
    assert Definition(("revenue",), period=period).days(today) == want


def test_definitions_round_trip_and_bad_ones_are_named():
    d = from_query(ReportQuery(("revenue", "orders"), ("parish", "month"), date(2026, 1, 1), date(2026, 6, 30),
                               (("segment", "VIP"),), "last_year"), chart="bar")
    assert Definition.from_json(d.as_json()) == d
    for text, message in (("{", "not JSON"), ('{"format": 9, "measures": ["revenue"]}', "newer C360 Desktop"),
                          ('{"by": []}', "lacks or garbles"),
                          ('{"measures": ["profit"]}', "unknown measure 'profit'"),
                          ('{"measures": ["revenue"], "chart": "map"}', "add parish"),
                          ('{"measures": ["revenue"], "period": "someday"}', "unknown period 'someday'")):
        with pytest.raises(ReportError, match=message):
            Definition.from_json(text)


def test_save_rename_copy_annotate_delete_each_queue_a_change(services):
    reports = services.reports
    month = Definition(("revenue", "orders"), ("parish",), "last_month", chart="bar")
    saved = reports.save("Parish revenue", month)
    assert saved.owner == "tester" and saved.pending_sync and saved.definition == month
    with pytest.raises(ReportError, match="a report named 'Parish revenue' exists already"):
        reports.save("parish  REVENUE", month)
    renamed = reports.rename(saved.id, "Revenue by parish, last month")
    copy = reports.duplicate(saved.id)
    assert copy.name == "Revenue by parish, last month (copy)" and copy.definition == month
    assert reports.duplicate(saved.id).name.endswith("(copy 2)")
    note = reports.annotate(renamed.id, "St. Ann dipped: the Ocho Rios store was shut for two days.",
                            {"Parish": "St. Ann"})
    assert reports.saved_report(renamed.id).annotations == [note]
    reports.delete(copy.id)
    assert [r.name for r in reports.saved()] == ["Revenue by parish, last month",
                                                 "Revenue by parish, last month (copy 2)"]
    conn = sqlite3.connect(services.cache.path)
    queued = conn.execute("SELECT entity, operation, payload FROM outbox ORDER BY seq").fetchall()
    assert [(e, o) for e, o, _p in queued] == [
        ("saved_report", "insert"), ("saved_report", "update"), ("saved_report", "insert"),
        ("saved_report", "insert"), ("report_annotation", "insert"), ("saved_report", "update")]
    assert json.loads(queued[1][2])["changes"] == {"name": "Revenue by parish, last month"}
    assert json.loads(queued[1][2])["base"] == {"name": "Parish revenue"}
    assert "deleted_at" in json.loads(queued[-1][2])["changes"]


def test_a_report_that_cannot_be_read_is_listed_with_why(services):
    saved = services.reports.save("Odd", Definition(("revenue",)))
    with services.cache.writer() as conn:
        conn.execute("UPDATE saved_report SET definition = ? WHERE id = ?", ('{"measures": ["profit"]}', saved.id))
    odd = services.reports.saved_report("odd")
    assert odd.definition is None and "unknown measure 'profit'" in odd.problem
    with pytest.raises(ReportError, match="'Odd' cannot be run: unknown measure"):
        services.reports.run_saved("Odd")
    with pytest.raises(ReportError, match="no saved report 'nope'; saved: 'Odd'"):
        services.reports.saved_report("nope")


def test_cli_save_list_run_export(demo_cache, tmp_path):
    def c360(*args, ok=True):
        r = subprocess.run([C360, *args, "--cache", str(demo_cache)], capture_output=True, text=True, timeout=120)
        assert (r.returncode == 0) == ok, r.stderr
        return r

    c360("report", "save", "Monthly parish", "--measure", "revenue,orders", "--by", "parish",
         "--period", "last_month", "--chart", "bar")
    assert "exists already" in c360("report", "save", "monthly parish", "--measure", "revenue", ok=False).stderr
    listed = json.loads(c360("report", "list", "--json").stdout)
    assert [r["name"] for r in listed] == ["Monthly parish"] and listed[0]["pending_sync"]
    run = json.loads(c360("report", "run", "Monthly parish", "--as-of", "2026-11-26").stdout)
    october = c360("report", "query", "--measure", "revenue,orders", "--by", "parish", "--from", "2026-10-01",
                   "--to", "2026-10-31")
    assert run["rows"] == json.loads(october.stdout)["rows"] and len(run["rows"]) == 14
    out = tmp_path / "monthly.xlsx"
    r = c360("report", "export", "Monthly parish", "--as-of", "2026-11-26", "--out", str(out))
    assert out.read_bytes().startswith(b"PK") and "2026-10-01 to 2026-10-31" in r.stderr
    assert "no saved report 'Weekly'" in c360("report", "run", "Weekly", ok=False).stderr
    c360("report", "delete", "Monthly parish")
    assert json.loads(c360("report", "list", "--json").stdout) == []
