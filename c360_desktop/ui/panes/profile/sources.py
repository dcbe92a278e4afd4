"""The 360 source-records tab: every source record that makes up the customer, as recorded."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from c360_desktop.core.models import UnifiedCustomerProfile

_NAME_KEYS = ("Customer", "Name", "Business Name", "Display name")
_PHONE_KEYS = ("Phone", "Telephone")
SYSTEM_NAMES = {"quickbooks": "QuickBooks", "spreadsheet": "Spreadsheet", "directory": "Business directory",
                "social": "Social"}


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
