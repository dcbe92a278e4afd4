"""Export from a pane: a button that asks where (CSV, Excel, PDF), then writes the table through
ReportService.export in a worker, with a progress dialog that can cancel (nothing is left)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QMenu,
    QProgressDialog,
    QToolButton,
    QWidget,
)

from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.reports.export import Manifest, Table
from c360_desktop.core.security import Permission, can
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets import signin as signin_prompt
from c360_desktop.ui.workers import TaskHandle, TaskRunner

FILTERS = {"Excel workbook (*.xlsx)": "xlsx", "PDF (*.pdf)": "pdf", "CSV for other tools (*.csv)": "csv"}


def format_of(path: Path, chosen_filter: str = "") -> str:
    """The export format a file name asks for (its extension, else the dialog's filter)."""
    ext = path.suffix.lower().lstrip(".")
    return ext if ext in ("xlsx", "pdf", "csv") else FILTERS.get(chosen_filter, "xlsx")


def table_of_view(view: QAbstractItemView, title: str, filters: str) -> Table:
    """What a table view shows (its visible columns, every row of its model, as displayed, so a
    masked field stays masked) as a Table to export."""
    import pandas as pd

    model = view.model()
    columns = [c for c in range(model.columnCount()) if not view.isColumnHidden(c)] \
        if hasattr(view, "isColumnHidden") else list(range(model.columnCount()))
    names = [str(model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)) for c in columns]
    rows = [[model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole) for c in columns]
            for r in range(model.rowCount())]
    return Table(title, filters, pd.DataFrame(rows, columns=names, dtype=object))


class ExportButton(QToolButton):
    """"Export…": one table, or a menu of the pane's tables. ``tables()`` gives what is shown now
    (empty: nothing to export yet); ``on_message`` shows the outcome in the pane."""

    def __init__(self, services: Services, runner: TaskRunner, tables: Callable[[], list[Table]],
                 on_message: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner, self._tables, self._say = services, runner, tables, on_message
        self.task: TaskHandle | None = None
        self.last: Manifest | None = None
        self.setText("Export…")  # Ctrl+E; no mnemonic (panes' own buttons use the letters)
        self.setToolTip("Save the table shown as Excel, PDF or CSV (Ctrl+E)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self)
        self._menu.aboutToShow.connect(self._fill_menu)
        self.setMenu(self._menu)
        user = services.user
        if not can(user, Permission.EXPORT):
            self.setEnabled(False)
            self.setToolTip(f"The {user.role.value.replace('_', ' ')} role may not export")

    def bind_shortcut(self, pane: QWidget) -> None:
        """Ctrl+E opens this menu while focus is in ``pane`` (each pane has its own Export)."""
        QShortcut(QKeySequence("Ctrl+E"), pane, self.showMenu, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _fill_menu(self) -> None:
        self._menu.clear()
        tables = self._tables()
        if not tables:
            self._menu.addAction("Nothing to export yet").setEnabled(False)
        for table in tables:
            self._menu.addAction(f"{table.title.capitalize()} ({len(table.frame):,} rows)…",
                                 lambda t=table: self.ask(t))

    def ask(self, table: Table) -> TaskHandle | None:
        name = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in table.title)[:60].strip() or "report"
        path, chosen = QFileDialog.getSaveFileName(self, "Export", str(Path.home() / f"{name}.xlsx"),
                                                   ";;".join(FILTERS))
        if not path:
            return None
        return self.start(table, Path(path), format_of(Path(path), chosen))

    def start(self, table: Table, path: Path, fmt: str) -> TaskHandle:
        """Write ``table`` to ``path`` in a worker; the dialog shows progress and can cancel."""
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(path.name + f".{fmt}")
        dialog = QProgressDialog(f"Exporting {len(table.frame):,} rows to {path.name}…", "Cancel", 0, 100, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)  # quick exports never flash a dialog
        dialog.setAutoClose(False)
        reports = self._services.reports

        def work(progress: Progress) -> Manifest:
            # the user chose this file in the save dialog, which asked before replacing it
            return reports.export(table, path, fmt, force=True, progress=progress)  # type: ignore[arg-type]

        def done(info: Manifest) -> None:
            dialog.close()
            self.task, self.last = None, info
            self._say(f"{info.rows:,} rows exported to {path} (data as of {info.data_as_of}).")

        def failed(exc: BaseException) -> None:
            dialog.close()
            self.task = None
            if signin_prompt.asked(self, exc, self._services, self._runner, lambda: self.start(table, path, fmt)):
                return
            self._say("Export cancelled; no file was written." if isinstance(exc, Cancelled)
                      else f"Could not export: {exc}")

        def progressed(fraction: float, message: str) -> None:
            dialog.setValue(int(fraction * 100))
            dialog.setLabelText(message)

        self.task = self._runner.run_query(work, done, failed, progressed,
                                           lambda: failed(Cancelled()))
        dialog.canceled.connect(self.task.cancel)
        return self.task
