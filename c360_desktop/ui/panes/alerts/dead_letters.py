"""The dead-letter table: every message the listener could not use, with the reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.alerts.store import DeadLetterRow
from c360_desktop.ui.format import local_datetime


class DeadLettersDialog(QDialog):
    COLUMNS = ("Received", "Topic", "Partition", "Offset", "Size", "Reason", "Start of message")

    def __init__(self, letters: list[DeadLetterRow], total: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dead letters")
        self.resize(1000, 520)
        note = QLabel(f"{total:,} message{'s' if total != 1 else ''} could not be used"
                      + (f"; the newest {len(letters):,} are shown." if total > len(letters) else ".")
                      + " They are kept here and never raise alerts.")
        note.setWordWrap(True)
        self.table = QTableWidget(len(letters), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        for r, d in enumerate(letters):
            values = (local_datetime(d.received_at), d.topic, str(d.partition), f"{d.offset:,}",
                      f"{d.size:,} B", d.reason, d.preview[:120])
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setToolTip(d.reason if c == 5 else d.preview if c == 6 else v)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(6, 220)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
