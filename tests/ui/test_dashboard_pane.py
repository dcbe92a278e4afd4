"""The KPI dashboard on demo data: the role's tiles, filled off the GUI thread, each opening its figure."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt

from c360_desktop.core.reports.kpi import LAYOUTS
from c360_desktop.ui.panes.dashboard.pane import DashboardPane
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.ui]


def _filled(qtbot, services, runner):
    pane = DashboardPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1366, 720)
    pane.show()
    handle = pane.refresh()
    assert handle is not None and not pane.refresh_button.isEnabled()  # one fill at a time, in a worker
    qtbot.waitUntil(lambda: pane.filled is not None, timeout=60_000)
    return pane


def test_a_managers_tiles_show_month_to_date_against_last_year_and_open_by_parish(qtbot, services, runner):
    pane = _filled(qtbot, services, runner)
    shown = [t for t in pane.tiles if t.isVisible()]
    assert [t.measure for t in shown] == list(LAYOUTS["analyst"])  # the tester's role is the default, analyst
    tile = pane.filled.tiles[0]
    start, end = tile.period
    conn = sqlite3.connect(services.cache.path)
    (cents,) = conn.execute('SELECT sum(amount_cents) FROM "transaction" WHERE deleted_at IS NULL AND '
                            "occurred_at >= ? AND occurred_at < date(?, '+1 day')", (start, end)).fetchone()
    assert round(tile.value * 100) == cents
    assert shown[0].value.text() == f"J${cents / 100:,.0f}"
    assert "against the same days last year" in shown[0].change.text()
    with qtbot.waitSignal(pane.sig_report_opened, timeout=5_000):
        qtbot.mouseClick(shown[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.detail_result is not None, timeout=30_000)
    assert pane.detail.rowCount() == 14 and pane.detail.horizontalHeaderItem(0).text() == "Parish"
    assert pane.detail_result.frame["Revenue"].sum() == pytest.approx(cents / 100)
    save_screenshot(pane, "dashboard_analyst")


@pytest.mark.parametrize("role", ["manager", "field_rep"])
def test_each_role_has_its_layout(qtbot, services, runner, role):
    services.settings = services.settings.model_copy(update={"role": role})
    pane = _filled(qtbot, services, runner)
    assert [t.measure for t in pane.tiles if t.isVisible()] == list(LAYOUTS[role])
    assert pane.title.text().startswith(role.replace("_", " ").capitalize())
    save_screenshot(pane, f"dashboard_{role}")


def test_a_user_arranges_their_tiles_and_the_arrangement_is_kept(qtbot, services, runner):
    from c360_desktop.core.settings import load_settings
    from c360_desktop.ui.panes.dashboard.pane import TilesDialog

    pane = _filled(qtbot, services, runner)
    default = list(LAYOUTS["analyst"])
    dialog = TilesDialog(default, pane)
    dialog.list.setCurrentRow(2)
    dialog.move(-1)  # the third tile one place up
    roas = next(i for i in range(dialog.list.count()) if dialog.list.item(i).data(Qt.ItemDataRole.UserRole) == "roas")
    dialog.list.item(roas).setCheckState(Qt.CheckState.Checked)  # a tile added
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)  # the first removed
    chosen = dialog.chosen()
    assert chosen == [default[2], default[1], *default[3:], "roas"]
    pane.filled = None
    pane.set_tiles(chosen)
    qtbot.waitUntil(lambda: pane.filled is not None, timeout=60_000)
    assert [t.measure for t in pane.tiles if t.isVisible()] == chosen
    saved, problems = load_settings()
    assert not problems and saved.dashboard_tiles == {"analyst": chosen}
    # from a tile's context menu: move the last one left
    pane.filled = None
    pane._tile_menu("roas", "left")
    qtbot.waitUntil(lambda: pane.filled is not None, timeout=60_000)
    assert [t.measure for t in pane.tiles if t.isVisible()][-2:] == ["roas", chosen[-2]]
    save_screenshot(pane, "dashboard_arranged")
    pane.filled = None
    pane.set_tiles(None)  # back to the default: nothing kept
    qtbot.waitUntil(lambda: pane.filled is not None, timeout=60_000)
    assert load_settings()[0].dashboard_tiles == {}
    assert [t.measure for t in pane.tiles if t.isVisible()] == default


def test_unknown_tiles_in_the_settings_file_are_named():
    from pydantic import ValidationError

    from c360_desktop.core.settings import Settings

    with pytest.raises(ValidationError, match="dashboard analyst: unknown measure 'profit'"):
        Settings(dashboard_tiles={"analyst": ["revenue", "profit"]})


def test_a_tile_is_held_against_its_target(qtbot, services, runner, tmp_path):
    f = tmp_path / "targets.csv"
    f.write_text("measure,month,target\nrevenue,2026-11,1000000000\n", "utf-8")  # far above the demo's month
    services.reports.import_targets(f)
    pane = _filled(qtbot, services, runner)
    revenue = next(t for t in pane.tiles if t.measure == "revenue")
    tile = next(t for t in pane.filled.tiles if t.measure == "revenue")
    assert revenue.against_target.text() == f"○ {tile.of_target:.0%} of target (J${tile.target:,.0f} to date)"
    assert "#b3261e" in revenue.against_target.styleSheet()
    assert next(t for t in pane.tiles if t.measure == "customers").against_target.text() == "no target set"
    save_screenshot(pane, "dashboard_targets")


def test_more_tiles_than_one_query_takes_and_a_year_window_measure(qtbot, services, runner):
    from c360_desktop.core.reports.query import MOST_MEASURES

    pane = _filled(qtbot, services, runner)
    names = ["revenue", "orders", "customers", "new_customers", "average_order_value", "pipeline_value", "win_rate",
             "campaign_spend", "active_customers", "churn_rate"]
    assert len(names) > MOST_MEASURES
    pane.filled = None
    pane.set_tiles(names)
    qtbot.waitUntil(lambda: pane.filled is not None, timeout=60_000)
    assert [t.measure for t in pane.tiles if t.isVisible()] == names
    churn = next(t for t in pane.filled.tiles if t.measure == "churn_rate")
    assert churn.value is not None and 0 < churn.value < 1 and "Churn rate" not in pane.filled.series
    assert len(pane.filled.series["Revenue"]) == 12
