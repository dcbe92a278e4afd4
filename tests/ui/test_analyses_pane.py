"""The Analyses pane on demo data: each tab read off the GUI thread, its figures those of the
report service, rendered offscreen for a look."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from c360_desktop.ui.panes.analyses.pane import TABS, AnalysesPane, heat
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.ui]


def _tab(qtbot, pane, name):
    pane.tabs.setCurrentIndex(TABS.index(name))  # reads the tab the first time it is shown
    qtbot.waitUntil(lambda: name in pane.shown and pane.task is None, timeout=60_000)
    return pane.pages[name]


def test_every_tab_fills_from_the_report_service(qtbot, services, runner):
    pane = AnalysesPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1366, 720)
    pane.show()
    handle = pane.refresh()
    assert handle is not None and not pane.run_button.isEnabled()  # in a worker, one at a time
    qtbot.waitUntil(lambda: "Cohorts" in pane.shown, timeout=60_000)
    end = pane.end_edit.date().toPython()
    start = pane.start_edit.date().toPython()
    assert start.day == 1 and (end - start).days > 330
    cohorts = services.reports.cohorts(start, end)
    _title, table = pane.pages["Cohorts"].tables[0]
    assert table.rowCount() == len(cohorts.counts)
    assert table.item(0, 0).text() == cohorts.counts.index[0]
    assert table.item(0, 1).text() == f"{int(cohorts.sizes.iloc[0]):,}"
    m1 = cohorts.shares.iloc[0, 1]
    darkest = float(cohorts.shares.iloc[:, 1:].max().max())
    assert table.item(0, 2).text() == f"{m1:.1%}" and table.item(0, 2).background().color() == heat(m1 / darkest)
    save_screenshot(pane, "analyses_cohorts")

    page = _tab(qtbot, pane, "Campaigns")
    report = services.reports.campaigns(end, start, end)
    _title, table = page.tables[0]
    assert table.rowCount() == len(report.frame)
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "Black Friday 2026")
    assert table.item(row, 4).text() == "running"
    assert table.item(row, 9).foreground().color().name() == "#b3261e", "over budget: in red"
    assert "will pass their budget: Black Friday 2026" in pane.status.text()
    assert page.chart is not None and page.chart.widget is not None
    save_screenshot(pane, "analyses_campaigns")

    for name in ("Affinity", "Journey", "Seasonality", "RFM", "Correlations"):
        page = _tab(qtbot, pane, name)
        assert page.tables[0][1].rowCount() > 0, name
        qtbot.waitUntil(lambda page=page: all(t.isVisible() and t.height() > 100 for _l, t in page.tables),
                        timeout=5_000)
        save_screenshot(pane, f"analyses_{name.lower()}")
    journey = pane.pages["Journey"].tables[0][1]
    stages = services.reports.journey(end)
    assert [journey.item(r, 1).text() for r in range(5)] == [f"{s['customers']:,}" for s in stages.stages]


def test_a_parish_and_period_are_read_again_on_run(qtbot, services, runner):
    pane = AnalysesPane(services, runner)
    qtbot.addWidget(pane)
    pane.show()
    pane.refresh()
    qtbot.waitUntil(lambda: "Cohorts" in pane.shown and pane.task is None, timeout=60_000)
    everyone = pane.pages["Cohorts"].tables[0][1].item(0, 1).text()
    pane.parish.setCurrentText("St. Ann")
    qtbot.keyClick(pane.run_button, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: pane.task is None, timeout=60_000)
    start, end = pane.start_edit.date().toPython(), pane.end_edit.date().toPython()
    st_ann = services.reports.cohorts(start, end, where=(("parish", "St. Ann"),))
    assert pane.pages["Cohorts"].tables[0][1].item(0, 1).text() == f"{int(st_ann.sizes.iloc[0]):,}" != everyone


def test_a_tab_exports_to_excel_in_a_worker_and_a_field_rep_may_not(qtbot, services, runner, tmp_path):
    from openpyxl import load_workbook

    pane = AnalysesPane(services, runner)
    qtbot.addWidget(pane)
    pane.show()
    _tab(qtbot, pane, "Campaigns")
    tables = pane.tables_shown()
    assert [t.title for t in tables] == ["Campaigns: Spend, results and budget by campaign"]
    handle = pane.export_button.start(tables[0], tmp_path / "campaigns", "xlsx")
    qtbot.waitUntil(lambda: handle.done, timeout=30_000)
    out = tmp_path / "campaigns.xlsx"
    assert str(out) in pane.status.text() and pane.export_button.last.rows == len(tables[0].frame)
    ws = load_workbook(out)["Report"]
    assert [c.value for c in ws[1]][:3] == ["Campaign", "Channel", "Start"]
    assert ws.cell(2, 6).value == pytest.approx(tables[0].frame["Budget"].iloc[0])
    assert ws.cell(2, 6).number_format == '"J$"#,##0.00'

    services.settings = services.settings.model_copy(update={"role": "field_rep"})
    rep_pane = AnalysesPane(services, runner)
    qtbot.addWidget(rep_pane)
    assert not rep_pane.export_button.isEnabled() and "may not export" in rep_pane.export_button.toolTip()


def test_the_explain_tab_says_why_revenue_changed_with_figures_that_add_up(qtbot, services, runner):
    pane = AnalysesPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1366, 720)
    pane.show()
    page = _tab(qtbot, pane, "Explain")
    summary = pane.status.text()
    assert summary.startswith("Revenue ") and "J$" in summary
    _caption, frame, _units = pane.shown["Explain"].tables[1]
    assert len(set(frame["Sum of the changes"].round(2))) == 1, "every split sums to the same total change"
    assert page.tables[0][1].rowCount() > 0
    qtbot.waitUntil(lambda: all(t.isVisible() and t.height() > 100 for _l, t in page.tables), timeout=5_000)
    save_screenshot(pane, "analyses_explain")
