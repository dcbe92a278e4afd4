"""Updates in the app: a look at the configured update location a little after start (only when
one is configured) and on Help > Check for updates; a newer version is offered, its installer
fetched with progress and checked, then started (Windows) or shown in its folder."""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from c360_desktop.core.services import Services
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.workers import TaskHandle, TaskRunner

log = logging.getLogger(__name__)
CHECK_AFTER_MS = 10_000  # after start-up's own work


def launch_installer(path: Path) -> bool:
    """Start the installer (Windows: it upgrades in place once the app has closed); elsewhere
    show its folder. Returns whether the app should close for it."""
    if sys.platform == "win32":
        subprocess.Popen([str(path), "/SILENT", "/CLOSEAPPLICATIONS", "/RESTARTAPPLICATIONS"],  # noqa: S603
                         close_fds=True)
        return True
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
    return False


class UpdateController(QObject):
    sig_checked = Signal(object)
    """A check finished: carries the core.updates Update, or None when up to date."""

    def __init__(self, window: MainWindow, services: Services, runner: TaskRunner,
                 launch: Callable[[Path], bool] = launch_installer) -> None:
        super().__init__(window)
        self._window, self._services, self._runner, self.launch = window, services, runner, launch
        self.offer_box: QMessageBox | None = None
        self.progress: QProgressDialog | None = None
        self._task: TaskHandle | None = None
        self.folder = Path(tempfile.gettempdir()) / "c360-desktop-updates"
        window.add_action("Check for &updates…", None, lambda: self.check(manual=True), menu="Help")
        self.timer = QTimer(self, singleShot=True, interval=CHECK_AFTER_MS)
        self.timer.timeout.connect(lambda: self.check(manual=False))
        if services.settings.update_location:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._task is not None:
            self._task.cancel()

    def check(self, manual: bool) -> TaskHandle | None:
        updates = self._services.updates
        if updates.location is None:
            if manual:
                QMessageBox.information(self._window, "Updates", "No update location is set, so C360 Desktop "
                                        "does not look for updates. Your IT department sets update_location "
                                        "in the settings to a folder, file share or address.")
            return None

        def done(update: Any) -> None:
            self.sig_checked.emit(update)
            if update is not None:
                self.offer(update)
            elif manual:
                QMessageBox.information(self._window, "Updates", "C360 Desktop is up to date.")

        def failed(exc: BaseException) -> None:
            log.warning("update check failed: %s", exc)
            if manual:
                QMessageBox.warning(self._window, "Updates", f"Could not check for updates: {exc}")
            else:
                self._window.statusBar().showMessage(f"Update check failed: {exc}", 15_000)
            self.sig_checked.emit(None)

        return self._runner.run_query(lambda _p: updates.check(), done, failed)

    def offer(self, update: Any) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Update available",
                          f"C360 Desktop {update.version} is available; you have {update.current}.",
                          parent=self._window)
        box.setObjectName("update_offer")
        box.setInformativeText((update.notes or "No release notes were given.")[:600]
                               + ("\n\nThe installer is checked before it runs; your caches and "
                                  "settings are kept."))
        install = box.addButton("Install now", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.buttonClicked.connect(lambda b: self.install(update) if b is install else None)
        self.offer_box = box
        box.open()

    def install(self, update: Any) -> TaskHandle:
        dialog = QProgressDialog(f"Fetching C360 Desktop {update.version}…", "Cancel", 0, 1000, self._window)
        dialog.setWindowTitle("Updating C360 Desktop")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        self.progress = dialog
        updates, folder = self._services.updates, self.folder

        def progressed(fraction: float, message: str) -> None:
            dialog.setValue(int(fraction * 1000))
            dialog.setLabelText(message)

        def done(path: Path) -> None:
            self._task = None
            dialog.close()
            log.info("update %s fetched and checked: %s", update.version, path.name)
            if self.launch(path):
                self._window.close()  # the installer replaces the app's files once it has gone
            else:
                self._window.statusBar().showMessage(f"The installer is ready: {path}", 30_000)

        def failed(exc: BaseException) -> None:
            self._task = None
            dialog.close()
            QMessageBox.warning(self._window, "Update not installed", str(exc))

        def cancelled() -> None:
            self._task = None
            dialog.close()

        self._task = self._runner.run_query(lambda p: updates.fetch(update, folder, p), done, failed, progressed,
                                            cancelled)
        dialog.canceled.connect(lambda: self._task.cancel() if self._task is not None else None)
        dialog.show()
        return self._task


