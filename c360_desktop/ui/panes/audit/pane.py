"""The audit trail for data stewards and admins: filters by user, customer, action and time, the
chain's verdict, and Export; every read goes through ``AuditService`` on a worker."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.ui.format import STATUS_COLOURS
from c360_desktop.ui.widgets.table_model import read_only_table
from c360_desktop.ui.workers import TaskHandle, TaskRunner

ACTIONS = ("", "profile", "profile.view", "profile.edit", "export", "merge", "unmerge", "identity_review",
           "quality", "audit.refused", "export.refused")


class AuditPane(QWidget):
    COLUMNS = ("#", "When (UTC)", "User", "Action", "On", "Details")
    sig_customer_requested = Signal(str)
    sig_shown = Signal(int)
    """Entries listed (tests wait for this)."""

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("audit_pane")
        self._services, self._runner = services, runner
        self._task: TaskHandle | None = None
        self._asked = 0  # each read is numbered; only the latest is shown
        self.user_box = QLineEdit(placeholderText="any user")
        self.customer_box = QLineEdit(placeholderText="any customer id")
        self.action_box = QComboBox()
        self.action_box.setEditable(True)
        self.action_box.addItems(ACTIONS)
        self.action_box.setToolTip("An action, or a family of them: 'profile' finds views and edits")
        self.since_box = QLineEdit(placeholderText="YYYY-MM-DD")
        self.until_box = QLineEdit(placeholderText="YYYY-MM-DD")
        for box in (self.user_box, self.customer_box, self.since_box, self.until_box):
            box.returnPressed.connect(self.refresh)
            box.setClearButtonEnabled(True)
        self.action_box.activated.connect(lambda _i: self.refresh())
        apply = QPushButton("&Filter")
        apply.clicked.connect(self.refresh)
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setToolTip("Recompute every link of this desktop's hash chain")
        self.verify_button.clicked.connect(self.verify)
        self.verdict = QLabel("")
        self.verdict.setObjectName("audit_verdict")
        self.verdict.setWordWrap(True)
        self.status = QLabel("")
        self.table = read_only_table(self.COLUMNS, "audit_table")
        self.table.cellDoubleClicked.connect(self._open_customer)
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        self.export_button = ExportButton(
            services, runner,
            lambda: [table_of_view(self.table, "audit trail", self._filters_text())] if self.table.rowCount() else [],
            self.status.setText)
        self.export_button.bind_shortcut(self)

        filters = QFormLayout()
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(self.user_box)
        row1.addWidget(QLabel("Customer"))
        row1.addWidget(self.customer_box)
        row1.addWidget(QLabel("Action"))
        row1.addWidget(self.action_box)
        row2.addWidget(self.since_box)
        row2.addWidget(QLabel("to"))
        row2.addWidget(self.until_box)
        row2.addWidget(apply)
        row2.addStretch(1)
        row2.addWidget(self.verify_button)
        filters.addRow("User", row1)
        filters.addRow("From", row2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.verdict)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.refresh,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _filters(self) -> dict[str, Any]:
        def day(text: str, end: bool) -> str | None:
            text = text.strip()
            if len(text) == 10:
                return f"{text} 23:59:59" if end else f"{text} 00:00:00"
            return text or None

        return {"actor": self.user_box.text().strip() or None,
                "customer_id": self.customer_box.text().strip() or None,
                "action": self.action_box.currentText().strip() or None,
                "since": day(self.since_box.text(), False), "until": day(self.until_box.text(), True)}

    def _filters_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self._filters().items() if v) or "all entries"

    def refresh(self) -> None:
        filters = self._filters()
        self._asked += 1
        asked = self._asked
        self.status.setText("Reading the audit trail…")
        self._task = self._runner.run_query(
            lambda _p: self._services.audit.entries(limit=2000, **filters),
            lambda rows: self._show(rows) if asked == self._asked else None,
            lambda exc: self.status.setText(f"Could not read the audit trail: {exc}"))

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.verdict.setText("Checking every link…")

        def done(verdict: Any) -> None:
            self.verify_button.setEnabled(True)
            colour = STATUS_COLOURS["green" if verdict.ok else "red"]
            self.verdict.setText(f'<span style="color:{colour}">■</span> {verdict.message}')

        def failed(exc: BaseException) -> None:
            self.verify_button.setEnabled(True)
            self.verdict.setText(f"Could not check the chain: {exc}")

        self._task = self._runner.run_query(lambda _p: self._services.audit.verify(), done, failed)

    def _show(self, rows: list[Any]) -> None:
        self.table.setRowCount(len(rows))
        for r, e in enumerate(rows):
            details = ", ".join(f"{k}: {v}" for k, v in e.details.items() if v not in (None, "", [])) \
                if isinstance(e.details, dict) else json.dumps(e.details)
            on = e.subject or (f"{e.entity} {e.entity_id or ''}".strip() if e.entity != "customer" else "(removed customer)")
            values = (e.seq, e.occurred_at, e.actor, e.action, on, details)
            for c, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if c == 4 and e.entity_id:
                    item.setToolTip(f"{e.entity} {e.entity_id}")
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.setData(Qt.ItemDataRole.UserRole, e.entity_id if e.entity == "customer" else None)
                self.table.setItem(r, c, item)
        more = " (the newest 2,000; narrow the filters)" if len(rows) == 2000 else ""
        self.status.setText(f"{len(rows):,} entries{more}. Double-click an entry on a customer to open them.")
        self.sig_shown.emit(len(rows))

    def _open_customer(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        cid = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if cid:
            self.sig_customer_requested.emit(cid)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.table.rowCount() == 0 and self._asked == 0:
            self.refresh()
