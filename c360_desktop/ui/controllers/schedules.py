"""Runs the report schedules while the app is open: once soon after start (slots missed while the
laptop was closed run then, once each), then every minute; and the campaign budget monitor soon
after start, every hour and after each sync. Both in a reader worker, never on the GUI thread,
nor on the writer thread (the first report on a cache may build the columnar copy for minutes;
the cache serialises the few writes themselves). Outcomes go to the status bar; failures stay
listed in ``c360 report schedules``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from c360_desktop.core.services import Services
from c360_desktop.ui.workers import TaskHandle, TaskRunner

log = logging.getLogger(__name__)
FIRST_CHECK_MS = 5_000  # after the window is up: start-up does not wait for a report
EVERY_MS = 60_000
BUDGETS_FIRST_MS = 8_000
BUDGETS_EVERY_MS = 3_600_000


class ScheduleController(QObject):
    sig_ran = Signal(object)
    """Runs made by a check (a list of core.reports.schedules.Run)."""
    sig_alerts_raised = Signal(object)
    """New campaign budget alerts (a list of core.alerts.pipeline.NewAlert), for the Alerts pane."""

    def __init__(self, window: Any, services: Services, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        self.task: TaskHandle | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(EVERY_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.budget_task: TaskHandle | None = None
        self.budget_timer = QTimer(self)
        self.budget_timer.setInterval(BUDGETS_EVERY_MS)
        self.budget_timer.timeout.connect(self.check_budgets)
        self.budget_timer.start()
        self.first_checks = []  # soon after start: missed runs, then the budgets
        for delay, slot in ((FIRST_CHECK_MS, self.check), (BUDGETS_FIRST_MS, self.check_budgets)):
            once = QTimer(self, singleShot=True, interval=delay)
            once.timeout.connect(slot)
            once.start()
            self.first_checks.append(once)

    def stop(self) -> None:
        for timer in (self.timer, self.budget_timer, *self.first_checks):
            timer.stop()

    def check_budgets(self) -> TaskHandle | None:
        """Raise a budget alert for each campaign newly projected past its budget."""
        if self.budget_task is not None:
            return None
        reports = self._services.reports

        def done(alerts: list[Any]) -> None:
            self.budget_task = None
            if alerts:
                self.sig_alerts_raised.emit(alerts)

        def failed(exc: BaseException) -> None:
            self.budget_task = None
            log.warning("the budget monitor could not run: %s", exc)

        self.budget_task = self._runner.run_query(lambda _p: reports.raise_budget_alerts(), done, failed)
        return self.budget_task

    def check(self, now: datetime | None = None) -> TaskHandle | None:
        if self.task is not None or not self._services.reports.schedules():
            return None
        reports, smtp = self._services.reports, self._services.smtp()
        self.task = self._runner.run_query(lambda _p: reports.run_due(now or datetime.now(), smtp),
                                           self._done, self._failed)
        return self.task

    def _done(self, runs: list[Any]) -> None:
        self.task = None
        if runs:
            names = {r.id: r for r in runs}
            text = "; ".join(f"{r.status}: {r.detail}" for r in names.values())
            self._window.statusBar().showMessage(f"Scheduled reports: {text}", 30_000)
        self.sig_ran.emit(runs)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        log.warning("report schedules could not run: %s", exc)
        self._window.statusBar().showMessage(f"Scheduled reports could not run: {exc}", 30_000)
