"""Each health check as a row: a coloured mark, what was checked, the measured value and why.

Checks run on a worker (the network checks wait a few seconds at most, the integrity check reads
the whole cache); the pane checks again every five minutes while it is visible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.ui.format import STATUS_COLOURS, STATUS_WORDS
from c360_desktop.ui.workers import TaskHandle, TaskRunner

COLOURS, WORDS = STATUS_COLOURS, STATUS_WORDS
RECHECK_MS = 5 * 60 * 1000


class HealthPane(QWidget):
    COLUMNS = ("", "Check", "Value", "Why")
    sig_checked = Signal(str)
    """The checks finished; carries the overall status (green, amber or red)."""

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("health_pane")
        self._services, self._runner = services, runner
        self._handle: TaskHandle | None = None
        self.checks: list[Any] = []
        self.summary = QLabel("Not checked yet.")
        self.summary.setObjectName("health_summary")
        self.summary.setWordWrap(True)
        self.check_button = QPushButton("&Check again")
        self.check_button.setToolTip("Run every check now (F5 while this pane has focus)")
        self.check_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.integrity_box = QCheckBox("Include the cache integrity check")
        self.integrity_box.setChecked(True)
        self.integrity_box.setToolTip("Reads the whole cache file: seconds on a large cache")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 100)
        self.busy.setMaximumWidth(220)
        self.busy.hide()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("health_table")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.busy)
        top.addWidget(self.cancel_button)
        top.addWidget(self.integrity_box)
        top.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(RECHECK_MS)
        self._timer.timeout.connect(self._recheck)
        self._timer.start()

    def _recheck(self) -> None:
        if self.isVisible() and self._handle is None:
            self.refresh()

    def refresh(self) -> None:
        """Run every check on a worker; the rows are replaced when they are done."""
        if self._handle is not None:
            return
        health = self._services.health
        integrity = self.integrity_box.isChecked()
        self.check_button.setEnabled(False)
        self.busy.setValue(0)
        self.busy.show()
        self.cancel_button.show()
        self.summary.setText("Checking…")

        def progressed(fraction: float, message: str) -> None:
            self.busy.setValue(int(fraction * 100))
            self.summary.setText(f"{message}…")

        def finish() -> None:
            self._handle = None
            self.check_button.setEnabled(True)
            self.busy.hide()
            self.cancel_button.hide()

        def done(checks: list[Any]) -> None:
            finish()
            self.show_checks(checks)

        def failed(exc: BaseException) -> None:
            finish()
            self.summary.setText(f"The checks could not run: {exc}")

        def cancelled() -> None:
            finish()
            self.summary.setText("Check cancelled; the rows show the previous result.")

        self._handle = self._runner.run_query(lambda p: health.checks(integrity, p), done, failed, progressed,
                                              cancelled)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def show_checks(self, checks: list[Any]) -> None:
        from c360_desktop.core.health.service import overall

        self.checks = checks
        self.table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            colour = QColor(COLOURS[check.status])
            mark = QTableWidgetItem(f"● {WORDS[check.status]}")
            mark.setForeground(QBrush(colour))
            mark.setToolTip(check.status)
            items = [mark, QTableWidgetItem(check.name), QTableWidgetItem(check.value), QTableWidgetItem(check.reason)]
            items[3].setToolTip(check.reason)
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate(items):
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        status = overall(checks)
        counts = {s: sum(c.status == s for c in checks) for s in ("red", "amber", "green")}
        nouns = {"red": "with a problem", "amber": "to look at", "green": "ok"}
        said = ", ".join(f"{n} {nouns[s]}" for s, n in counts.items() if n)
        self.summary.setText(f"<b style='color:{COLOURS[status]}'>{WORDS[status]}</b>: {said}. "
                             f"Checked at {datetime.now():%H:%M}.")
        self.sig_checked.emit(status)
