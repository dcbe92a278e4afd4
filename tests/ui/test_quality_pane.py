"""The Data quality pane in the app: the planted defects' figures, the failing rows with their
fixes, a steward approving one from the queue, and measuring again after an import."""

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import Settings
from tests.conftest import save_screenshot
from tests.core.test_quality import plant

pytestmark = pytest.mark.ui


def _rows(table):
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_a_steward_finds_the_planted_defects_and_approves_a_fix(qtbot, launch, demo_cache):
    planted = plant(demo_cache)
    start, _rec = launch
    launcher = start(Settings(user_name="sam.steward", role="data_steward"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window = launcher.window
    (action,) = [a for a in window.menu("&Go").actions() if a.text() == "Data &quality"]
    pane = launcher.host.panes["quality_pane"]
    with qtbot.waitSignal(pane.sig_measured, timeout=30_000) as measured:
        action.trigger()
    assert window.docks["quality_pane"].isVisible()
    run = measured.args[0]
    rules = {row[1]: row for row in _rows(pane.rules_table)}
    assert rules["Phones in E.164 and valid"][4] == "55" and rules["Phones in E.164 and valid"][0] == "● Look"
    assert rules["Parish codes known (JM-01 to JM-14)"][4] == "25"
    assert rules["Sources imported recently"][7].startswith("stale: spreadsheet")
    assert len(rules) == len(run.results)

    phone_row = next(i for i, r in enumerate(pane.results) if r.rule_id == "customer.phone.valid")
    pane.rules_table.selectRow(phone_row)
    qtbot.waitUntil(lambda: pane.rows_table.rowCount() == 55, timeout=10_000)
    fixes = [r[2] for r in _rows(pane.rows_table)]
    assert sum(v.startswith(("+1876", "+1658")) for v in fixes) == 40 and fixes.count("—") == 15
    window.resize(1366, 768)
    QApplication.processEvents()
    save_screenshot(window, "quality_pane")

    pane.raise_issues()
    qtbot.waitUntil(lambda: pane.issues_table.rowCount() == 55, timeout=10_000)
    assert pane.tabs.currentIndex() == 1
    first = next(i for i, issue in enumerate(pane.issues) if issue.entity_id == planted["local_phone"][0])
    pane.issues_table.selectRow(first)
    issue = pane.issues[first]
    window.activateWindow()
    pane.issues_table.setFocus()
    qtbot.keyClick(pane.issues_table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "fix applied" in pane.issues_label.text(), timeout=10_000)
    assert len(pane.issues) == 54 and pane.issues_table.rowCount() == 54  # the approved one left the open queue
    assert "1 fix applied and queued for sync" in pane.issues_label.text()
    conn = sqlite3.connect(demo_cache)
    assert conn.execute("SELECT primary_phone FROM customer WHERE id = ?",
                        (issue.entity_id,)).fetchone()[0] == issue.suggested_value
    save_screenshot(window, "quality_queue")
    pane.tabs.setCurrentIndex(2)
    QApplication.processEvents()
    save_screenshot(window, "quality_trend")

    with qtbot.waitSignal(pane.sig_measured, timeout=30_000) as again:
        for listener in launcher.imports.imported:  # what an import's end calls
            listener()
    assert next(r.failing for r in again.args[0].results if r.rule_id == "customer.phone.valid") == 54
    assert conn.execute("SELECT trigger FROM quality_run ORDER BY ran_at DESC, rowid DESC LIMIT 1").fetchone() == (
        "import",)
    conn.close()


def test_other_roles_see_figures_but_no_stewarding_buttons(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(Settings(user_name="ana", role="analyst"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    pane = launcher.host.panes["quality_pane"]
    with qtbot.waitSignal(pane.sig_measured, timeout=30_000):
        pane.measure()
    assert pane.rules_table.rowCount() > 10
    assert not pane.approve_button.isVisibleTo(pane) and not pane.raise_button.isVisibleTo(pane)
    assert "Only data stewards" in pane.issues_label.text()
