"""The Health pane in the app: every check as a row with its colour, and Help > Health."""

import pytest
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import Settings
from c360_desktop.ui.main_window import refresh_and_bring_forward
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_the_pane_shows_each_check_with_its_status_and_reason(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(Settings(user_name="tester"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window = launcher.window
    (action,) = [a for a in window.menu("&Help").actions() if a.text() == "&Health"]
    pane = launcher.host.panes["health_pane"]
    with qtbot.waitSignal(pane.sig_checked, timeout=30_000) as checked:
        action.trigger()
    assert checked.args == ["amber"]  # an offline demo: no centre, no Kafka, no model yet
    assert window.docks["health_pane"].isVisible()
    table = pane.table
    rows = {table.item(r, 1).text(): (table.item(r, 0).text(), table.item(r, 3).text()) for r in range(table.rowCount())}
    assert rows["cache integrity"][0] == "● OK"
    assert rows["central database"][0] == "● Look" and "no connection profile" in rows["central database"][1]
    assert [c.name for c in pane.checks] == [table.item(r, 1).text() for r in range(table.rowCount())]
    assert "Look" in pane.summary.text()
    window.resize(1366, 768)
    QApplication.processEvents()
    save_screenshot(window, "health_pane")
    pane.integrity_box.setChecked(False)
    with qtbot.waitSignal(pane.sig_checked, timeout=30_000):
        refresh_and_bring_forward(pane)
    assert "not checked this time" in {c.name: c.reason for c in pane.checks}["cache integrity"]
