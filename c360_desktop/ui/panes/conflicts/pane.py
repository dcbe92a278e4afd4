"""Each open conflict with what it was, what you made it, and what the centre made it; you choose."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.core.sync.conflicts import Conflict, ConflictInbox
from c360_desktop.ui.main_window import dock_of
from c360_desktop.ui.workers import TaskRunner


class ConflictsPane(QWidget):
    COLUMNS = ("Customer", "Field", "Before", "Yours", "Theirs (central)")
    sig_customer_requested = Signal(str)
    """The user asked to open this customer."""
    sig_conflicts_shown = Signal(int)
    """The list was refreshed; carries how many conflicts are open."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._inbox = ConflictInbox(services.cache, services.profiles)
        self._conflicts: list[Conflict] = []
        self.summary = QLabel()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mine_button, self.theirs_button = QPushButton("Keep &yours"), QPushButton("Keep &theirs")
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        self.export_button = ExportButton(
            services, runner, lambda: [table_of_view(self.table, "sync conflicts to decide", self.summary.text())]
            if self.table.rowCount() else [], self.summary.setText)
        self.export_button.bind_shortcut(self)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.mine_button)
        row.addWidget(self.theirs_button)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.mine_button.clicked.connect(lambda: self._decide("mine"))
        self.theirs_button.clicked.connect(lambda: self._decide("theirs"))
        self.table.doubleClicked.connect(self._open)
        self.refresh()

    def on_sync_finished(self, _ok: bool) -> None:
        """A sync ended: it may have brought conflicts (connected by the composition root)."""
        self.refresh()

    def refresh(self) -> None:
        self._runner.run_query(lambda _p: self._inbox.open(), self._show)

    def _show(self, conflicts: list[Conflict]) -> None:
        self._conflicts = conflicts
        self.table.setRowCount(len(conflicts))
        for r, c in enumerate(conflicts):
            for col, value in enumerate((c.label, c.field, c.base, c.mine, c.theirs)):
                text = value if isinstance(value, str) else json.dumps(value)
                self.table.setItem(r, col, QTableWidgetItem(text))
        n = len(conflicts)
        self.summary.setText("No conflicts." if not n else "1 conflict to decide" if n == 1 else f"{n} conflicts to decide")
        dock = dock_of(self)
        if conflicts and isinstance(dock, QDockWidget) and not dock.isVisible():
            dock.show()  # hidden while the inbox is empty; it asks for attention when it is not
        for b in (self.mine_button, self.theirs_button):
            b.setEnabled(bool(conflicts))
        self.sig_conflicts_shown.emit(len(conflicts))

    def _decide(self, how: str) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        chosen = [self._conflicts[r] for r in rows] or self._conflicts[:1]
        author = self._services.user.name

        def work(_p: object) -> None:
            for c in chosen:
                (self._inbox.keep_mine(c.seq, author) if how == "mine" else self._inbox.keep_theirs(c.seq))

        self._runner.run_mutation(work, lambda _r: self.refresh(),
                                  lambda exc: self.summary.setText(f"Could not decide: {exc}"))

    def _open(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._conflicts):
            self.sig_customer_requested.emit(self._conflicts[row].entity_id)
