"""The lookup results table: a thin adapter over the (at most a few hundred) search hits."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from c360_desktop.core.search.service import SearchHit
from c360_desktop.ui.format import format_jmd, format_phone, local_date, parish_name
from c360_desktop.ui.widgets.table_model import Index, RowsTableModel


class LookupTableModel(RowsTableModel[SearchHit]):
    COLUMNS = ("Name", "Parish", "Phone", "Segment", "Last purchase", "Lifetime spend")

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._rows = hits
        self.endResetModel()

    def hit(self, row: int) -> SearchHit:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            h = self._rows[index.row()]
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
            h = self._rows[index.row()]
            return f"{h.display_name}\n{h.town or ''}, {parish_name(h.parish)}\n{h.email or ''}".strip()
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
