"""Tools > Campaign list…: who a marketing campaign by one channel may reach, honouring consent
and objections, with what was left out and why; exported with the Export button (which asks
for the export permission and a recent sign-in, and audits the file)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import jamaica
from c360_desktop.core.models import CONSENT_CHANNELS
from c360_desktop.ui.format import CONSENT_CHANNEL_LABELS
from c360_desktop.ui.widgets.export import ExportButton
from c360_desktop.ui.widgets.table_model import read_only_table
from c360_desktop.ui.workers import TaskRunner

PREVIEW = 200  # rows shown; the export holds them all


class CampaignListDialog(QDialog):
    def __init__(self, services: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaign_list_dialog")
        self.setWindowTitle("Campaign list")
        self.resize(760, 520)
        self._services, self._runner = services, runner
        self.table_data: Any = None
        self.channel = QComboBox()
        for c in CONSENT_CHANNELS:
            self.channel.addItem(CONSENT_CHANNEL_LABELS[c], c)
        self.parish = QComboBox()
        self.parish.addItem("All parishes", None)
        for p in jamaica.parishes():
            self.parish.addItem(p.address_name, p.code)
        self.unrecorded = QCheckBox("Also customers with no consent record (legitimate interests)")
        self.unrecorded.setToolTip("Existing customers who never objected; a withdrawal or objection always leaves "
                                   "a customer out")
        self.summary = QLabel("")
        self.summary.setObjectName("campaign_summary")
        self.summary.setWordWrap(True)
        self.table = read_only_table(("Customer", "Parish", "Segment", "Address", "Consent since", "Legal basis"),
                                     "campaign_table")
        self.export = ExportButton(services, runner, lambda: [self.table_data] if self.table_data is not None else [],
                                   self.summary.setText, self)
        top = QHBoxLayout()
        for label, box in (("Channel", self.channel), ("Parish", self.parish)):
            top.addWidget(QLabel(label))
            top.addWidget(box)
        top.addWidget(self.unrecorded)
        top.addStretch(1)
        top.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        for box in (self.channel, self.parish):
            box.currentIndexChanged.connect(self.refresh)
        self.unrecorded.toggled.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        channel, parish, wide = self.channel.currentData(), self.parish.currentData(), self.unrecorded.isChecked()
        self.summary.setText("Working out who may be reached…")
        self._runner.run_query(
            lambda _p: self._services.reports.campaign_list(channel, [parish] if parish else None, None, wide),
            self._show, lambda exc: self.summary.setText(f"No list: {exc}"))

    def _show(self, result: tuple[Any, Any]) -> None:
        from PySide6.QtWidgets import QTableWidgetItem

        from c360_desktop.core.validation import format_phone

        table, found = result
        self.table_data = table  # exported as it is: phones in E.164, as SMS and dialling tools take them
        frame = table.frame
        self.table.setHorizontalHeaderLabels(list(frame.columns))
        phone = "Phone" in frame.columns
        self.table.setRowCount(min(len(frame), PREVIEW))
        for r, row in enumerate(frame.head(PREVIEW).itertuples(index=False)):
            for c, value in enumerate(row):
                text = "" if value is None else str(value)
                if phone and frame.columns[c] == "Phone" and text:
                    text = format_phone(text)
                self.table.setItem(r, c, QTableWidgetItem(text))
        more = f" (the first {PREVIEW:,} shown; the export holds all)" if len(frame) > PREVIEW else ""
        self.summary.setText(found.summary() + "." + more)
