"""Alerts pane: the live list, newest first, coloured by severity, with filters, an unread count,
acknowledge and snooze (which sync), and a double-click that opens the customer's 360 view.

Live alerts arrive through ``add_live`` in batches (the AlertsController drains the listener's
queue on a timer), so a burst of thousands is a handful of model inserts, not thousands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.alerts.pipeline import NewAlert
from c360_desktop.core.alerts.rules import SEVERITIES
from c360_desktop.core.alerts.store import AlertRow, AlertStore
from c360_desktop.core.events import EVENT_TYPES
from c360_desktop.core.security import Permission, can, refusal
from c360_desktop.core.services import Services
from c360_desktop.ui.format import JAMAICA, local_datetime
from c360_desktop.ui.main_window import dock_of
from c360_desktop.ui.workers import TaskRunner

MAX_ROWS = 5000
SEVERITY_COLOURS = {"critical": "#f4c7c3", "high": "#fce8b2", "medium": "#d2e3fc", "low": "#e6f4ea"}


class AlertsModel(QStandardItemModel):
    """The alert list as Qt items held in C++: painting the table calls no Python, so a busy
    listener thread (which holds the GIL while it works) cannot slow repaints during a burst.
    ``self._rows`` mirrors the items, row for row."""

    COLUMNS = ("Severity", "When", "Customer", "Alert", "Event")

    def __init__(self) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self._rows: list[AlertRow] = []
        self._bold = QFont()
        self._bold.setBold(True)
        self._brushes = {k: QBrush(QColor(v)) for k, v in SEVERITY_COLOURS.items()}

    def _items(self, a: AlertRow) -> list[QStandardItem]:
        kind = EVENT_TYPES.get(a.type)
        texts = (a.severity.capitalize(), local_datetime(a.created_at),
                 a.customer_name or ("—" if a.customer_id is None else "(not in this cache)"), a.title,
                 kind.label if kind else a.type)
        tip = f"{a.title}\n\nWhy:\n{a.body}"
        items = []
        for text in texts:
            item = QStandardItem(text)
            item.setEditable(False)
            item.setToolTip(tip)
            if not a.read:
                item.setFont(self._bold)
            items.append(item)
        items[0].setBackground(self._brushes.get(a.severity, QBrush()))
        items[0].setData(a.id, Qt.ItemDataRole.UserRole)
        return items

    def set_rows(self, rows: list[AlertRow]) -> None:
        self.removeRows(0, self.rowCount())
        self._rows = []
        self.prepend(rows)

    def prepend(self, rows: list[AlertRow]) -> None:
        """New alerts on top; the oldest fall off past MAX_ROWS."""
        known = {r.id for r in self._rows}
        rows = [r for r in rows if r.id not in known][:MAX_ROWS]
        if not rows:
            return
        rows.sort(key=lambda r: r.created_at, reverse=True)
        self._rows[:0] = rows  # the mirror first: views hear of the rows as they are inserted
        self.insertRows(0, len(rows))  # one insert for the batch, then the cells
        for i, r in enumerate(rows):
            for col, item in enumerate(self._items(r)):
                self.setItem(i, col, item)
        if len(self._rows) > MAX_ROWS:
            self.removeRows(MAX_ROWS, len(self._rows) - MAX_ROWS)
            del self._rows[MAX_ROWS:]

    def row(self, i: int) -> AlertRow:
        return self._rows[i]

    def rows(self) -> list[AlertRow]:
        return list(self._rows)

    def replace(self, i: int, row: AlertRow) -> None:
        self._rows[i] = row
        for col, item in enumerate(self._items(row)):
            self.setItem(i, col, item)



def from_new(a: NewAlert) -> AlertRow:
    return AlertRow(id=a.id, event_id=a.event_id, customer_id=a.customer_id, customer_name=a.customer_name,
                    type=a.type, severity=a.severity, title=a.title, body=a.body, created_at=a.created_at,
                    received_at=a.received_at, read=False, acknowledged_at=None, snoozed_until=None)


class AlertsPane(QWidget):
    sig_customer_requested = Signal(str)
    """The user asked to open this customer's 360 view."""
    sig_unread_changed = Signal(int)
    """How many alerts are unread (for the dock title and the tray)."""
    sig_rules_requested = Signal()
    """The user asked for the Rules dialog."""
    sig_dead_letters_requested = Signal()
    """The user asked to see the dead-letter table."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.store = AlertStore(services.cache, lambda: services.user)
        self.unread = 0
        self._generation = 0
        self.dead_letters = 0
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(250)
        self._counts_timer.timeout.connect(self._show_counts)
        self.model = AlertsModel()
        self.severity = QComboBox()
        self.severity.addItems(["All severities", "Medium and above", "High and above", "Critical only"])
        self.unread_only = QCheckBox("&Unread only")
        self.show_done = QCheckBox("Show &handled")
        self.show_done.setToolTip("Include acknowledged and snoozed alerts")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter alerts…")
        self.search.setClearButtonEnabled(True)
        self.ack_button = QPushButton("&Acknowledge")
        self.ack_button.setToolTip("Acknowledge the selected alerts (Ctrl+Shift+A)")
        self.snooze_button = QToolButton()
        self.snooze_button.setText("&Snooze")
        self.snooze_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        snooze = QMenu(self.snooze_button)
        for label, delta in (("For 1 hour", timedelta(hours=1)), ("For 4 hours", timedelta(hours=4)),
                             ("Until tomorrow 8:00", None)):
            snooze.addAction(label, lambda d=delta: self.snooze_selected(d))
        self.snooze_button.setMenu(snooze)
        self.rules_button = QPushButton("&Rules…")
        if not can(services.user, Permission.MANAGE_RULES):
            self.rules_button.setEnabled(False)
            self.rules_button.setToolTip(refusal(services.user, Permission.MANAGE_RULES).capitalize())
        self.dead_button = QPushButton("Dead letters")
        self.summary = QLabel()
        self.summary.setObjectName("alerts_summary")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        # Fixed widths measured once from the font: ResizeToContents would measure every row on
        # every insert, which stalls the GUI during a burst of thousands of alerts.
        header = self.table.horizontalHeader()
        bold = QFont(self.table.font())
        bold.setBold(True)  # unread alerts are bold: measure as they are drawn
        metrics = QFontMetrics(bold)
        padding = 3 * metrics.averageCharWidth()  # the cell's margins
        widest = {0: [s.capitalize() for s in SEVERITIES], 1: ["28 Nov 2026 11:45"], 2: ["W" * 18],
                  4: [t.label for t in EVENT_TYPES.values()]}
        for col, samples in widest.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, max(metrics.horizontalAdvance(x) for x in samples) + padding)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(metrics.height() + 8)

        filters = QHBoxLayout()
        filters.addWidget(self.severity)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.unread_only)
        filters.addWidget(self.show_done)
        actions = QHBoxLayout()
        actions.addWidget(self.summary, 1)
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        self.export_button = ExportButton(
            services, runner, lambda: [table_of_view(self.table, "alerts as shown", self.summary.text())]
            if self.model.rowCount() else [], self.summary.setText)
        self.export_button.bind_shortcut(self)
        for w in (self.ack_button, self.snooze_button, self.rules_button, self.dead_button, self.export_button):
            actions.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.table)

        ack = QAction("Acknowledge", self)
        ack.setShortcut(QKeySequence("Ctrl+Shift+A"))
        ack.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        ack.triggered.connect(self.acknowledge_selected)
        self.addAction(ack)
        open_action = QAction("Open customer", self)
        open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        open_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        open_action.triggered.connect(lambda: self.open_alert(self.table.currentIndex()))
        self.table.addAction(open_action)

        self.severity.currentIndexChanged.connect(self.refresh)
        self.unread_only.toggled.connect(self.refresh)
        self.show_done.toggled.connect(self.refresh)
        self.search.textChanged.connect(self.refresh)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.rules_button.clicked.connect(self.sig_rules_requested)
        self.dead_button.clicked.connect(self.sig_dead_letters_requested)
        self.table.doubleClicked.connect(self.open_alert)
        self.refresh()

    # ---- reading ----

    def _filters(self) -> dict[str, Any]:
        return {"min_severity": SEVERITIES[self.severity.currentIndex()], "unread_only": self.unread_only.isChecked(),
                "text": self.search.text().strip(), "show_done": self.show_done.isChecked()}

    def refresh(self) -> None:
        filters = self._filters()
        store = self.store

        def load(_p: Any) -> tuple[list[AlertRow], int, int]:
            return store.alerts(**filters), store.unread_count(), store.dead_letter_count()

        self._generation += 1
        generation = self._generation
        self._runner.run_query(load, lambda result: self._show(result, generation))

    def _show(self, result: tuple[list[AlertRow], int, int], generation: int) -> None:
        if generation != self._generation:
            return  # a newer refresh is on its way
        rows, unread, dead = result
        self.model.set_rows(rows)
        self._set_counts(unread, dead)

    def _set_counts(self, unread: int, dead: int | None = None) -> None:
        """Counts change with every live batch; the labels follow at most four times a second
        (re-laying out the window for each batch of a burst would stall the GUI)."""
        self.unread = unread
        if dead is not None:
            self.dead_letters = dead
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def _show_counts(self) -> None:
        unread, dead = self.unread, self.dead_letters
        shown = self.model.rowCount()
        self.summary.setText(f"{shown:,} alert{'s' if shown != 1 else ''} shown · {unread:,} unread")
        self.dead_button.setText(f"Dead letters ({dead:,})…")
        dock = dock_of(self)
        if isinstance(dock, QDockWidget):
            dock.setWindowTitle(f"Alerts ({unread:,})" if unread else "Alerts")
        self.sig_unread_changed.emit(unread)

    def add_live(self, alerts: list[NewAlert], new_dead: int = 0) -> None:
        """New alerts from the listener (already stored): shown at once if they pass the filters."""
        f = self._filters()
        floor = SEVERITIES.index(f["min_severity"])
        text = f["text"].casefold()
        rows = [from_new(a) for a in alerts]
        shown = [r for r in rows if SEVERITIES.index(r.severity) >= floor
                 and (not text or text in r.title.casefold() or text in (r.customer_name or "").casefold())]
        self.model.prepend(shown)  # new alerts are unread and unhandled: the other filters keep them
        if new_dead:
            self.dead_letters += new_dead
        self._set_counts(self.unread + len(alerts), self.dead_letters if new_dead else None)

    # ---- acting ----

    def selected(self) -> list[AlertRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.model.row(r) for r in rows]

    def open_alert(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        alert = self.model.row(index.row())
        if not alert.read:
            store = self.store
            self._runner.run_mutation(lambda _p: store.mark_read([alert.id]))
            self.model.replace(index.row(), AlertRow(**{**alert.__dict__, "read": True}))
            self._set_counts(max(0, self.unread - 1))
        if alert.customer_id:
            self.sig_customer_requested.emit(alert.customer_id)

    def acknowledge_selected(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        ids = [a.id for a in chosen]
        user, store = self._services.user.name, self.store
        self._runner.run_mutation(lambda _p: store.acknowledge(ids, user), lambda _n: self.refresh())

    def snooze_selected(self, delta: timedelta | None) -> None:
        chosen = self.selected()
        if not chosen:
            return
        if delta is None:
            local = datetime.now(JAMAICA) + timedelta(days=1)
            until = local.replace(hour=8, minute=0, second=0, microsecond=0).astimezone(UTC)
        else:
            until = datetime.now(UTC) + delta
        ids = [a.id for a in chosen]
        user, store = self._services.user.name, self.store
        self._runner.run_mutation(lambda _p: store.snooze(ids, until, user), lambda _n: self.refresh())
