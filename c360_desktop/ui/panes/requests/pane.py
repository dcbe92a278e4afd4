"""The register of data-subject requests for data stewards and admins: what is open and when it
is due, a new request for the customer in the 360 view (or one found by name), an access export
(PDF or JSON), closing with an outcome, and erasure after a confirmation. Every call goes through
``PrivacyService`` on a worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.ui.format import STATUS_COLOURS, parish_name
from c360_desktop.ui.widgets import signin as signin_prompt
from c360_desktop.ui.widgets.table_model import read_only_table
from c360_desktop.ui.workers import TaskHandle, TaskRunner

KIND_LABELS = {"access": "Access (a copy of their data)", "rectification": "Rectification (correct it)",
               "objection": "Objection to direct marketing", "erasure": "Erasure (remove it)"}
CHANNEL_LABELS = ("email", "letter", "phone", "in person", "web form")
STATUS_FILTERS = (("Open", "open"), ("Done", "done"), ("Refused", "refused"), ("All", None))


class NewRequestDialog(QDialog):
    """Who asked, for what, how and when. The customer is the one open in the 360 view, or one
    found here by name."""

    def __init__(self, services: Services, runner: TaskRunner, customer: tuple[str, str] | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New data-subject request")
        self._services, self._runner = services, runner
        self._task: TaskHandle | None = None
        self.find_box = QLineEdit(placeholderText="Find a customer by name, phone or e-mail")
        self.find_box.returnPressed.connect(self._find)
        self.hits = QListWidget()
        self.hits.setObjectName("request_hits")
        self.hits.setMaximumHeight(110)
        if customer is not None:
            self._add_hit(*customer)
            self.hits.setCurrentRow(0)
        self.kind_box = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind_box.addItem(label, kind)
        self.channel_box = QComboBox()
        self.channel_box.addItems(CHANNEL_LABELS)
        self.received_box = QDateEdit(QDate.currentDate())
        self.received_box.setCalendarPopup(True)
        self.received_box.setMaximumDate(QDate.currentDate())
        self.received_box.setDisplayFormat("yyyy-MM-dd")
        self.detail_box = QLineEdit(placeholderText="What was asked, in a sentence (optional)")
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {STATUS_COLOURS['red']}")
        form = QFormLayout()
        form.addRow("Customer", self.find_box)
        form.addRow("", self.hits)
        form.addRow("Request", self.kind_box)
        form.addRow("Received by", self.channel_box)
        form.addRow("Received on", self.received_box)
        form.addRow("Detail", self.detail_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Record request")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("The answer is due 30 days after the day it was received."))
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _add_hit(self, customer_id: str, name: str) -> None:
        item = QListWidgetItem(name)
        item.setData(Qt.ItemDataRole.UserRole, customer_id)
        item.setToolTip(customer_id)
        self.hits.addItem(item)

    def _find(self) -> None:
        text = self.find_box.text().strip()
        if not text:
            return

        def show(hits: list[Any]) -> None:
            self.hits.clear()
            for h in hits[:20]:
                self._add_hit(h.customer_id, f"{h.display_name} ({parish_name(h.parish) or 'no parish'})")
            if hits:
                self.hits.setCurrentRow(0)
            self.error.setText("" if hits else f"No customer matches {text!r}.")

        self._task = self._runner.run_query(lambda _p: self._services.search.search(text), show,
                                            lambda exc: self.error.setText(f"Could not search: {exc}"))

    def values(self) -> dict[str, Any]:
        item = self.hits.currentItem()
        received = self.received_box.date()
        return {"customer_id": item.data(Qt.ItemDataRole.UserRole) if item is not None else None,
                "kind": self.kind_box.currentData(), "channel": self.channel_box.currentText(),
                "received_on": date(received.year(), received.month(), received.day()),
                "detail": self.detail_box.text()}

    def _accept(self) -> None:
        if self.values()["customer_id"] is None:
            self.error.setText("Choose the customer who made the request.")
            return
        self.accept()


class RequestsPane(QWidget):
    COLUMNS = ("Request", "Customer", "Received", "Due", "Left", "Status", "Channel", "Recorded by", "Outcome")
    sig_customer_requested = Signal(str)
    sig_shown = Signal(int)
    """Requests listed (tests wait for this)."""
    sig_done = Signal(str)
    """An action finished, with its message."""

    def __init__(self, services: Services, runner: TaskRunner,
                 current_customer: Callable[[], str | None] = lambda: None) -> None:
        super().__init__()
        self.setObjectName("requests_pane")
        self._services, self._runner = services, runner
        self._current_customer = current_customer
        self._task: TaskHandle | None = None
        self._rows: list[Any] = []
        self._asked = 0
        # Seams for tests: the questions a person answers.
        self.confirm: Callable[[str, str], bool] = self._confirm
        self.ask_file: Callable[[str], str] = self._ask_file
        self.ask_outcome: Callable[[Any], tuple[str, str] | None] = self._ask_outcome
        self.ask_new: Callable[[tuple[str, str] | None], dict[str, Any] | None] = self._ask_new
        self.status_box = QComboBox()
        for label, value in STATUS_FILTERS:
            self.status_box.addItem(label, value)
        self.status_box.activated.connect(lambda _i: self.refresh())
        self.new_button = QPushButton("&New request…")
        self.new_button.setToolTip("Record a request from the customer open in the 360 view, or find one (Ctrl+N)")
        self.new_button.clicked.connect(self.new_request)
        self.export_button = QPushButton("E&xport their data…")
        self.export_button.setToolTip("Everything held about the customer, as a PDF to send them or JSON")
        self.export_button.clicked.connect(self.export_selected)
        self.close_button = QPushButton("&Close…")
        self.close_button.setToolTip("Mark the request done or refused, saying what was done")
        self.close_button.clicked.connect(self.close_selected)
        self.erase_button = QPushButton("&Erase…")
        self.erase_button.setToolTip("Remove the customer from this desktop now and everywhere on the next sync")
        self.erase_button.clicked.connect(self.erase_selected)
        self.summary = QLabel("")
        self.summary.setObjectName("requests_summary")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = read_only_table(self.COLUMNS, "requests_table")
        self.table.cellDoubleClicked.connect(self._open_customer)
        self.table.itemSelectionChanged.connect(self._enable)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.status_box)
        top.addWidget(self.summary, 1)
        top.addWidget(self.new_button)
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        for button in (self.export_button, self.close_button, self.erase_button):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        for keys, slot in ((QKeySequence.StandardKey.Refresh, self.refresh), (QKeySequence.StandardKey.New,
                                                                              self.new_request)):
            QShortcut(keys, self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._enable()

    # ---- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        status = self.status_box.currentData()
        self._asked += 1
        asked = self._asked
        self._task = self._runner.run_query(
            lambda _p: self._services.privacy.requests(status),
            lambda rows: self._show(rows) if asked == self._asked else None,
            lambda exc: self.status.setText(f"Could not read the register: {exc}"))

    def _show(self, rows: list[Any]) -> None:
        self._rows = rows
        self.table.setRowCount(len(rows))
        today = date.today()
        for r, req in enumerate(rows):
            left = req.days_left(today)
            left_text = ("" if req.status != "open" else f"{-left} days overdue" if left < 0 else
                         "due today" if left == 0 else f"{left} days")
            values = (req.kind, req.subject, req.received_on.isoformat(), req.due_on.isoformat(), left_text,
                      req.status + (" (not synced)" if req.pending_sync else ""), req.channel, req.recorded_by,
                      req.outcome or req.detail)
            colour = None
            if req.status == "open":
                colour = STATUS_COLOURS["red"] if left < 0 else STATUS_COLOURS["amber"] if left <= 7 else None
            for c, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if colour and c in (3, 4):
                    item.setForeground(QColor(colour))
                if c == 1:
                    item.setToolTip(req.customer_id)
                self.table.setItem(r, c, item)
        open_rows = [q for q in rows if q.status == "open"]
        overdue = sum(q.days_left(today) < 0 for q in open_rows)
        soon = sum(0 <= q.days_left(today) <= 7 for q in open_rows)
        self.summary.setText(f"{len(open_rows)} open: {overdue} overdue, {soon} due within a week"
                             if open_rows else "No open requests")
        self._enable()
        self.sig_shown.emit(len(rows))

    def _selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows and rows[0].row() < len(self._rows) else None

    def _enable(self) -> None:
        req = self._selected()
        is_open = req is not None and req.status == "open"
        self.export_button.setEnabled(is_open and req.subject != "erased customer")
        self.close_button.setEnabled(is_open)
        self.erase_button.setEnabled(is_open and req.kind == "erasure")

    def _open_customer(self, row: int, _col: int) -> None:
        if row < len(self._rows) and self._rows[row].subject != "erased customer":
            self.sig_customer_requested.emit(self._rows[row].customer_id)

    # ---- acting ----------------------------------------------------------------------------

    def _finished(self, message: str) -> None:
        self.status.setText(message)
        self.sig_done.emit(message)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Not done: {exc}")
        self.sig_done.emit(f"Not done: {exc}")
        self._enable()

    def new_request(self) -> None:
        current = self._current_customer()
        preset = None
        if current:
            try:
                preset = (current, self._services.profiles.name_of(current))
            except Exception:  # noqa: BLE001 - a customer gone since: the dialog finds another
                preset = None
        values = self.ask_new(preset)
        if values is None:
            return
        self.status.setText("Recording the request…")
        self._task = self._runner.run_mutation(
            lambda _p: self._services.privacy.open_request(**values),
            lambda req: self._finished(f"Recorded: {req.kind} request from {req.subject}, due {req.due_on}."),
            self._failed)

    def export_selected(self) -> None:
        req = self._selected()
        if req is None:
            return
        path = self.ask_file(f"personal-data-{req.received_on.isoformat()}.pdf")
        if not path:
            return
        fmt = "json" if path.lower().endswith(".json") else "pdf"

        def start() -> None:
            self.status.setText("Gathering everything held about the customer…")
            self._task = self._runner.run_mutation(
                lambda _p: self._services.privacy.access_export(req.id, Path(path), fmt, force=True),
                lambda out: self._finished(f"Written: {out}. Close the request once it is sent."),
                lambda exc: self._failed_or_ask(exc, start))

        start()

    def close_selected(self) -> None:
        req = self._selected()
        if req is None:
            return
        answer = self.ask_outcome(req)
        if answer is None:
            return
        status, outcome = answer
        self._task = self._runner.run_mutation(
            lambda _p: self._services.privacy.close_request(req.id, status, outcome),
            lambda done: self._finished(f"Closed as {done.status}."), self._failed)

    def erase_selected(self) -> None:
        req = self._selected()
        if req is None or req.kind != "erasure":
            return
        if not self.confirm("Erase permanently?",
                            f"Erase {req.subject} and everything held about them?\n\n"
                            "Their record, contacts, source records, purchases, notes, scores and alerts "
                            "leave this desktop now, and the central database and every other desktop on "
                            "their next sync. Mentions of them in other notes become [erased]. Only this "
                            "request and a record of the erasure remain. This cannot be undone."):
            return
        def start() -> None:
            self.erase_button.setEnabled(False)
            self._task = self._runner.run_mutation(
                lambda progress: self._services.privacy.erase(req.id, progress),
                lambda done: self._finished(
                    f"Erased: {done.rows_removed:,} rows removed, {done.mentions_redacted:,} mentions redacted. "
                    "The central database and the other desktops follow on their next sync."),
                lambda exc: self._failed_or_ask(exc, start), lambda _f, message: self.status.setText(message))

        start()

    def _failed_or_ask(self, exc: BaseException, retry: Any) -> None:
        """A refusal that wants the password again asks for it and retries; others are shown."""
        if signin_prompt.asked(self, exc, self._services, self._runner, retry):
            self.status.setText("Confirm it is you to go on.")
            self._enable()
            return
        self._failed(exc)

    # ---- questions -------------------------------------------------------------------------

    def _confirm(self, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, self)
        erase = box.addButton("Erase permanently", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is erase

    def _ask_file(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Export their data", suggested,
                                              "PDF for the person (*.pdf);;JSON for another system (*.json)")
        return path

    def _ask_outcome(self, req: Any) -> tuple[str, str] | None:
        status, ok = QInputDialog.getItem(self, "Close the request", "Close as", ["done", "refused"], 0, False)
        if not ok:
            return None
        outcome, ok = QInputDialog.getText(self, "Close the request",
                                           "What was done (or why it was refused):")
        return (status, outcome) if ok and outcome.strip() else None

    def _ask_new(self, preset: tuple[str, str] | None) -> dict[str, Any] | None:
        dialog = NewRequestDialog(self._services, self._runner, preset, self)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._asked == 0:
            self.refresh()
