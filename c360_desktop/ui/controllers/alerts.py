"""Live alerts in the app: runs the Kafka listener for the active connection, takes what it
stores through a queue drained on a timer (a burst never floods the GUI thread), feeds the Alerts
pane, shows the listener's state in the status bar, notifies through the system tray for high
severity, and asks the sync for an incremental pull when central data changes."""

from __future__ import annotations

import queue
import threading
import time
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QStyle, QSystemTrayIcon

from c360_desktop.core.services import Services
from c360_desktop.ui.format import JAMAICA
from c360_desktop.ui.main_window import MainWindow, bring_forward, dock_of
from c360_desktop.ui.workers import TaskRunner

DRAIN_MS = 25
DRAIN_BUDGET_S = 0.006  # at most about this long per tick on the GUI thread
SHOW_CHUNK = 10  # alerts added to the pane at a time
PULL_DELAY_MS = 2000  # changes arrive in bursts: one pull for a burst


class AlertsController(QObject):
    # Take every partition directly instead of joining the consumer group: same offsets and
    # commits, no group-join wait (tests set it; the app joins its group as production should).
    ASSIGN = False
    sig_alerts_shown = Signal(int)
    """This many new alerts reached the pane."""

    def __init__(self, window: MainWindow, services: Services, runner: TaskRunner, pane: Any = None,
                 sync: Any = None, assign: bool | None = None) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        self.pane, self.sync = pane, sync
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.listener: Any = None
        self.notifier: Any = None
        self.state = QLabel()
        self.state.setObjectName("alerts_state")
        window.statusBar().addPermanentWidget(self.state)
        self.timer = QTimer(self)
        self.timer.setInterval(DRAIN_MS)
        self.timer.timeout.connect(self.drain)
        self._pull = QTimer(self)
        self._pull.setSingleShot(True)
        self._pull.setInterval(PULL_DELAY_MS)
        self._pull.timeout.connect(self._pull_now)
        self._changed: set[str] = set()
        self._pending: list[Any] = []
        self._dead = 0
        self._announced = False
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("C360 Desktop alerts")
            self.tray.messageClicked.connect(self._show_pane)
            self.tray.show()
        if pane is not None:
            pane.sig_rules_requested.connect(self.edit_rules)
            pane.sig_dead_letters_requested.connect(self.show_dead_letters)
            window.add_action("&Alerts", "F9", self._show_pane, menu="Go")
        self.start(self.ASSIGN if assign is None else assign)

    # ---- lifecycle ----

    def start(self, assign: bool = False) -> None:
        from c360_desktop.core.alerts import start_alerts

        started = start_alerts(self._services.cache, self._services.settings,
                               sink=lambda r: self._queue.put(("batch", r)),
                               on_state=lambda s, d: self._queue.put(("state", (s, d))), assign=assign,
                               user=self._services.user)
        if started is None:
            self.state.setText("Alerts: off")
            self.state.setToolTip("Add Kafka to the connection (Sync > Connections…) for live alerts")
            return
        self.listener, self.notifier = started
        self.state.setText("Alerts: connecting…")
        self.timer.start()

    def stop(self) -> None:
        """Stop listening without blocking the GUI (the listener finishes its batch and commits)."""
        self.timer.stop()
        listener, notifier = self.listener, self.notifier
        self.listener = self.notifier = None
        if listener is not None or notifier is not None:
            def finish() -> None:
                if listener is not None:
                    listener.stop()
                if notifier is not None:
                    notifier.stop()
            threading.Thread(target=finish, name="c360-alerts-stop", daemon=True).start()

    # ---- the queue ----

    def drain(self) -> None:
        """Take what the listener stored since the last tick and show some of it, within a small
        time budget per tick: a burst of thousands is shown over several ticks, the event loop
        keeps turning meanwhile."""
        started = time.perf_counter()
        while True:
            try:
                kind, item = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "state":
                self._show_state(*item)
            else:
                self._pending += item.alerts
                self._dead += item.dead
                if item.changed_tables:
                    self._changed.update(item.changed_tables)
                    self._pull.start()
        shown: list[Any] = []
        while self._pending or self._dead:
            chunk, self._pending = self._pending[:SHOW_CHUNK], self._pending[SHOW_CHUNK:]
            if self.pane is not None:
                self.pane.add_live(chunk, self._dead)
            self._dead = 0
            shown += chunk
            if time.perf_counter() - started > DRAIN_BUDGET_S:
                break
        if shown:
            if not self._announced:  # the first live alerts of the session bring the pane out
                self._announced = True
                dock = dock_of(self.pane) if self.pane is not None else None
                if dock is not None and not dock.isVisible():
                    dock.show()
            self.sig_alerts_shown.emit(len(shown))
            self._notify(shown)

    def show_local(self, alerts: list[Any]) -> None:
        """Alerts raised on this desktop (proximity), already stored: shown like live ones."""
        self._pending += alerts
        self.drain()

    def describe(self) -> dict[str, str]:
        """The listener's state as the status bar shows it, for Help > Diagnostics."""
        out = {"listener": self.state.text().removeprefix("Alerts: ") or "off",
               "detail": self.state.toolTip() or ""}
        if self.listener is not None:
            out["stored batches"] = str(self.listener.stored_batches)
        return out

    def _show_state(self, state: str, detail: str) -> None:
        if state == "online":
            self.state.setText("Alerts: live")
            self.state.setToolTip(f"Listening to Kafka at {detail}")
        elif state == "offline":
            if not self.state.text().startswith("Alerts: offline"):
                self.state.setText(f"Alerts: offline since {datetime.now(JAMAICA):%H:%M}")
            self.state.setToolTip(f"{detail}\nReconnecting on its own; nothing is lost meanwhile.")
        elif state == "connecting":
            self.state.setText("Alerts: connecting…")
        else:
            self.state.setText("Alerts: stopped")

    def _notify(self, alerts: list[Any]) -> None:
        urgent = [a for a in alerts if a.severity in ("high", "critical")]
        if not urgent or self.tray is None:
            return
        if len(urgent) == 1:
            self.tray.showMessage(f"C360 {urgent[0].severity} alert", urgent[0].title,
                                  QSystemTrayIcon.MessageIcon.Warning, 8000)
        else:
            self.tray.showMessage("C360 alerts", f"{len(urgent)} new high-severity alerts",
                                  QSystemTrayIcon.MessageIcon.Warning, 8000)

    def _pull_now(self) -> None:
        tables, self._changed = sorted(self._changed), set()
        if self.sync is not None and tables:
            if self.sync.running:
                self._pull.start()  # try again when this run is over
                return
            self._window.statusBar().showMessage(f"Central changes to {', '.join(tables)}: syncing…", 5000)
            self.sync.sync_now(tables=tables)

    def _show_pane(self) -> None:
        if self.pane is not None:
            bring_forward(self.pane, self.pane.table)

    # ---- dialogs ----

    def edit_rules(self) -> None:
        from c360_desktop.core.alerts.rules import RuleEngine
        from c360_desktop.ui.panes.alerts.rules_dialog import RulesDialog

        store = self.pane.store
        dialog = RulesDialog(store, self._runner, self._window)
        if dialog.exec() and self.listener is not None:
            # The listener reads the engine once per event: swapping it is atomic.
            self.listener.pipeline.engine = RuleEngine(dialog.rules)

    def show_dead_letters(self) -> None:
        from c360_desktop.ui.panes.alerts.dead_letters import DeadLettersDialog

        store = self.pane.store

        def shown(result: tuple[list[Any], int]) -> None:
            DeadLettersDialog(result[0], result[1], self._window).exec()

        self._runner.run_query(lambda _p: (store.dead_letters(), store.dead_letter_count()), shown)
