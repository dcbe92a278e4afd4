"""Customer lookup: type a name, phone, e-mail, TRN or business; Enter opens the customer."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.ui.panes.lookup.model import LookupTableModel
from c360_desktop.ui.workers import TaskRunner

DEBOUNCE_MS = 120


class LookupPane(QWidget):
    sig_customer_requested = Signal(str)
    """The user asked to open this customer (Enter or double-click)."""
    sig_results_shown = Signal(str, int)
    """Results for a query are on screen: the query and how many."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._generation = 0
        self._in_flight = False  # a search is running
        self._pending_open = False  # Enter was pressed before the results arrived
        self.search_box = QLineEdit(placeholderText="Name, phone, e-mail, TRN or business  (Ctrl+K)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Customer search")
        self.status = QLabel("Type to search every customer in the cache.")
        self.status.setObjectName("lookup_status")
        self.model = LookupTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((200, 95, 120, 85, 105)):
            header.resizeSection(col, width)
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        self.export_button = ExportButton(
            services, runner, lambda: [table_of_view(self.table, "customers found", f"search: {self.search_box.text()!r}; "
                                                     f"{self.status.text()}")] if self.model.rowCount() else [],
            self.status.setText)
        self.export_button.bind_shortcut(self)
        line = QHBoxLayout()
        line.addWidget(self.status, 1)
        line.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search_box)
        layout.addLayout(line)
        layout.addWidget(self.table, 1)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)
        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.search_box.returnPressed.connect(self._open_from_box)
        self.search_box.installEventFilter(self)
        self.table.activated.connect(lambda idx: self._open_row(idx.row()))
        self.table.doubleClicked.connect(lambda idx: self._open_row(idx.row()))

    def sizeHint(self) -> QSize:
        return QSize(660, 600)

    def focus_on_start(self) -> None:
        """The window has opened: the search box takes the keyboard (Ctrl+K later)."""
        self.focus_search()

    def focus_search(self) -> None:
        self.window().activateWindow()
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.search_box and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount():
                self.table.setFocus()
                if not self.table.selectionModel().hasSelection():
                    self.table.selectRow(0)
                return True
            if key == Qt.Key.Key_Escape:
                self.search_box.clear()
                return True
        return super().eventFilter(obj, event)

    def _run_search(self) -> None:
        query = self.search_box.text()
        self._generation += 1
        generation = self._generation
        if not query.strip():
            self.model.set_hits([])
            self.status.setText("Type to search every customer in the cache.")
            self.sig_results_shown.emit(query, 0)
            return
        self.status.setText("Searching…")
        self._in_flight = True
        limit = self._services.settings.search_limit
        started = time.perf_counter()

        def done(hits: list) -> None:
            if generation != self._generation:
                return  # a newer query has been typed since
            self._in_flight = False
            self.model.set_hits(hits)
            ms = (time.perf_counter() - started) * 1000
            if hits:
                self.table.selectRow(0)
                count = f"{len(hits)}+ matches" if len(hits) >= limit else (
                    "1 match" if len(hits) == 1 else f"{len(hits)} matches")
                self.status.setText(f"{count} ({ms:.0f} ms). ↓ to browse, Enter to open.")
            else:
                self.status.setText(f"No customer matches “{query.strip()}”.")
            self.sig_results_shown.emit(query, len(hits))
            if self._pending_open:
                self._pending_open = False
                self._open_row(0)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._in_flight = self._pending_open = False
                self.status.setText(f"Search failed: {exc}")

        self._runner.run_query(lambda _p: self._services.search.search(query, limit), done, failed)

    def _open_from_box(self) -> None:
        if self._debounce.isActive() or self._in_flight:  # open when the results arrive
            self._pending_open = True
            if self._debounce.isActive():
                self._debounce.stop()
                self._run_search()
            return
        rows = self.table.selectionModel().selectedRows()
        self._open_row(rows[0].row() if rows else 0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            cid = self.model.hit(row).customer_id
            query, hits = self.search_box.text().strip(), self.model.rowCount()
            # the search that led to this customer, in the audit trail (the view is recorded too)
            self._runner.run_mutation(lambda _p: self._services.audit.record(
                "search", "customer", cid, {"query": query, "hits": hits}))
            self.sig_customer_requested.emit(cid)
