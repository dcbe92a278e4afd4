"""Sync in the app: on demand (F5) and on a schedule, in the background, with progress, cancel
and an online/offline indicator. A lost server leaves the app usable; the next run resumes."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from c360_desktop.core.progress import Progress
from c360_desktop.core.services import Services
from c360_desktop.ui.format import JAMAICA
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.widgets.sync_details import SyncDetails
from c360_desktop.ui.workers import TaskHandle, TaskRunner


class SyncController(QObject):
    sig_sync_finished = Signal(bool)
    """A sync run ended; True if it completed."""

    def __init__(self, window: MainWindow, services: Services, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        self._handle: TaskHandle | None = None
        self.state = QLabel()
        self.state.setObjectName("sync_state")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("A progress bar per table")
        self.details_button.clicked.connect(self.show_details)
        self.activity = QLabel()
        self.details: SyncDetails | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(250)
        self._poll.timeout.connect(self._show_detail)
        for w in self._busy_widgets:
            w.hide()
        status = window.statusBar()
        for w in self._busy_widgets:
            status.addWidget(w)
        status.addPermanentWidget(self.state)
        window.add_action("&Sync now", "F5", lambda: self.sync_now(), menu="Sync")
        window.add_action("&Connections…", None, self.edit_connections, menu="Sync")
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now())
        # Offline: try again soon, then less and less often (30 s, 1, 2, 4... min, up to the
        # schedule), so the app is back online quickly without hammering a server that is down.
        self.retry = QTimer(self)
        self.retry.setSingleShot(True)
        self.retry.timeout.connect(lambda: self.sync_now())
        self.retry_delay_s = 0
        self.reschedule()
        self._show_state()

    @property
    def _busy_widgets(self) -> tuple:
        return (self.activity, self.bar, self.details_button, self.cancel_button)

    def show_details(self) -> None:
        if self.details is None:
            self.details = SyncDetails(self._window)
        self.details.show()
        self.details.raise_()
        self._show_detail()

    def _show_detail(self) -> None:
        if self.details is not None and self.details.isVisible() and self._handle is not None:
            self.details.show_tables(self._handle.progress.detail)  # type: ignore[arg-type]

    @property
    def running(self) -> bool:
        return self._handle is not None

    def _schedule_retry(self) -> None:
        if self._services.settings.profile() is None:
            return
        limit = max(60, (self._services.settings.sync_every_minutes or 60) * 60)
        self.retry_delay_s = min(limit, 30 if not self.retry_delay_s else self.retry_delay_s * 2)
        self.retry.start(self.retry_delay_s * 1000)

    def reschedule(self) -> None:
        minutes = self._services.settings.sync_every_minutes
        if minutes and self._services.settings.profile():
            self.timer.start(minutes * 60_000)
        else:
            self.timer.stop()

    def _show_state(self, offline_reason: str | None = None) -> None:
        profile = self._services.settings.profile()
        if profile is None:
            self.state.setText("Not connected (Sync > Connections…)")
        elif offline_reason:
            self.state.setText(f"Offline since {datetime.now(JAMAICA):%H:%M}")
            self.state.setToolTip(offline_reason)
        else:
            self.state.setText(f"Online: {profile.name}")
            self.state.setToolTip(profile.url)

    def sync_now(self, tables: list[str] | None = None) -> None:
        """Push, then pull (only ``tables`` if given: central changes announced over Kafka)."""
        profile = self._services.settings.profile()
        if profile is None:
            self._window.statusBar().showMessage("No connection chosen: Sync > Connections… to add one.", 8000)
            return
        if self.running:
            return
        cache, user = self._services.cache, self._services.user.name
        for w in self._busy_widgets:
            w.show()
        if self.details is not None:
            self.details.close()
            self.details = None  # a fresh table list for each run
        self._poll.start()
        self.activity.setText(f"Syncing with {profile.name}…")
        self.bar.setValue(0)

        def progressed(fraction: float, message: str) -> None:
            self.bar.setValue(int(fraction * 1000))
            self.activity.setText(message)

        def done(result: tuple) -> None:
            pushed, pulled = result
            self.retry.stop()
            self.retry_delay_s = 0
            self._finish()
            self._show_state()
            note = f"Synced: pushed {pushed.applied}, pulled {pulled.rows:,} rows"
            if pushed.conflicts:
                note += f"; {pushed.conflicts_note}"
            self._window.statusBar().showMessage(note, 10_000)
            self.sig_sync_finished.emit(True)

        def failed(exc: BaseException) -> None:
            from c360_desktop.core.sync import SyncError

            self._finish()
            reason = str(exc) if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}"
            self._show_state(offline_reason=reason)
            self._schedule_retry()
            self._window.statusBar().showMessage(
                f"Sync stopped: {reason}. Working offline; trying again in {self.retry_delay_s} s.", 15_000)
            self.sig_sync_finished.emit(False)

        def cancelled() -> None:
            self._finish()
            self._window.statusBar().showMessage("Sync cancelled; what was already pulled is kept.", 8000)
            self.sig_sync_finished.emit(False)

        def work(p: Progress) -> tuple:
            # SQLAlchemy and the database drivers load when a sync first runs, not at start-up.
            from c360_desktop.core.sync import sync

            return sync(cache, profile.url, profile.territory, progress=p, tables=tables, link_as=user)

        self._handle = self._runner.run_mutation(work, done, failed, progressed, cancelled)

    def stop(self) -> None:
        """This window's cache is being closed: no more scheduled runs, and cancel a running one."""
        self.timer.stop()
        self.retry.stop()
        self.cancel()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.activity.setText("Cancelling…")

    def _finish(self) -> None:
        self._show_detail()  # the final figures stay in the details window
        self._poll.stop()
        self._handle = None
        for w in self._busy_widgets:
            w.hide()

    def edit_connections(self) -> None:
        from c360_desktop.ui.widgets.connections import ConnectionsDialog

        dialog = ConnectionsDialog(self._services.settings, self._runner, self._window)
        if dialog.exec():
            self.reschedule()
            self._show_state()

