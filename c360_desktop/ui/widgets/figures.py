"""A table of figures as people read them (J$1,234, 12.3%, a dash for none), numbers right-aligned;
shared by the reports panes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from c360_desktop.core.reports.formatting import figure


def cell_text(value: Any, unit: str | None) -> str:
    if unit:
        return figure(None if value is None else float(value), unit)
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return str(value)


def fill_table(table: QTableWidget, frame: pd.DataFrame, units: dict[str, str],
               style: Callable[[QTableWidgetItem, int, Any, str | None], None] | None = None) -> None:
    """Show ``frame`` in ``table``; ``style(item, row, value, unit)`` may colour a cell."""
    table.clear()
    table.setColumnCount(len(frame.columns))
    table.setRowCount(len(frame))
    table.setHorizontalHeaderLabels([str(c) for c in frame.columns])
    for r, row in enumerate(frame.itertuples(index=False)):
        for c, value in enumerate(row):
            unit = units.get(str(frame.columns[c]))
            item = QTableWidgetItem(cell_text(value, unit))
            if unit:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if style is not None:
                style(item, r, value, unit)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
