"""The app runs due report schedules in a worker and says so in the status bar."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from PySide6.QtWidgets import QMainWindow

from c360_desktop.core.reports.saved import Definition
from c360_desktop.core.reports.schedules import Schedule
from c360_desktop.ui.controllers.schedules import ScheduleController

pytestmark = [pytest.mark.ui]


def test_a_due_schedule_runs_off_the_gui_thread(qtbot, services, runner, tmp_path):
    report = services.reports.save("Parish week", Definition(("revenue",), ("parish",), "last_7_days"))
    services.reports.add_schedule(Schedule("s", report.id, "daily", time(6, 0), format="pdf", folder=str(tmp_path),
                                           created_at=datetime(2026, 11, 1)))
    window = QMainWindow()
    qtbot.addWidget(window)
    controller = ScheduleController(window, services, runner)
    with qtbot.waitSignal(controller.sig_ran, timeout=60_000) as ran:
        assert controller.check(datetime(2026, 11, 23, 9, 0)) is not None
    (run,) = ran.args[0]
    assert run.status == "written" and run.file.endswith("Parish week 2026-11-23 0600.pdf")
    assert (tmp_path / "Parish week 2026-11-23 0600.pdf").read_bytes().startswith(b"%PDF-")
    assert "Scheduled reports: written" in window.statusBar().currentMessage()
    controller.stop()


def test_the_budget_monitor_raises_each_campaign_once(qtbot, services, runner):
    window = QMainWindow()
    qtbot.addWidget(window)
    controller = ScheduleController(window, services, runner)
    with qtbot.waitSignal(controller.sig_alerts_raised, timeout=60_000) as raised:
        assert controller.check_budgets() is not None
    assert [a.title.split(" will pass")[0] for a in raised.args[0]] == ["Black Friday 2026"]
    qtbot.waitUntil(lambda: controller.budget_task is None, timeout=5_000)
    again = controller.check_budgets()
    qtbot.waitUntil(lambda: again.done, timeout=60_000)
    assert services.reports.raise_budget_alerts() == []
    controller.stop()
