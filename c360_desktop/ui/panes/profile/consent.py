"""The 360 consent tab: the customer's latest consent per purpose and channel, and recording a
new grant or withdrawal (saved at once, queued for sync, audited; the lead queue follows)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.models import CONSENT_CHANNELS, CONSENT_PURPOSES, LEGAL_BASES, Consent
from c360_desktop.core.security import Permission, can
from c360_desktop.core.services import Services
from c360_desktop.ui.format import CONSENT_CHANNEL_LABELS, STATUS_COLOURS, local_datetime
from c360_desktop.ui.widgets.table_model import read_only_table
from c360_desktop.ui.workers import TaskRunner

SOURCES = ("phone call", "in person", "web form", "signed form", "e-mail", "SMS reply")


class ConsentTab(QWidget):
    COLUMNS = ("Purpose", "Channel", "Status", "Since", "How", "Legal basis", "Recorded by")
    sig_consent_saved = Signal(str)
    """A consent change was saved (and queued for sync); carries the customer id."""

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self._services, self._runner = services, runner
        self._customer: str | None = None
        self.table = read_only_table(self.COLUMNS, "consent_table")
        self.table.itemSelectionChanged.connect(self._follow_selection)
        self.purpose_box = QComboBox()
        for p in CONSENT_PURPOSES:
            self.purpose_box.addItem(p.capitalize(), p)
        self.channel_box = QComboBox()
        for c in CONSENT_CHANNELS:
            self.channel_box.addItem(CONSENT_CHANNEL_LABELS[c], c)
        self.source_box = QComboBox()
        self.source_box.setEditable(True)
        self.source_box.addItems(SOURCES)
        self.source_box.setToolTip("How the customer said so (at most 30 characters)")
        line = self.source_box.lineEdit()
        if isinstance(line, QLineEdit):
            line.setMaxLength(30)
        self.basis_box = QComboBox()
        self.basis_box.setObjectName("consent_legal_basis")
        for key, label in LEGAL_BASES.items():
            self.basis_box.addItem(label, key)
        self.basis_box.setToolTip("Why the company may process for this purpose (Data Protection Act 2020)")
        self.grant_button = QPushButton("&Grant")
        self.withdraw_button = QPushButton("&Withdraw")
        self.grant_button.clicked.connect(lambda: self.record("granted"))
        self.withdraw_button.clicked.connect(lambda: self.record("withdrawn"))
        user = services.user
        if not can(user, Permission.EDIT_PROFILE):
            for b in (self.grant_button, self.withdraw_button):
                b.setEnabled(False)
                b.setToolTip(f"The {user.role.value.replace('_', ' ')} role may not change consent")
        self.message = QLabel()
        self.message.setObjectName("consent_message")
        self.message.setWordWrap(True)
        form = QHBoxLayout()
        for label, box in (("Purpose", self.purpose_box), ("Channel", self.channel_box), ("How", self.source_box),
                           ("Basis", self.basis_box)):
            form.addWidget(QLabel(label))
            form.addWidget(box)
        form.addStretch(1)
        buttons = QHBoxLayout()  # on a row of their own: the four choices fill a narrow dock already
        buttons.addStretch(1)
        buttons.addWidget(self.grant_button)
        buttons.addWidget(self.withdraw_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def show_consents(self, customer_id: str, consents: tuple[Consent, ...]) -> None:
        if customer_id != self._customer:
            self.message.clear()
        self._customer = customer_id
        self.table.setRowCount(len(consents))
        for r, k in enumerate(consents):
            colour = STATUS_COLOURS["green" if k.status == "granted" else "red"]
            status = "Granted" if k.status == "granted" else "Withdrawn"
            values = (k.purpose.capitalize(), CONSENT_CHANNEL_LABELS.get(k.channel, k.channel), status,
                      local_datetime(k.recorded_at), k.source or "", LEGAL_BASES.get(k.legal_basis, k.legal_basis),
                      (k.recorded_by or "(imported)") + ("  · waiting to sync" if k.pending_sync else ""))
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setForeground(Qt.GlobalColor.white)
                    item.setBackground(QColor(colour))
                item.setData(Qt.ItemDataRole.UserRole, (k.purpose, k.channel))
                self.table.setItem(r, c, item)
        if not consents:
            self.message.setText("No consent recorded: no marketing to this customer until they give it.")

    def _follow_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        if item is None:
            return
        purpose, channel = item.data(Qt.ItemDataRole.UserRole)
        self.purpose_box.setCurrentIndex(max(0, self.purpose_box.findData(purpose)))
        self.channel_box.setCurrentIndex(max(0, self.channel_box.findData(channel)))

    def _busy(self, busy: bool) -> None:
        for b in (self.grant_button, self.withdraw_button):
            b.setEnabled(not busy)

    def record(self, status: str) -> None:
        cid = self._customer
        if cid is None:
            return
        channel, purpose = self.channel_box.currentData(), self.purpose_box.currentData()
        source, author = self.source_box.currentText(), self._services.user.name
        basis = self.basis_box.currentData()
        self._busy(True)

        def done(_k: Consent) -> None:
            self._busy(False)
            self.message.setText(f"{purpose.capitalize()} by {CONSENT_CHANNEL_LABELS[channel]}: {status}. Saved here; "
                                 "sent to the central database at the next sync.")
            self._runner.run_query(lambda _p: self._services.profiles.consents(cid),
                                   lambda ks: self.show_consents(cid, ks) if cid == self._customer else None)
            self.sig_consent_saved.emit(cid)

        def failed(exc: BaseException) -> None:
            self._busy(False)
            self.message.setText(f"Not saved: {exc}")

        self._runner.run_mutation(
            lambda _p: self._services.profiles.record_consent(cid, channel, purpose, status, source, author, basis),
            done, failed)
