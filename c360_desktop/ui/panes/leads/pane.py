"""Lead queue pane: open leads ranked by score, hot/warm/cold, with the next best action and why;
filters and sorting run in SQL on the cache; quick actions log a sales activity exactly once."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import jamaica
from c360_desktop.core.leads import LeadQueue, QueuedLead, log_activity
from c360_desktop.core.services import Services
from c360_desktop.ui.format import format_jmd, local_datetime
from c360_desktop.ui.workers import TaskRunner

BAND_COLOURS = {"hot": "#f4c7c3", "warm": "#fce8b2", "cold": "#d2e3fc"}
OUTCOMES = {"call": ("reached", "no answer", "left message", "call back later", "not interested"),
            "email": ("sent", "replied", "bounced"),
            "meeting": ("booked", "held", "cancelled"),
            "visit": ("visited", "nobody there", "order taken")}


class ActivityDialog(QDialog):
    """Outcome and note of one quick action; its action id is fixed when the dialog opens."""

    def __init__(self, kind: str, lead: QueuedLead, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind, self.lead = kind, lead
        self.action_id = str(uuid.uuid4())
        self.setWindowTitle(f"Log {kind}: {lead.customer_name}")
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOMES[kind])
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What was said, what happens next…")
        form = QFormLayout()
        form.addRow("&Outcome", self.outcome)
        form.addRow("&Note", self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{lead.next_action}: {lead.next_action_reason}"))
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)


class LeadsPane(QWidget):
    COLUMNS = ("Score", "Band", "Customer", "Parish", "Status", "Next best action", "Why", "Last contact",
               "Est. value")
    sig_customer_requested = Signal(str)
    """The user asked to open this customer's 360 view."""
    sig_activity_logged = Signal(str)
    """A quick action was recorded (carries the activity id)."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.queue = LeadQueue(services.cache.reader)
        self.leads: list[QueuedLead] = []
        self._generation = 0
        self.parish = QComboBox()
        self.parish.addItem("All parishes", None)
        for p in jamaica.parishes():
            self.parish.addItem(p.address_name, p.code)
        profile = services.settings.profile()
        if services.settings.role == "field_rep" and profile is not None and len(profile.territory) == 1:
            self.parish.setCurrentIndex(self.parish.findData(profile.territory[0]))  # my territory
        self.band = QComboBox()
        for label, value in (("All bands", None), ("Hot", ["hot"]), ("Hot and warm", ["hot", "warm"])):
            self.band.addItem(label, value)
        self.status = QComboBox()
        for label, value in (("Any status", None), ("New", ["new"]), ("Contacted", ["contacted"]),
                             ("Qualified", ["qualified"])):
            self.status.addItem(label, value)
        self.age = QComboBox()
        for label, value in (("Any age", None), ("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90)):
            self.age.addItem(label, value)
        self.sort = QComboBox()
        for label, value in (("By score", "score"), ("By value", "value"), ("Oldest first", "age"),
                             ("Longest untouched", "last_contact"), ("By name", "name")):
            self.sort.addItem(label, value)
        self.summary = QLabel()
        self.model = QStandardItemModel(0, len(self.COLUMNS))
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        metrics = self.table.fontMetrics()
        for col, sample in ((0, "Score__"), (1, "Band__"), (2, "W" * 16), (3, "Westmoreland__"), (4, "Contacted__"),
                            (5, "Introduce yourself_"), (7, "28 Nov 2026 11:45___"), (8, "JMD 1,000,000_")):
            header.resizeSection(col, metrics.horizontalAdvance(sample))
        self.actions: dict[str, QPushButton] = {}
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for kind, label in (("call", "&Call"), ("email", "&Email"), ("meeting", "&Meeting"), ("visit", "&Visit")):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, k=kind: self.quick_action(k))
            buttons.addWidget(b)
            self.actions[kind] = b
        self.explain_button = QPushButton("E&xplain score")
        buttons.addWidget(self.explain_button)
        filters = QHBoxLayout()
        for w in (self.parish, self.band, self.status, self.age, self.sort):
            filters.addWidget(w)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        for combo in (self.parish, self.band, self.status, self.age, self.sort):
            combo.currentIndexChanged.connect(self.refresh)
        self.explain_button.clicked.connect(self.explain)
        self.table.doubleClicked.connect(self._open)
        self.refresh()

    def refresh(self) -> None:
        parish = self.parish.currentData()
        query = dict(parishes=[parish] if parish else None, bands=self.band.currentData(),
                     statuses=self.status.currentData(), max_age_days=self.age.currentData(),
                     sort=self.sort.currentData(), limit=500)
        queue = self.queue
        self._generation += 1
        generation = self._generation
        self._runner.run_query(lambda _p: queue.query(**query), lambda rows: self._show(rows, generation))

    def _show(self, rows: list[QueuedLead], generation: int) -> None:
        if generation != self._generation:
            return
        self.leads = rows
        self.model.removeRows(0, self.model.rowCount())
        for r in rows:
            cells = (f"{r.score:.0f}", r.band.capitalize(), r.customer_name,
                     jamaica.parish_by_code()[r.parish].address_name if r.parish in jamaica.parish_by_code() else "—",
                     r.status.capitalize(), r.next_action, r.next_action_reason, local_datetime(r.last_contact_at),
                     format_jmd(r.estimated_value_cents) if r.estimated_value_cents else "—")
            items = [QStandardItem(c) for c in cells]
            items[1].setBackground(QBrush(QColor(BAND_COLOURS[r.band])))
            items[0].setToolTip("Rule-based score (no lead model yet): Explain score lists its reasons"
                                if r.scored_by == "rules" else f"Scored by model {r.scored_by}")
            for i in (0, 8):
                items[i].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow(items)
        hot = sum(r.band == "hot" for r in rows)
        rules = any(r.scored_by == "rules" for r in rows)
        self.summary.setText(f"{len(rows):,} open leads shown · {hot:,} hot"
                             + (" · scores are rule-based until the lead model has run (Explain score)" if rules else ""))

    def current(self) -> QueuedLead | None:
        index = self.table.currentIndex()
        return self.leads[index.row()] if index.isValid() and index.row() < len(self.leads) else None

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_customer_requested.emit(self.leads[index.row()].customer_id)

    def explain(self) -> None:
        lead = self.current()
        if lead is None:
            return
        parts = self.queue.explain(lead.lead_id)
        lines = [f"{p['points']:+g}  {p['why']}" if "why" in p else f"{p.get('feature')}: {p.get('value')}"
                 for p in parts]
        who = "rule-based score (no lead model yet)" if lead.scored_by == "rules" else f"model {lead.scored_by}"
        QMessageBox.information(self, f"Score {lead.score:.0f}: {lead.customer_name}",
                                f"{who}\n\n" + "\n".join(lines))

    def quick_action(self, kind: str) -> ActivityDialog | None:
        lead = self.current()
        if lead is None:
            self.summary.setText("Choose a lead first.")
            return None
        contact = self._services.cache.reader().execute(
            "SELECT primary_phone, primary_email FROM customer WHERE id = ?", (lead.customer_id,)).fetchone()
        if kind == "call" and contact and contact[0]:
            QDesktopServices.openUrl(QUrl(f"tel:{contact[0]}"))
        elif kind == "email" and contact and contact[1]:
            QDesktopServices.openUrl(QUrl(f"mailto:{contact[1]}"))
        dialog = ActivityDialog(kind, lead, self)
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        cache, user = self._services.cache, self._services.settings.user_name

        def submit() -> None:
            save.setEnabled(False)  # a second click while saving records nothing more (same action id)
            outcome, note = dialog.outcome.currentText(), dialog.note.toPlainText()

            def done(recorded: bool) -> None:
                if recorded:
                    self.sig_activity_logged.emit(dialog.action_id)
                dialog.accept()
                self.refresh()

            self._runner.run_mutation(
                lambda _p: log_activity(cache, lead.lead_id, kind, outcome, note, user, dialog.action_id), done,
                lambda exc: (save.setEnabled(True), QMessageBox.warning(dialog, "Not saved", str(exc))))

        dialog.buttons.accepted.connect(submit)
        dialog.open()
        return dialog
