"""A demo cache's first start: once the window is up, train the models, fill the review queue
and raise the budget alerts in the background (core.demo.first_start), with progress in the
status bar; then the panes read again, as after a sync."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from c360_desktop.core.services import Services
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.workers import TaskHandle, TaskRunner

START_AFTER_MS = 1500  # the window and its first figures come first


class FirstStartController(QObject):
    sig_prepared = Signal(object)
    """The demo data is ready (carries core.demo.first_start.Prepared)."""

    def __init__(self, window: MainWindow, services: Services, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        self.task: TaskHandle | None = None
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setRange(0, 1000)
        from c360_desktop.core.demo.first_start import needs_preparing

        self.needed = needs_preparing(services.cache)
        self.timer = QTimer(self, singleShot=True, interval=START_AFTER_MS)
        self.timer.timeout.connect(self.start)
        if self.needed:
            self.timer.start()

    def start(self) -> TaskHandle | None:
        if self.task is not None:
            return self.task
        from c360_desktop.core.demo.first_start import prepare_demo

        status = self._window.statusBar()
        status.insertPermanentWidget(0, self.label)
        status.insertPermanentWidget(1, self.bar)
        self.label.setText("Preparing the demo data…")
        self.label.show()
        self.bar.show()
        services = self._services
        self.task = self._runner.run_mutation(lambda p: prepare_demo(services, p), self._done, self._failed,
                                              self._progressed, self._stopped)
        return self.task

    def stop(self) -> None:
        """Another cache was opened, or the app is closing: the work stops at its next step."""
        self.timer.stop()
        if self.task is not None:
            self.task.cancel()

    def _progressed(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        self.label.setText(message)
        self.label.setToolTip("Once only, on a new demo cache; the app can be used meanwhile")

    def _finish(self) -> None:
        self.task = None
        for w in (self.label, self.bar):
            self._window.statusBar().removeWidget(w)
            w.hide()

    def _done(self, prepared: Any) -> None:
        self._finish()
        self._window.statusBar().showMessage(
            f"The demo data is ready: {len(prepared.trained)} models trained, {prepared.scored:,} customers "
            f"scored, {prepared.pairs:,} possible duplicates to review.", 30_000)
        self.sig_prepared.emit(prepared)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self._window.statusBar().showMessage(f"Could not prepare the demo data: {exc}. It is tried again "
                                             "at the next start; Model dashboard > Retrain all trains now.", 60_000)

    def _stopped(self) -> None:
        self._finish()
