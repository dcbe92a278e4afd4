"""The 360 timeline: transactions and interactions, newest first, fetched a page at a time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from c360_desktop.core.profile.service import ProfileService, TimelineItem
from c360_desktop.ui.format import format_jmd, local_datetime
from c360_desktop.ui.widgets.table_model import Index, RowsTableModel
from c360_desktop.ui.workers import TaskRunner

PAGE = 100
_NEGATIVE, _POSITIVE = QColor("#b3261e"), QColor("#1b6e20")


class TimelineModel(RowsTableModel[TimelineItem]):
    COLUMNS = ("When", "What", "Details", "Amount", "Sentiment")
    sig_page_loaded = Signal(int)
    """A page arrived; carries the number of rows now loaded."""

    def __init__(self, profiles: ProfileService, runner: TaskRunner) -> None:
        super().__init__()
        self._profiles, self._runner = profiles, runner
        self._customer: str | None = None
        self._exhausted = True
        self._loading = False
        self._epoch = 0

    def set_customer(self, customer_id: str | None) -> None:
        self.beginResetModel()
        self._epoch += 1
        self._rows, self._customer = [], customer_id
        self._exhausted, self._loading = customer_id is None, False
        self.endResetModel()
        if customer_id is not None:
            self.fetchMore(QModelIndex())

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent) or self._customer is None:
            return
        self._loading = True
        epoch, cid = self._epoch, self._customer
        before = self._rows[-1].cursor if self._rows else None
        self._runner.run_query(lambda _p: self._profiles.timeline(cid, before, PAGE),
                               lambda page: self._append(epoch, page),
                               lambda exc: self._failed(epoch))

    def _append(self, epoch: int, page: list[TimelineItem]) -> None:
        if epoch != self._epoch:
            return  # another customer was opened meanwhile
        self._loading = False
        self._exhausted = len(page) < PAGE
        if page:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self.sig_page_loaded.emit(len(self._rows))

    def _failed(self, epoch: int) -> None:
        if epoch == self._epoch:
            self._loading = False
            self._exhausted = True

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                        Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole):
            return None
        item = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 4 and item.sentiment is not None:
                return _NEGATIVE if item.sentiment <= -0.3 else _POSITIVE if item.sentiment >= 0.3 else None
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) if col == 3 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.title}\n{item.detail}" if col == 2 else None
        if col == 0:
            return local_datetime(item.occurred_at)
        if col == 1:
            return item.kind.capitalize()
        if col == 2:
            return f"{item.title}: {item.detail}" if item.kind != "purchase" else f"{item.title} ({item.detail})"
        if col == 3:
            return format_jmd(item.amount_cents) if item.amount_cents is not None else ""
        if item.sentiment is None:
            return ""
        word = "negative" if item.sentiment <= -0.3 else "positive" if item.sentiment >= 0.3 else "neutral"
        return f"{word} ({item.sentiment:+.2f})"
