"""The idle lock: a signed-in window hides every customer after ``idle_lock_minutes`` without a
key press or mouse use (or at once with File > Lock, Ctrl+L), until the password is given again.

The window and its floating panes are hidden, not just covered, so nothing shows through a
screen-sharing session or a screenshot; background work (sync, alerts) goes on. Quitting from the
lock prompt closes the app as File > Quit does.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from c360_desktop.ui.widgets.signin import UNLOCK, PasswordDialog
from c360_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
            QEvent.Type.TouchBegin}


class LockController(QObject):
    """Locks the window after the idle time; ``sig_locked`` / ``sig_unlocked`` say when."""

    sig_locked = Signal()
    sig_unlocked = Signal()

    def __init__(self, window: Any, services: Any, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        self.dialog: PasswordDialog | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.lock)
        self.enabled = services.session is not None
        self.lock_action = window.add_action("&Lock", "Ctrl+L", self.lock, menu="File")
        self.lock_action.setEnabled(self.enabled)
        minutes = services.settings.idle_lock_minutes
        if self.enabled and minutes > 0:
            self._timer.setInterval(minutes * 60_000)
            self._timer.start()
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
        window.sig_closing.connect(self.stop)

    @property
    def locked(self) -> bool:
        return self.dialog is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in ACTIVITY and self.dialog is None and self._timer.interval() > 0:
            self._timer.start()  # restarts the idle clock
        return False

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def lock(self) -> None:
        if not self.enabled or self.dialog is not None:
            return
        self._timer.stop()
        self._window.hide()  # the floating panes, children of the window, go with it
        services = self._services
        self._runner.run_mutation(lambda _p: services.signin.lock(), None,
                                  lambda exc: log.warning("could not record the lock: %s", exc))
        session = services.session
        dialog = PasswordDialog(UNLOCK, self._runner, lambda _n, pw, code: services.signin.unlock(pw, code),
                                lambda _n: services.signin.has_totp(), name=session.name if session else "")
        dialog.sig_accepted.connect(lambda _r: self._unlocked())
        dialog.rejected.connect(self._quit)
        self.dialog = dialog
        dialog.show()
        self.sig_locked.emit()

    def _unlocked(self) -> None:
        self.dialog = None
        self._window.show()
        self._window.activateWindow()
        if self._timer.interval() > 0:
            self._timer.start()
        self.sig_unlocked.emit()

    def _quit(self) -> None:
        if self.dialog is None:
            return
        self.dialog = None
        self._window.close()
        QApplication.quit()
