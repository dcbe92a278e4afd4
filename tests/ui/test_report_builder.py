"""The report builder on demo data: the result follows the choices (read in a worker), charts and
the parish map draw, a cell drills down to its customers and on to the 360 view, reports are
saved, renamed, copied, deleted and annotated."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from c360_desktop.core.reports.saved import Definition
from c360_desktop.ui.panes.reports.pane import ReportBuilderPane
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.ui]


def _pane(qtbot, services, runner, opened=None):
    pane = ReportBuilderPane(services, runner, (opened if opened is not None else []).append)
    qtbot.addWidget(pane)
    pane.resize(1366, 760)
    pane.show()
    return pane


def _wait(qtbot, pane):
    qtbot.waitUntil(lambda: pane.task is None and not pane.debounce.isActive() and pane.result is not None,
                    timeout=60_000)


def test_choices_update_the_result_in_a_worker_and_charts_draw(qtbot, services, runner):
    pane = _pane(qtbot, services, runner)
    with qtbot.waitSignal(pane.sig_result, timeout=60_000):
        assert pane.refresh() is not None
    # the default: revenue by month over the last 12 complete months
    first = pane.result
    assert first.query.by == ("month",) and len(first.frame) == 12
    assert pane.table.item(0, 1).text() == f"J${first.frame['Revenue'].iloc[0]:,.0f}"
    # tick orders, split by parish then segment, bar chart: one read after the choices settle
    pane.measures.item(list(d for d in range(pane.measures.count())
                            if pane.measures.item(d).data(Qt.ItemDataRole.UserRole) == "orders")[0]) \
        .setCheckState(Qt.CheckState.Checked)
    pane.by1.setCurrentIndex(pane.by1.findData("parish"))
    pane.chart.setCurrentIndex(pane.chart.findData("bar"))
    assert pane.debounce.isActive()
    with qtbot.waitSignal(pane.sig_result, timeout=60_000):
        pass
    _wait(qtbot, pane)
    got = pane.result
    want = services.reports.query(got.query).frame
    assert got.query.measures == ("revenue", "orders") and got.query.by == ("parish",)
    assert got.frame["Revenue"].tolist() == want["Revenue"].tolist() and len(want) == 14
    assert pane.charts.currentIndex() == 1 and pane.plot.widget is not None
    save_screenshot(pane, "report_builder_bar")
    pane.chart.setCurrentIndex(pane.chart.findData("map"))
    _wait(qtbot, pane)
    qtbot.waitUntil(lambda: bool(pane.map.values), timeout=10_000)
    assert pane.charts.currentIndex() == 2
    assert pane.map.values["St. Ann"] == pytest.approx(float(want.set_index("Parish").loc["St. Ann", "Revenue"]))
    save_screenshot(pane, "report_builder_map")
    pane.by2.setCurrentIndex(pane.by2.findData("kind"))
    pane.chart.setCurrentIndex(pane.chart.findData("pivot"))
    _wait(qtbot, pane)
    headers = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    assert headers == ["Parish", "business", "individual"]
    # a choice that is not a report says why and reads nothing
    pane.chart.setCurrentIndex(pane.chart.findData("table"))
    pane.by1.setCurrentIndex(pane.by1.findData("month"))
    pane.by2.setCurrentIndex(pane.by2.findData("year"))
    qtbot.waitUntil(lambda: "Not yet a report: split by one time dimension" in pane.status.text(), timeout=5_000)


def test_a_cell_drills_down_to_its_customers_and_their_360_view(qtbot, services, runner, monkeypatch):
    monkeypatch.setattr("c360_desktop.ui.panes.reports.pane.LINES_SHOWN", 100)  # the demo's St Ann has fewer than 1,000
    opened: list[str] = []
    pane = _pane(qtbot, services, runner, opened)
    pane.show_definition(Definition(("revenue", "orders"), ("parish",), "last_12_months"))
    _wait(qtbot, pane)
    row = pane.result.frame.index[pane.result.frame["Parish"] == "St. Ann"][0]
    pane.drill(int(row))
    qtbot.waitUntil(lambda: pane.drilled is not None, timeout=30_000)
    assert pane.drilled["Revenue"].sum() == pytest.approx(pane.result.frame.loc[row, "Revenue"])
    dialog = pane.drill_dialog
    save_screenshot(dialog, "report_builder_drill")
    dialog.table.cellDoubleClicked.emit(0, 0)
    assert opened == [pane.drilled.iloc[0]["customer_id"]]
    # the sales lines behind the same figure, newest first, each opening its customer
    lines = pane.drilled_lines
    assert set(lines["Parish"]) == {"St. Ann"} and lines["Date"].is_monotonic_decreasing
    orders = int(pane.result.frame.loc[row, "Orders"])
    assert dialog.tabs.tabText(1) == f"&Sales lines (100 newest of {orders:,})"
    assert dialog.lines_table.rowCount() == len(lines) == 100
    dialog.tabs.setCurrentIndex(1)
    save_screenshot(dialog, "report_builder_drill_lines")
    dialog.lines_table.cellDoubleClicked.emit(2, 0)
    assert opened[-1] == lines.iloc[2]["customer_id"]
    assert [t.title for t in pane.tables_shown()][-2:] == ["customers behind Parish St. Ann",
                                                          "sales lines behind Parish St. Ann"]


def test_filters_add_and_remove(qtbot, services, runner):
    pane = _pane(qtbot, services, runner)
    pane.show_definition(Definition(("revenue",), ("parish",), "last_12_months"))
    _wait(qtbot, pane)
    for value in ("St Ann", "Trelawny"):
        pane.filter_dim.setCurrentIndex(pane.filter_dim.findData("parish"))
        qtbot.keyClicks(pane.filter_value, value)
        qtbot.keyClick(pane.filter_value, Qt.Key.Key_Return)
    pane.filter_dim.setCurrentIndex(pane.filter_dim.findData("kind"))
    pane.filter_value.setText("business")
    pane.add_filter_button.click()
    assert pane.definition().where == (("parish", "St Ann"), ("parish", "Trelawny"), ("kind", "business"))
    assert pane.filter_value.text() == "" and pane.filters.isVisibleTo(pane)
    _wait(qtbot, pane)
    assert set(pane.result.frame["Parish"]) == {"St. Ann", "Trelawny"}
    want = services.reports.query(pane.definition().query(pane.today)).frame
    assert list(pane.result.frame["Revenue"]) == list(want["Revenue"])
    save_screenshot(pane, "report_builder_filters")
    pane.filters.setCurrentRow(1)
    qtbot.keyClick(pane.filters, Qt.Key.Key_Delete)
    assert pane.definition().where == (("parish", "St Ann"), ("kind", "business"))
    _wait(qtbot, pane)
    assert set(pane.result.frame["Parish"]) == {"St. Ann"}
    pane.filter_dim.setCurrentIndex(0)
    pane.filter_value.setText("oops")
    pane.add_filter()
    assert "Choose what to filter on" in pane.status.text() and len(pane.definition().where) == 2


def test_save_rename_copy_note_and_delete(qtbot, services, runner):
    pane = _pane(qtbot, services, runner)
    pane.show_definition(Definition(("revenue",), ("parish",), "last_month", chart="map"))
    _wait(qtbot, pane)
    saved = pane.save_report("Last month by parish")
    assert saved.definition.period == "last_month" and pane.saved_list.count() == 1
    assert "not yet synced" in pane.saved_list.item(0).text()
    pane.rename_report("Parish revenue, last month")
    assert services.reports.saved_report(saved.id).name == "Parish revenue, last month"
    pane.table.setCurrentCell(2, 1)
    parish = pane.result.frame.iloc[2]["Parish"]
    pane.pin_note("Road works on the main street all month.")
    assert pane.table.item(2, 0).background().color().name() == "#fff4ce"
    assert f"Note by tester on Parish {parish}" in pane.notes.text() and "Road works" in pane.notes.text()
    save_screenshot(pane, "report_builder_saved")
    copy = pane.duplicate_report()
    assert copy.name == "Parish revenue, last month (copy)" and pane.saved_list.count() == 2
    pane.delete_report(confirmed=True)
    assert [r.name for r in services.reports.saved()] == ["Parish revenue, last month"]
    pane.new_report()
    _wait(qtbot, pane)
    pane.saved_list.itemClicked.emit(pane.saved_list.item(0))
    _wait(qtbot, pane)
    assert pane.chart.currentData() == "map" and pane.current.id == saved.id
