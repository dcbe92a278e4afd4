"""Customer 360: a header card with who the customer is and how they buy, and tabs for the
timeline, the source records that make up the customer, and notes."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.models import ModelScore, Note, UnifiedCustomerProfile
from c360_desktop.core.services import Services
from c360_desktop.ui.format import (
    format_jmd,
    format_phone,
    local_date,
    local_datetime,
    parish_name,
    trn_for_role,
)
from c360_desktop.ui.panes.profile.model import TimelineModel
from c360_desktop.ui.workers import TaskRunner

SCORE_LABELS = {
    "churn": ("Churn risk", "no churn model has been trained on this cache yet"),
    "clv": ("Lifetime value", "no lifetime-value model has been trained on this cache yet"),
    "lead": ("Lead score", "no lead-scoring model has been trained on this cache yet"),
}
_NAME_KEYS = ("Customer", "Name", "Business Name", "Display name")
_PHONE_KEYS = ("Phone", "Telephone")
MAX_NOTE = 20_000
SYSTEM_NAMES = {"quickbooks": "QuickBooks", "spreadsheet": "Spreadsheet", "directory": "Business directory",
                "social": "Social"}


def _score_text(score: ModelScore | None, model: str) -> str:
    label, missing = SCORE_LABELS[model]
    if score is None:
        return f"<b>{label}:</b> <i>not scored: {missing}</i>"
    value = f"{score.value:.0%}" if model == "churn" else (
        format_jmd(int(score.value * 100)) if model == "clv" else f"{score.value:.0f}/100")
    reasons = "; ".join(f"{escape(c.feature)} {c.contribution:+.2f}" for c in score.top_reasons(3))
    return f"<b>{label}:</b> {value} <small>(model {escape(score.model_version)})</small> {reasons}"


class HeaderCard(QFrame):
    """Identity, contact points, parish, segment, spend and scores at a glance."""

    FIELDS = ("Phone", "Lifetime spend", "E-mail", "Last 12 months", "Address", "Purchases",
              "Parish", "Last purchase", "TRN", "Open leads", "Customer since", "Rep")

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("header_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setObjectName("customer_name")
        font = self.title.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        for i, name in enumerate(self.FIELDS):
            key = QLabel(f"{name}:")
            key.setStyleSheet("color: palette(mid);")
            value = QLabel("—")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"field_{name.lower().replace(' ', '_').replace('-', '')}")
            self.values[name] = value
            row, col = divmod(i, 2)
            grid.addWidget(key, row, col * 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, col * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.scores = QLabel()
        self.scores.setObjectName("scores")
        self.scores.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(grid)
        layout.addWidget(self.scores)

    def show_profile(self, p: UnifiedCustomerProfile, role: str) -> None:
        self.title.setText(p.display_name)
        segment = p.segments[0].name if p.segments else "no segment"
        self.subtitle.setText(f"{p.kind.capitalize()} · {segment} · {len(p.source_records)} source records")
        phones = [format_phone(c.value) + (f" ({c.label})" if c.label else "")
                  for c in p.contact_points if c.kind == "phone"]
        emails = [c.value for c in p.contact_points if c.kind == "email"]
        current = next((a for a in p.addresses if a.kind != "previous"), None)
        t = p.transactions
        values = {
            "Phone": ", ".join(phones) or "—",
            "E-mail": ", ".join(emails) or "—",
            "TRN": trn_for_role(p.trn, role),
            "Address": f"{current.street}, {current.town}" if current else "—",
            "Parish": parish_name(p.parish),
            "Customer since": local_date(p.created_at),
            "Rep": p.rep_name or "—",
            "Lifetime spend": format_jmd(int(t.lifetime_spend * 100)),
            "Last purchase": local_date(t.last_purchase) if t.last_purchase else "never",
            "Purchases": f"{t.count:,}",
            "Last 12 months": format_jmd(int(t.spend_last_12_months * 100)),
            "Open leads": str(len(p.open_leads)),
        }
        for name, text in values.items():
            self.values[name].setText(text)
        self.scores.setText("<br>".join(_score_text(p.score(m), m) for m in SCORE_LABELS))


class NotesTab(QWidget):
    sig_note_saved = Signal(str)
    """A note was saved locally (and queued for sync); carries its id."""

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self._services, self._runner = services, runner
        self._customer: str | None = None
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.editor = QPlainTextEdit(placeholderText="Write a note… (Ctrl+Enter saves)")
        self.editor.setMaximumHeight(110)
        self.save_button = QPushButton("Save note")
        self.save_button.setToolTip("Saved on this computer at once; sent to the central database at the next sync")
        self.message = QLabel()
        self.message.setObjectName("notes_message")
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.editor)
        layout.addLayout(row)
        self.save_button.clicked.connect(self.save)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.editor, self.save, context=Qt.ShortcutContext.WidgetShortcut)

    def show_notes(self, customer_id: str, notes: tuple[Note, ...]) -> None:
        if customer_id != self._customer:
            self.message.clear()
        self._customer = customer_id
        self.list.clear()
        for note in notes:
            pending = "  · waiting to sync" if note.pending_sync else ""
            item = QListWidgetItem(f"{local_datetime(note.created_at)} · {note.author}{pending}\n{note.body}")
            self.list.addItem(item)
        if not notes:
            self.list.addItem(QListWidgetItem("No notes yet."))

    def save(self) -> None:
        body = self.editor.toPlainText().strip()
        if self._customer is None or not self.save_button.isEnabled():
            return  # nothing open, or a save is already under way (a double Ctrl+Enter)
        if not body:
            self.message.setText("Write something first.")
            return
        if len(body) > MAX_NOTE:
            self.message.setText(f"This note is {len(body):,} characters; the limit is {MAX_NOTE:,}.")
            return
        customer, author = self._customer, self._services.settings.user_name
        self.save_button.setEnabled(False)
        self.message.setText("Saving…")

        def done(note: Note) -> None:
            self.save_button.setEnabled(True)
            self.editor.clear()
            self.message.setText("Saved on this computer; it will sync when you are online.")
            if customer == self._customer:
                self._runner.run_query(lambda _p: self._services.profiles.notes(customer),
                                       lambda notes: self.show_notes(customer, notes))
            self.sig_note_saved.emit(note.id)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)  # the text stays in the editor: nothing is lost
            self.message.setText(f"Could not save the note: {exc}")

        self._runner.run_mutation(lambda _p: self._services.profiles.add_note(customer, body, author),
                                  done, failed)


class SourcesTab(QTableWidget):
    COLUMNS = ("System", "Record", "Name as recorded", "Phone as recorded", "Other fields", "Link")

    def __init__(self) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def show_sources(self, p: UnifiedCustomerProfile) -> None:
        self.setRowCount(len(p.source_records))
        for row, s in enumerate(p.source_records):
            name = next((str(s.fields[k]) for k in _NAME_KEYS if k in s.fields), "")
            phone = next((str(s.fields[k]) for k in _PHONE_KEYS if k in s.fields), "")
            other = "; ".join(f"{k}: {v}" for k, v in s.fields.items()
                              if k not in _NAME_KEYS + _PHONE_KEYS and v)
            link = f"{s.match_probability:.0%} ({s.match_rule})" if s.match_probability is not None else ""
            system = SYSTEM_NAMES.get(s.system, s.system)
            for col, text in enumerate((system, s.external_id, name, phone, other, link)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(row, col, item)
        self.resizeColumnsToContents()
        self.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)


class ProfilePane(QWidget):
    sig_profile_shown = Signal(str)
    """A customer's profile is on screen; carries the customer id."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._customer: str | None = None
        self.placeholder = QLabel("Find a customer with Ctrl+K and press Enter to see their 360 view.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.header = HeaderCard()
        self.timeline_model = TimelineModel(services.profiles, runner)
        self.timeline = QTableView()
        self.timeline.setModel(self.timeline_model)
        self.timeline.verticalHeader().hide()
        self.timeline.setWordWrap(False)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        th = self.timeline.horizontalHeader()
        for col in (0, 1, 3, 4):
            th.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        th.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.sources = SourcesTab()
        self.notes = NotesTab(services, runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline, "&Timeline")
        self.tabs.addTab(self.sources, "&Source records")
        self.tabs.addTab(self.notes, "&Notes")
        content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.header)
        cl.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        layout.addWidget(self.error)

    @property
    def customer_id(self) -> str | None:
        return self._customer

    def show_customer(self, customer_id: str) -> None:
        self._customer = customer_id
        self.error.hide()

        def done(profile: UnifiedCustomerProfile) -> None:
            if customer_id != self._customer:
                return
            self.header.show_profile(profile, self._services.settings.role)
            self.sources.show_sources(profile)
            self.notes.show_notes(customer_id, profile.notes)
            self.timeline_model.set_customer(customer_id)
            self.stack.setCurrentIndex(1)
            self.sig_profile_shown.emit(customer_id)

        def failed(exc: BaseException) -> None:
            if customer_id == self._customer:
                self.error.setText(f"Could not open this customer: {exc}")
                self.error.show()

        self._runner.run_query(lambda _p: self._services.profiles.get(customer_id), done, failed)
