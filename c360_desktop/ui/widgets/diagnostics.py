"""Help > Diagnostics: the installation's state for support, and the crash dialog.

The report is collected on a worker (the cache's integrity check reads the whole file), with a
busy bar and Cancel; "Save diagnostics bundle…" writes the zip support asks for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import logs
from c360_desktop.core.diagnostics.service import label, shown
from c360_desktop.ui.workers import TaskHandle, TaskRunner

log = logging.getLogger(__name__)

SECTIONS = (("Cache", "cache"), ("Sync", "sync"), ("Broker", "broker"), ("Paths", "paths"),
            ("Versions", "versions"))


class DiagnosticsDialog(QDialog):
    """Shows a ``core.diagnostics`` report; ``collect(progress)`` makes it on a worker."""

    def __init__(self, parent: QWidget | None, service: Any, runner: TaskRunner,
                 extra: Callable[[], dict[str, Any]]) -> None:
        super().__init__(parent)
        self.setObjectName("diagnostics_dialog")
        self.setWindowTitle("C360 Desktop: diagnostics")
        self.resize(780, 560)
        self._service, self._runner, self._extra = service, runner, extra
        self._handle: TaskHandle | None = None
        self.report: Any = None
        self.status = QLabel("Collecting diagnostics: checking the cache's integrity…")
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(12)
        self.tree = QTreeWidget()
        self.tree.setObjectName("diagnostics_tree")
        self.tree.setHeaderLabels(["Item", "Value"])
        self.tree.setColumnWidth(0, 220)
        self.tree.setAlternatingRowColors(True)
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("diagnostics_log")
        self.log_view.setReadOnly(True)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setFont(QFont("monospace", 9))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Summary")
        self.tabs.addTab(self.log_view, "Recent log")
        self.cancel_button = QPushButton("Cancel check")
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setToolTip("Copy the report as text")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("&Save diagnostics bundle…")
        self.save_button.setToolTip("A zip for support: this report, the settings and the recent logs, "
                                    "without passwords (Ctrl+S)")
        self.save_button.clicked.connect(self.choose_bundle)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.choose_bundle)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        for b in (self.copy_button, self.save_button, close):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self._set_busy(True)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.copy_button.setEnabled(not busy and self.report is not None)
        self.save_button.setEnabled(not busy and self.report is not None)

    def collect(self, integrity: bool = True) -> TaskHandle:
        extra = self._extra()
        self._set_busy(True)

        def done(report: Any) -> None:
            self._handle = None
            self.show_report(report)

        def failed(exc: BaseException) -> None:
            self._handle = None
            self._set_busy(False)
            self.status.setText(f"Diagnostics could not be collected: {exc}")

        def cancelled() -> None:
            self._handle = None
            self.collect(integrity=False)  # the rest of the report, without the check

        self._handle = self._runner.run_query(lambda p: self._service.collect(extra, integrity, progress=p),
                                              done, failed, on_cancelled=cancelled)
        return self._handle

    def cancel(self) -> None:
        if self._handle is not None:
            self.status.setText("Cancelling the integrity check…")
            self._handle.cancel()

    @Slot(object)
    def show_report(self, report: Any) -> None:
        self.report = report
        self.tree.clear()
        data = report.to_dict()
        integrity = data["cache"].get("integrity")
        for title, key in SECTIONS:
            section = QTreeWidgetItem(self.tree, [title, ""])
            for name, value in data[key].items():
                text = shown(name, value)
                item = QTreeWidgetItem(section, [label(name), text])
                item.setToolTip(1, text)
                if name == "integrity" and value != "ok":
                    item.setForeground(1, Qt.GlobalColor.red)
            section.setExpanded(key in ("cache", "sync", "broker"))
        plugins = QTreeWidgetItem(self.tree, ["Plugins", f"{len(report.plugins)}"])
        for p in report.plugins:
            QTreeWidgetItem(plugins, [str(p.get("name")), "loaded" if p.get("loaded")
                                      else f"skipped: {p.get('reason')}"])
        self.log_view.setPlainText("\n".join(
            f"{e.get('ts', '')} {e.get('level', ''):8} [{e.get('cid', '-')}] {e.get('logger', '')}: {e.get('msg', '')}"
            + (f"\n{e['exc']}" if e.get("exc") else "") for e in report.log))
        self.log_view.moveCursor(self.log_view.textCursor().MoveOperation.End)
        checked = ("integrity not checked (cancelled)" if integrity is None
                   else "integrity ok" if integrity == "ok" else f"integrity: {integrity}")
        self.status.setText(f"Collected {report.generated_at}; cache {checked}. Log folder: "
                            f"{report.paths['log folder']}")
        self._set_busy(False)

    def copy(self) -> None:
        if self.report is not None:
            QGuiApplication.clipboard().setText(logs.scrub(self.report.text()))
            self.status.setText("The report is on the clipboard.")

    def choose_bundle(self) -> None:
        if self.report is None:
            return
        default = Path.home() / f"c360-diagnostics-{datetime.now():%Y%m%d-%H%M}.zip"
        name, _ = QFileDialog.getSaveFileName(self, "Save diagnostics bundle", str(default), "Zip files (*.zip)")
        if name:
            self.save_bundle(Path(name))

    def save_bundle(self, path: Path) -> TaskHandle:
        """Write the bundle on a worker; a refusal (a folder, another kind of file) is told."""
        self.save_button.setEnabled(False)
        report = self.report

        def done(saved: Path) -> None:
            self.save_button.setEnabled(True)
            self.status.setText(f"Diagnostics bundle saved: {saved}. Send it to support; it holds no "
                                "passwords, and e-mail addresses and phone numbers in it are masked.")

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            QMessageBox.warning(self, "Diagnostics bundle not saved", str(exc))

        return self._runner.run_query(lambda _p: self._service.save_bundle(path, report, force=True), done, failed)


class CrashReporter(QObject):
    """Turns an uncaught exception on any thread into a dialog on the GUI thread (the app keeps
    running); ``core.logs.install_crash_handler`` has already logged it."""

    sig_crashed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shown: list[QMessageBox] = []
        self.sig_crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def report(self, traceback_text: str) -> None:
        """Callable from any thread."""
        self.sig_crashed.emit(traceback_text)

    @Slot(str)
    def _show(self, traceback_text: str) -> None:
        if any(box.isVisible() for box in self.shown):
            return  # one at a time: the log has every one of them
        box = QMessageBox(QMessageBox.Icon.Critical, "C360 Desktop: unexpected error",
                          "Something went wrong that C360 Desktop did not expect. The app keeps running; "
                          "the action that failed has written nothing half-way.")
        box.setObjectName("crash_dialog")
        box.setInformativeText(f"The details are in the log ({logs.log_dir()}). Help > Diagnostics saves "
                               "a bundle to send to support.")
        box.setDetailedText(traceback_text)
        self.shown = [b for b in self.shown if b.isVisible()] + [box]
        box.open()
