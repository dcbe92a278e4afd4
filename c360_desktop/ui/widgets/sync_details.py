"""A progress bar per table while a sync runs: rows done of rows to come, rows/s and time left."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget


class SyncDetails(QWidget):
    """A small tool window; ``show_tables`` takes the puller's TableProgress list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setWindowTitle("Sync progress")
        self.setObjectName("sync_details")
        self.grid = QGridLayout(self)
        for col, title in enumerate(("Table", "", "Rows", "Speed", "Time left")):
            label = QLabel(f"<b>{title}</b>")
            self.grid.addWidget(label, 0, col)
        self.grid.setColumnStretch(1, 1)
        self.rows: dict[str, tuple[QLabel, QProgressBar, QLabel, QLabel, QLabel]] = {}
        self.summary = QLabel("Waiting for the server…")
        self.grid.addWidget(self.summary, 1, 0, 1, 5)
        self.resize(640, 420)

    def _row(self, table: str) -> tuple[QLabel, QProgressBar, QLabel, QLabel, QLabel]:
        if table not in self.rows:
            r = len(self.rows) + 2
            widgets = (QLabel(table.replace("_", " ")), QProgressBar(), QLabel(), QLabel(), QLabel())
            widgets[1].setRange(0, 1000)
            widgets[1].setTextVisible(False)
            widgets[1].setMinimumWidth(160)
            for label in widgets[2:]:
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, w in enumerate(widgets):
                self.grid.addWidget(w, r, c)
            self.rows[table] = widgets
        return self.rows[table]

    def show_tables(self, tables: Sequence[Any] | None) -> None:
        if not tables:
            return
        done = sum(t.done for t in tables)
        total = sum(t.total for t in tables)
        self.summary.setText(f"{done:,} of {total:,} rows")
        for t in tables:
            _name, bar, rows, speed, left = self._row(t.table)
            bar.setValue(int(t.fraction * 1000))
            rows.setText(f"{t.done:,} of {t.total:,}" if t.total else "up to date")
            speed.setText(f"{t.rows_per_s:,.0f} rows/s" if t.rows_per_s else "")
            if t.done >= t.total:
                left.setText("done" if t.total else "")
            elif t.seconds_left is None:
                left.setText("waiting")
            else:
                left.setText(f"about {t.seconds_left:,.0f} s")
