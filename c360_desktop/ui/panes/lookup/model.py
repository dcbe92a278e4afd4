"""The lookup results table: a thin adapter over the (at most a few hundred) search hits."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from c360_desktop.core.search import SearchHit
from c360_desktop.ui.format import format_jmd, format_phone, local_date, parish_name

Index = QModelIndex | QPersistentModelIndex


class LookupTableModel(QAbstractTableModel):
    COLUMNS = ("Name", "Parish", "Phone", "Segment", "Last purchase", "Lifetime spend")

    def __init__(self) -> None:
        super().__init__()
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = hits
        self.endResetModel()

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._hits)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            h = self._hits[index.row()]
            col = index.column()
            if col == 0:
                return h.display_name
            if col == 1:
                return parish_name(h.parish)
            if col == 2:
                return format_phone(h.phone) if h.phone else "—"
            if col == 3:
                return h.segment or "—"
            if col == 4:
                return local_date(h.last_purchase) if h.last_purchase else "never"
            return format_jmd(h.lifetime_spend_cents)
        if role == Qt.ItemDataRole.ToolTipRole:
            h = self._hits[index.row()]
            return f"{h.display_name}\n{h.town or ''}, {parish_name(h.parish)}\n{h.email or ''}".strip()
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
