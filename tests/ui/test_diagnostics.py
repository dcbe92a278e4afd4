"""Help > Diagnostics and the crash dialog, in the running app."""

import json
import sys
import threading
import zipfile

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QMessageBox

from c360_desktop.core import logs
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_help_diagnostics_shows_the_state_and_saves_a_bundle(qtbot, launch, demo_cache, log_file, tmp_path):
    start, _rec = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window = launcher.window
    help_menu = window.menu("&Help")
    (action,) = [a for a in help_menu.actions() if a.text() == "&Diagnostics…"]
    action.trigger()
    dialog = window.findChild(QDialog, "diagnostics_dialog")
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    tree = dialog.tree
    sections = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    assert {"Cache", "Sync", "Broker", "Paths", "Versions", "Plugins"} <= set(sections)
    cache = {sections["Cache"].child(i).text(0): sections["Cache"].child(i).text(1)
             for i in range(sections["Cache"].childCount())}
    (customers,) = launcher.services.cache.reader().execute(
        "SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
    assert cache["integrity"] == "ok" and cache["customers"] == f"{customers:,}"
    plugins = sections["Plugins"]
    loaded = [plugins.child(i).text(0) for i in range(plugins.childCount()) if plugins.child(i).text(1) == "loaded"]
    assert len(loaded) == len(launcher.plugin_reports) and len(loaded) >= 5
    assert "integrity ok" in dialog.status.text()
    dialog.tabs.setCurrentIndex(1)
    assert dialog.log_view.toPlainText()  # the recent log is there
    dialog.tabs.setCurrentIndex(0)
    save_screenshot(dialog, "diagnostics")
    out = tmp_path / "support.zip"
    dialog.save_bundle(out)
    qtbot.waitUntil(lambda: "bundle saved" in dialog.status.text(), timeout=10_000)
    with zipfile.ZipFile(out) as z:
        report = json.loads(z.read("diagnostics.json"))
    assert report["cache"]["customers"] == customers
    assert [p["name"] for p in report["plugins"]] == [r.name for r in launcher.plugin_reports]
    dialog.close()


@pytest.mark.qt_no_exception_capture
def test_an_error_nobody_caught_is_logged_and_shown_and_the_app_goes_on(qtbot, launch, demo_cache, log_file,
                                                                        monkeypatch):
    from c360_desktop.ui.widgets.diagnostics import CrashReporter

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    start, _rec = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    reporter = CrashReporter()
    logs.install_crash_handler(reporter.report)

    def broken_slot():
        raise RuntimeError("a bug in a slot")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: any(b.isVisible() for b in reporter.shown), timeout=10_000)
    box = reporter.shown[-1]
    assert box.icon() == QMessageBox.Icon.Critical and "RuntimeError: a bug in a slot" in box.detailedText()
    save_screenshot(box, "crash_dialog")
    crashes = [json.loads(line) for line in log_file.read_text().splitlines() if '"CRITICAL"' in line]
    assert crashes and "RuntimeError: a bug in a slot" in crashes[0]["exc"]
    box.close()
    lookup = launcher.host.panes["lookup_pane"]
    with qtbot.waitSignal(lookup.sig_results_shown, timeout=10_000):
        lookup.search_box.setText("brown")  # still working
