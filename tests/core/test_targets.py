"""Targets: imported from the files people keep them in, checked row by row, prorated over the
days so far, and held against the dashboard's tiles."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from c360_desktop.core.reports.kpi import kpis
from c360_desktop.core.reports.semantic import ReportError
from c360_desktop.core.reports.targets import Target, target_for

C360 = str(Path(sys.executable).with_name("c360"))


def test_additive_targets_are_prorated_and_rates_are_not():
    held = [Target("revenue", date(2026, 11, 1), date(2026, 11, 30), 30_000_000.0),
            Target("revenue", date(2026, 12, 1), date(2026, 12, 31), 62_000_000.0),
            Target("revenue", date(2026, 11, 1), date(2026, 11, 30), 3_000_000.0, "parish", "JM-06"),
            Target("win_rate", date(2026, 10, 1), date(2026, 12, 31), 0.35)]
    assert target_for(held, "revenue", date(2026, 11, 1), date(2026, 11, 10)) == pytest.approx(10_000_000)
    assert target_for(held, "revenue", date(2026, 11, 21), date(2026, 12, 10)) == pytest.approx(30e6 / 3 + 20e6)
    assert target_for(held, "revenue", date(2026, 11, 1), date(2026, 11, 15), ("JM-06",)) == pytest.approx(1.5e6)
    assert target_for(held, "revenue", date(2026, 11, 1), date(2026, 11, 15), ("JM-01",)) is None
    assert target_for(held, "win_rate", date(2026, 11, 1), date(2026, 11, 15)) == 0.35
    assert target_for(held, "orders", date(2026, 11, 1), date(2026, 11, 15)) is None


def test_import_checks_every_row_then_writes_all_or_nothing(services, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("measure,month,target,parish\nrevenue,2026-11,\"30,000,000\",\nprofit,2026-11,5,\n"
                   "revenue,2026-13,5,\nrevenue,2026-11,lots,\nrevenue,2026-11,5,Atlantis\n", "utf-8")
    with pytest.raises(ReportError) as info:
        services.reports.import_targets(bad)
    message = str(info.value)
    for row, text in ((3, "unknown measure 'profit'"), (4, "month must be in 1..12"), (5, "could not convert"),
                      (6, "not a Jamaican parish")):
        assert f"row {row}: " in message and text in message, message
    assert services.reports.targets() == []
    good = tmp_path / "targets.csv"
    good.write_text("Measure,Month,Target,Parish\nrevenue,2026-11,\"J$30,000,000\",\nrevenue,2026-11,3000000,St Ann\n"
                    "win_rate,2026-11,0.35,\n", "utf-8")
    assert services.reports.import_targets(good) == (3, 0)
    good.write_text("measure,from,to,target\nrevenue,2026-11-01,2026-11-30,33000000\n", "utf-8")
    assert services.reports.import_targets(good) == (0, 1)  # the same measure, period and scope: replaced
    held = {(t.measure, t.dimension_value): t.value for t in services.reports.targets()}
    assert held == {("revenue", None): 33e6, ("revenue", "JM-06"): 3e6, ("win_rate", None): 0.35}


def test_tiles_hold_month_to_date_against_the_prorated_target(services, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("measure,month,target\nrevenue,2026-11,30000000\n", "utf-8")
    services.reports.import_targets(f)
    tiles = {t.measure: t for t in kpis(services.reports, "manager", date(2026, 11, 15))}
    revenue = tiles["revenue"]
    assert revenue.target == pytest.approx(15_000_000)
    assert revenue.of_target == pytest.approx(revenue.value / 15_000_000)
    assert tiles["orders"].target is None and tiles["orders"].of_target is None


def test_cli_targets(demo_cache, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("measure,month,target\norders,2026-10,500\n", "utf-8")
    r = subprocess.run([C360, "targets", "import", str(f), "--cache", str(demo_cache)], capture_output=True, text=True)
    assert r.returncode == 0 and "1 targets added" in r.stderr, r.stderr
    r = subprocess.run([C360, "targets", "list", "--json", "--cache", str(demo_cache)], capture_output=True, text=True)
    assert json.loads(r.stdout) == [{"measure": "orders", "from": "2026-10-01", "to": "2026-10-31", "target": 500.0,
                                     "dimension": None, "value": None}]
    r = subprocess.run([C360, "kpi", "--role", "manager", "--as-of", "2026-10-31", "--json", "--cache", str(demo_cache)],
                       capture_output=True, text=True)
    orders = next(t for t in json.loads(r.stdout) if t["measure"] == "orders")
    assert orders["target"] == 500.0 and orders["of_target"] == pytest.approx(orders["value"] / 500)
