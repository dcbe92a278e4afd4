"""The report builder: pick measures, dimensions, a period, filters and a chart; the result is read
again in a worker as you choose (a busy bar past 300 ms); double-click a cell for the customers and
sales lines behind it, and one of them for their 360 view; save, rename, copy and delete reports, and pin
notes to a report or to one of its figures (both shared with colleagues through sync)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.progress import Progress
from c360_desktop.core.reports.export import table_of
from c360_desktop.core.reports.formatting import figure
from c360_desktop.core.reports.query import ReportQuery, ReportResult
from c360_desktop.core.reports.saved import CHARTS, PERIODS, Definition, SavedReport
from c360_desktop.core.reports.semantic import DIMENSIONS, MEASURES, ReportError
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.widgets.export import ExportButton
from c360_desktop.ui.widgets.figures import fill_table
from c360_desktop.ui.widgets.parish_map import ParishMap
from c360_desktop.ui.workers import TaskHandle, TaskRunner

NONE = "(none)"
COMPARES = {"no comparison": None, "the previous period": "previous", "the same period last year": "last_year"}
COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf8f00", "#d6336c", "#6c757d", "#2e75b6")
NOTE_MARK = QColor("#fff4ce")


class ReportBuilderPane(QWidget):
    sig_result = Signal()
    """A result was shown (tests and the export button wait on it)."""

    def __init__(self, services: Services, runner: TaskRunner, open_customer: Callable[[str], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._open_customer = open_customer or (lambda _cid: None)
        self.task: TaskHandle | None = None
        self.pending = False  # a change came while a read was running: read again after it
        self.result: ReportResult | None = None
        self.current: SavedReport | None = None
        self.drilled: pd.DataFrame | None = None  # the customers behind the last figure drilled into
        self.drilled_lines: pd.DataFrame | None = None  # and its lines
        self.drill_dialog: DrillDialog | None = None
        self.today: date | None = None
        # saved reports
        self.saved_list = QListWidget()
        self.saved_list.itemActivated.connect(lambda item: self.open_saved(item.data(Qt.ItemDataRole.UserRole)))
        self.saved_list.itemClicked.connect(lambda item: self.open_saved(item.data(Qt.ItemDataRole.UserRole)))
        buttons = QGridLayout()  # three a row: the list stays narrow on a laptop screen
        self.buttons: dict[str, QPushButton] = {}
        for k, (key, text, slot) in enumerate((
                ("new", "&New", self.new_report), ("save", "&Save…", self.save_report),
                ("copy", "Co&py", self.duplicate_report), ("rename", "Rena&me…", self.rename_report),
                ("delete", "&Delete", self.delete_report))):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b, k // 3, k % 3)
            self.buttons[key] = b
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("Saved reports (yours and colleagues')"))
        lv.addWidget(self.saved_list, 1)
        lv.addLayout(buttons)
        # the choices
        self.measures = QListWidget()
        for name, m in MEASURES.items():
            item = QListWidgetItem(m.label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(m.formula)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name == "revenue" else Qt.CheckState.Unchecked)
            self.measures.addItem(item)
        self.measures.setMaximumHeight(120)
        self.by1, self.by2 = QComboBox(), QComboBox()
        for combo in (self.by1, self.by2):
            combo.addItem(NONE, None)
            for name, d in DIMENSIONS.items():
                combo.addItem(d.label, name)
        self.by1.setCurrentIndex(self.by1.findData("month"))
        self.period = QComboBox()
        for key, text in PERIODS.items():
            self.period.addItem(text.capitalize(), key)
        self.period.setCurrentIndex(self.period.findData("last_12_months"))
        self.start, self.end = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        for edit in (self.start, self.end):
            edit.setDisplayFormat("yyyy-MM-dd")
        self.filter_dim = QComboBox()
        self.filter_dim.addItem(NONE, None)
        for name, d in DIMENSIONS.items():
            if not d.time:
                self.filter_dim.addItem(d.label, name)
        self.filter_value = QLineEdit()
        self.filter_value.setPlaceholderText("value, e.g. St. Ann; Enter adds it")
        self.filter_value.setToolTip("Filters on different dimensions must all hold; several values of one "
                                     "dimension keep rows of any of them")
        self.filter_value.returnPressed.connect(self.add_filter)
        self.add_filter_button = QPushButton("&Add")
        self.add_filter_button.clicked.connect(self.add_filter)
        self.filters = QListWidget()
        self.filters.setFlow(QListWidget.Flow.LeftToRight)
        self.filters.setWrapping(True)
        self.filters.setSpacing(2)
        self.filters.setMaximumHeight(52)
        self.filters.setStyleSheet("QListWidget { border: none; background: transparent; }"
                                   "QListWidget::item { border: 1px solid #8aa4c8; border-radius: 3px;"
                                   " background: #e8f0fa; padding: 1px 6px; }"
                                   "QListWidget::item:selected { background: #1f4e79; color: white; }")
        self.filters.setToolTip("The filters in force; select one and press Delete to remove it")
        self.filters.setVisible(False)
        QShortcut(QKeySequence.StandardKey.Delete, self.filters, self.remove_filter,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.remove_filter_button = QPushButton("Remo&ve")
        self.remove_filter_button.setToolTip("Remove the selected filter (Delete)")
        self.remove_filter_button.clicked.connect(self.remove_filter)
        self.remove_filter_button.setVisible(False)
        self.compare = QComboBox()
        for text, key in COMPARES.items():
            self.compare.addItem(text.capitalize(), key)
        self.chart = QComboBox()
        for c in CHARTS:
            self.chart.addItem(c.capitalize(), c)
        form = QFormLayout()

        def label(text: str, buddy: QWidget) -> QLabel:
            lab = QLabel(text)
            lab.setBuddy(buddy)  # Alt + the underlined letter moves to the choice
            return lab

        form.addRow(label("&Measures", self.measures), self.measures)
        by = QHBoxLayout()
        by.addWidget(self.by1)
        by.addWidget(QLabel("then"))
        by.addWidget(self.by2)
        form.addRow(label("&By", self.by1), by)
        days = QHBoxLayout()
        days.addWidget(self.period, 1)
        days.addWidget(self.start)
        days.addWidget(self.end)
        form.addRow(label("&Period", self.period), days)
        where = QHBoxLayout()
        where.addWidget(self.filter_dim)
        where.addWidget(QLabel("="))
        where.addWidget(self.filter_value, 1)
        where.addWidget(self.add_filter_button)
        form.addRow(label("&Filter", self.filter_dim), where)
        chosen = QHBoxLayout()
        chosen.addWidget(self.filters, 1)
        chosen.addWidget(self.remove_filter_button)
        form.addRow("", chosen)
        form.addRow(label("Co&mpare with", self.compare), self.compare)
        form.addRow(label("&Chart", self.chart), self.chart)
        # the result
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(140)
        self.busy.setVisible(False)
        self.busy_timer = QTimer(self, singleShot=True, interval=300)
        self.busy_timer.timeout.connect(lambda: self.busy.setVisible(self.task is not None))
        self.debounce = QTimer(self, singleShot=True, interval=250)
        self.debounce.timeout.connect(self.run)
        self.export_button = ExportButton(services, runner, self.tables_shown, self.status.setText)
        self.export_button.bind_shortcut(self)
        self.note_button = QPushButton("Pin a &note…")
        self.note_button.setToolTip("A note on the saved report, or on the selected figure")
        self.note_button.clicked.connect(self.pin_note)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.busy)
        top.addWidget(self.note_button)
        top.addWidget(self.export_button)
        self.plot = LazyPlot(220)
        self.map = ParishMap()
        self.charts = QStackedWidget()
        self.charts.addWidget(QWidget())  # table and pivot: no chart
        self.charts.addWidget(self.plot)
        self.charts.addWidget(self.map)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.cellDoubleClicked.connect(self.drill)
        self.table.setToolTip("Double-click a figure for the customers behind it")
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #5c4400;")
        right_top = QWidget()
        rt = QVBoxLayout(right_top)
        rt.setContentsMargins(0, 0, 0, 0)
        rt.addLayout(form)
        rt.addLayout(top)
        self.body = body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.charts)
        self.charts.setVisible(False)
        tbox = QWidget()
        tb = QVBoxLayout(tbox)
        tb.setContentsMargins(0, 0, 0, 0)
        tb.addWidget(self.table, 1)
        tb.addWidget(self.notes)
        body.addWidget(tbox)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(right_top)
        rv.addWidget(body, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 4)
        QVBoxLayout(self).addWidget(split)
        for signal in (self.measures.itemChanged, self.by1.currentIndexChanged, self.by2.currentIndexChanged,
                       self.period.currentIndexChanged, self.start.dateChanged, self.end.dateChanged,
                       self.filters.model().rowsInserted, self.filters.model().rowsRemoved,
                       self.compare.currentIndexChanged, self.chart.currentIndexChanged):
            signal.connect(self.changed)
        self.period.currentIndexChanged.connect(self._period_editable)
        self._period_editable()
        self._loading = False

    # -- the definition on screen ---------------------------------------------------------------
    def definition(self) -> Definition:
        measures = tuple(self.measures.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.measures.count())
                         if self.measures.item(i).checkState() == Qt.CheckState.Checked)
        by = tuple(d for d in (self.by1.currentData(), self.by2.currentData()) if d)
        period = self.period.currentData()
        start = self.start.date().toPython() if period == "fixed" else None
        end = self.end.date().toPython() if period == "fixed" else None
        where = tuple(tuple(self.filters.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.filters.count()))
        return Definition(measures, by, period, start, end, where, self.compare.currentData(), self.chart.currentData())

    def show_definition(self, d: Definition) -> None:
        self._loading = True
        try:
            for i in range(self.measures.count()):
                item = self.measures.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in d.measures
                                   else Qt.CheckState.Unchecked)
            self.by1.setCurrentIndex(self.by1.findData(d.by[0]) if d.by else 0)
            self.by2.setCurrentIndex(self.by2.findData(d.by[1]) if len(d.by) > 1 else 0)
            self.period.setCurrentIndex(self.period.findData(d.period))
            if d.start and d.end:
                self.start.setDate(QDate(d.start.year, d.start.month, d.start.day))
                self.end.setDate(QDate(d.end.year, d.end.month, d.end.day))
            self.filters.clear()
            for dim, value in d.where:
                self._filter_item(dim, value)
            self.filter_value.clear()
            self.compare.setCurrentIndex(self.compare.findData(d.compare) if d.compare else 0)
            self.chart.setCurrentIndex(self.chart.findData(d.chart))
        finally:
            self._loading = False
        self.changed()

    def add_filter(self) -> None:
        """Add the filter typed (dimension = value) to those in force; a repeat is ignored."""
        dim, value = self.filter_dim.currentData(), self.filter_value.text().strip()
        if not value:
            return
        if not dim:
            self.status.setText("Choose what to filter on (parish, segment, product…) before its value.")
            self.filter_dim.setFocus()
            return
        self.filter_value.clear()
        if (dim, value) not in self.definition().where:
            self._filter_item(dim, value)

    def _filter_item(self, dim: str, value: str) -> None:
        item = QListWidgetItem(f"{DIMENSIONS[dim].label} = {value}")
        item.setData(Qt.ItemDataRole.UserRole, (dim, value))
        self.filters.addItem(item)
        self._filters_shown()

    def remove_filter(self) -> None:
        rows = sorted((self.filters.row(i) for i in self.filters.selectedItems()), reverse=True)
        if not rows:
            self.status.setText("Select the filter to remove, then press Delete.")
        for row in rows:
            self.filters.takeItem(row)
        self._filters_shown()

    def _filters_shown(self) -> None:
        self.filters.setVisible(self.filters.count() > 0)
        self.remove_filter_button.setVisible(self.filters.count() > 0)

    def _period_editable(self) -> None:
        fixed = self.period.currentData() == "fixed"
        self.start.setEnabled(fixed)
        self.end.setEnabled(fixed)

    # -- reading --------------------------------------------------------------------------------
    def refresh(self) -> TaskHandle | None:
        self.reload_saved()
        return self.run()

    def changed(self) -> None:
        if not self._loading:
            self.debounce.start()

    def run(self) -> TaskHandle | None:
        """Read the report on screen in a worker (one at a time; a change meanwhile reads again)."""
        self.debounce.stop()
        if self.task is not None:
            self.pending = True
            return self.task
        try:
            d = self.definition()
            d.check()
        except ReportError as exc:
            self.status.setText(f"Not yet a report: {exc}")
            return None
        reports = self._services.reports
        today = self.today

        def work(progress: Progress) -> tuple[date, ReportResult]:
            reports.prepare(progress)
            day = today or reports.last_sale_day() or date.today()
            return day, reports.query(d.query(day))

        self.status.setText("Reading…")
        self.busy_timer.start()
        self.task = self._runner.run_query(work, self._shown, self._failed)
        return self.task

    def _settled(self) -> None:
        self.task = None
        self.busy_timer.stop()
        self.busy.setVisible(False)
        if self.pending:
            self.pending = False
            self.run()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not make the report: {exc}")
        self._settled()

    def _shown(self, value: tuple[date, ReportResult]) -> None:
        day, result = value
        if self.today is None:  # the first read: the data's last day, and a year to it in the editors
            self.today = day
            self._loading = True
            self.start.setDate(QDate(day.year - 1, day.month, 1))
            self.end.setDate(QDate(day.year, day.month, day.day))
            self._loading = False
        self.result = result
        q = result.query
        period = f"{q.start or 'the first day'} to {q.end or 'the last day'}"
        name = f"{self.current.name}: " if self.current else ""
        self.status.setText(f"{name}{len(result.frame):,} rows, {period}. Data as of "
                            f"{self._services.reports.data_as_of()}.")
        self._draw(result)
        self._show_notes()
        self._settled()
        self.sig_result.emit()

    def _draw(self, result: ReportResult) -> None:
        frame, units = result.frame, result.units
        chart = self.chart.currentData()
        q = result.query
        measure_cols = [c for c in frame.columns if c in units and not str(c).endswith((" change", " previous",
                                                                                         " last year"))]
        if chart == "pivot" and len(q.by) == 2 and measure_cols:
            rows, cols = frame.columns[0], frame.columns[1]
            pivot = frame.pivot_table(index=rows, columns=cols, values=measure_cols[0], aggfunc="sum").reset_index()
            pivot.columns = [str(c) for c in pivot.columns]
            fill_table(self.table, pivot, {c: units[measure_cols[0]] for c in pivot.columns[1:]})
        else:
            fill_table(self.table, frame, units)
        if chart in ("table", "pivot") or not measure_cols:
            self.charts.setCurrentIndex(0)
            self.charts.setVisible(False)
            return
        if not self.charts.isVisible():  # shown again: give it its share of the height
            self.charts.setVisible(True)
            total = sum(self.body.sizes()) or 500
            self.body.setSizes([int(total * 0.55), total - int(total * 0.55)])
        if chart == "map":
            col = frame.columns[list(q.by).index("parish")] if "parish" in q.by else None
            values = {} if col is None else frame.groupby(col)[measure_cols[0]].sum().to_dict()
            self.map.show_values(values, {k: figure(v, units[measure_cols[0]]) for k, v in values.items()},
                                 f"{measure_cols[0]} by parish")
            self.charts.setCurrentIndex(2)
            return
        self.charts.setCurrentIndex(1)
        self._plot(frame, q, measure_cols, chart)

    def _plot(self, frame: pd.DataFrame, q: ReportQuery, measure_cols: list[str], chart: str) -> None:
        import pyqtgraph as pg

        plot = self.plot.plot()
        plot.addLegend(offset=(-10, 5))
        if not q.by:
            return
        x_col = frame.columns[0]
        labels = [str(v) for v in pd.unique(frame[x_col])]
        xs = list(range(len(labels)))
        units = self.result.units if self.result is not None else {}
        unit = units.get(measure_cols[0], "count")
        if len(q.by) == 2:  # one series per value of the second dimension, of the first measure
            series = {str(k): g.set_index(x_col)[measure_cols[0]].reindex(labels).fillna(0).tolist()
                      for k, g in frame.groupby(frame.columns[1], dropna=False)}
        else:  # the measures in the first one's unit (J$ beside counts would flatten the counts)
            series = {m: frame[m].fillna(0).astype(float).tolist() for m in measure_cols[:4]
                      if units.get(m) == unit}
        top = max((abs(v) for values in series.values() for v in values), default=0.0)
        scale, suffix = (1e6, " (millions)") if top >= 1e6 else (1e3, " (thousands)") if top >= 1e4 else (1.0, "")
        if unit in ("ratio", "pct"):
            scale, suffix = 0.01, " (%)"
        series = {k: [v / scale for v in values] for k, values in series.items()}
        what = measure_cols[0] if len(q.by) == 2 else ", ".join(series)
        plot.setTitle(f"{what}{' in J$' if unit == 'jmd' else ''}{suffix}")
        base = [0.0] * len(xs)
        width = 0.8 / (1 if chart == "stacked" else max(len(series), 1))
        for i, (name, values) in enumerate(list(series.items())[:8]):
            colour = COLOURS[i % len(COLOURS)]
            if chart == "line":
                plot.plot(xs, values, pen=pg.mkPen(colour, width=2), name=name)
            elif chart == "stacked":
                plot.addItem(pg.BarGraphItem(x=xs, height=values, y0=base, width=0.8, brush=colour, name=name))
                base = [b + v for b, v in zip(base, values, strict=True)]
            else:
                offset = -0.4 + width * (i + 0.5)
                plot.addItem(pg.BarGraphItem(x=[x + offset for x in xs], height=values, width=width, brush=colour,
                                             name=name))
        step = max(1, len(labels) // 12)
        plot.getAxis("bottom").setTicks([[(x, labels[x]) for x in xs[::step]]])

    def tables_shown(self) -> list[Any]:
        if self.result is None:
            return []
        out = [table_of(self.result)]
        if self.drilled is not None and self.drill_dialog is not None:
            out.extend(self.drill_dialog.tables)
        return out

    # -- drill-down -----------------------------------------------------------------------------
    def cell_labels(self, row: int) -> dict[str, str]:
        assert self.result is not None
        frame = self.result.frame
        labels = [dim_label for dim_label in frame.columns[:len(self.result.query.by)]]
        return {str(c): frame.iloc[row][c] for c in labels}

    def drill(self, row: int, _column: int = 0) -> TaskHandle | None:
        if self.result is None or self.chart.currentData() == "pivot":
            return None
        q, cell = self.result.query, self.cell_labels(row)
        reports = self._services.reports
        self.status.setText(f"Customers behind {_cell_words(cell)}…")

        def work(_p: Progress) -> tuple[pd.DataFrame, pd.DataFrame, int]:
            return (reports.customers_behind(q, cell), *reports.lines_behind(q, cell, LINES_SHOWN))

        return self._runner.run_query(work, lambda got: self._drilled(*got, cell),
                                      lambda exc: self.status.setText(f"Cannot drill into it: {exc}"))

    def _drilled(self, frame: pd.DataFrame, lines: pd.DataFrame, total: int, cell: dict[str, str]) -> None:
        self.drilled, self.drilled_lines = frame, lines
        self.status.setText(f"{len(frame):,} customers and {total:,} lines behind {_cell_words(cell)}; "
                            "double-click one for their 360 view.")
        self.drill_dialog = DrillDialog(self._services, self._runner, frame, lines, total, cell,
                                        self._open_customer, self)
        self.drill_dialog.show()

    # -- saved reports --------------------------------------------------------------------------
    def reload_saved(self) -> None:
        self.saved_list.clear()
        for r in self._services.reports.saved():
            tail = "" if r.owner == self._services.user.name else f" ({r.owner})"
            sync = " · not yet synced" if r.pending_sync else ""
            item = QListWidgetItem(f"{r.name}{tail}{sync}")
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            if r.definition is None:
                item.setForeground(QColor("#b3261e"))
                item.setToolTip(r.problem)
            self.saved_list.addItem(item)
            if self.current and r.id == self.current.id:
                self.saved_list.setCurrentItem(item)
                self.current = r

    def open_saved(self, report_id: str) -> None:
        report = self._services.reports.saved_report(report_id)
        if report.definition is None:
            self.status.setText(f"{report.name!r} cannot be opened: {report.problem}")
            return
        self.current = report
        self.show_definition(report.definition)

    def new_report(self) -> None:
        self.current = None
        self.saved_list.clearSelection()
        self.show_definition(Definition(("revenue",), ("month",), "last_12_months"))

    def save_report(self, name: str | None = None) -> SavedReport | None:
        """Save the report on screen: over the open one, or under a new name (asked)."""
        if name is None and self.current is None:
            name, ok = QInputDialog.getText(self, "Save report", "Name:")
            if not ok:
                return None
        try:
            saved = self._services.reports.save(name or (self.current.name if self.current else ""),
                                                self.definition(), self.current.id if self.current else None)
        except ReportError as exc:
            self.status.setText(f"Not saved: {exc}")
            return None
        self.current = saved
        self.reload_saved()
        self.status.setText(f"Saved {saved.name!r}; colleagues see it after the next sync.")
        return saved

    def duplicate_report(self) -> SavedReport | None:
        if self.current is None:
            return None
        copy = self._services.reports.duplicate(self.current.id)
        self.current = copy
        self.reload_saved()
        return copy

    def rename_report(self, name: str | None = None) -> SavedReport | None:
        if self.current is None:
            return None
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename report", "New name:", text=self.current.name)
            if not ok:
                return None
        try:
            self.current = self._services.reports.rename(self.current.id, name)
        except ReportError as exc:
            self.status.setText(f"Not renamed: {exc}")
            return None
        self.reload_saved()
        return self.current

    def delete_report(self, confirmed: bool = False) -> None:
        if self.current is None:
            return
        if not confirmed and QMessageBox.question(
                self, "Delete report", f"Delete {self.current.name!r} for everyone (at the next sync)?") \
                != QMessageBox.StandardButton.Yes:
            return
        self._services.reports.delete(self.current.id)
        self.status.setText(f"Deleted {self.current.name!r}.")
        self.current = None
        self.reload_saved()

    def pin_note(self, body: str | None = None) -> None:
        if self.current is None:
            self.status.setText("Save the report first: notes are pinned to saved reports.")
            return
        row = self.table.currentRow()
        point = self.cell_labels(row) if self.result is not None and row >= 0 and self.result.query.by \
            and self.chart.currentData() != "pivot" else None
        if body is None:
            where = ", ".join(f"{k} {v}" for k, v in point.items()) if point else "the whole report"
            body, ok = QInputDialog.getMultiLineText(self, "Pin a note", f"Note on {where}:")
            if not ok:
                return
        try:
            self._services.reports.annotate(self.current.id, body, {k: str(v) for k, v in point.items()}
                                            if point else None)
        except ReportError as exc:
            self.status.setText(f"Not pinned: {exc}")
            return
        self.current = self._services.reports.saved_report(self.current.id)
        self._show_notes()

    def _show_notes(self) -> None:
        notes = self.current.annotations if self.current else []
        lines = []
        marked = {tuple(sorted(a.point.items())) for a in notes if a.point}
        if self.result is not None and self.result.query.by and self.chart.currentData() != "pivot":
            for r in range(self.table.rowCount()):
                key = tuple(sorted((k, str(v)) for k, v in self.cell_labels(r).items()))
                if key in marked:
                    for c in range(self.table.columnCount()):
                        self.table.item(r, c).setBackground(NOTE_MARK)
        for a in notes:
            where = ", ".join(f"{k} {v}" for k, v in a.point.items()) if a.point else "the report"
            lines.append(f"Note by {a.author} on {where} ({a.created_at[:10]}): {a.body}")
        self.notes.setText("\n".join(lines))
        self.notes.setVisible(bool(lines))


LINES_SHOWN = 1000  # sales lines (or leads) a drill-down lists; the dialog says how many there are


def _cell_words(cell: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in cell.items()) or "the total"


class DrillDialog(QDialog):
    """What is behind a figure: its customers (most first) and its sales lines or leads (newest
    first), in two tabs; double-click a row (or Enter) for that customer's 360 view; Ctrl+E exports
    the tab shown."""

    def __init__(self, services: Services, runner: TaskRunner, frame: pd.DataFrame, lines: pd.DataFrame, total: int,
                 cell: dict[str, str], open_customer: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from c360_desktop.core.reports.export import Table
        from c360_desktop.core.reports.query import LINE_UNITS

        self.setWindowTitle("Behind " + _cell_words(cell))
        self.frame, self.lines = frame, lines
        self.tabs = QTabWidget()
        units = {"Orders": "count", "Revenue": "jmd", "Leads": "count", "Pipeline value": "jmd"}
        kind = "sales lines" if "Amount" in lines.columns else "leads"
        self.tables: list[Table] = []
        for rows, name, unit, title in (
                (frame, f"&Customers ({len(frame):,})", units, "customers behind " + _cell_words(cell)),
                (lines, f"&{kind.capitalize()} ({len(lines):,}" + (f" newest of {total:,})" if total > len(lines)
                                                                   else ")"), LINE_UNITS,
                 f"{kind} behind " + _cell_words(cell))):
            table = QTableWidget(0, 0)
            table.verticalHeader().hide()
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
            fill_table(table, rows.drop(columns=["customer_id"]), unit)
            table.cellDoubleClicked.connect(lambda r, _c, rows=rows: open_customer(str(rows.iloc[r]["customer_id"])))
            table.itemActivated.connect(lambda item, rows=rows: open_customer(str(rows.iloc[item.row()]["customer_id"])))
            self.tabs.addTab(table, name)
            self.tables.append(Table(title, "", rows.drop(columns=["customer_id"]), unit))
        self.table = self.tabs.widget(0)
        self.lines_table = self.tabs.widget(1)
        self.message = QLabel(f"{len(frame):,} customers, most first (up to 500); {total:,} {kind}, newest first"
                              + (f" (the newest {len(lines):,} listed)" if total > len(lines) else ""))
        self.message.setWordWrap(True)
        self.export_button = ExportButton(services, runner, lambda: [self.tables[self.tabs.currentIndex()]],
                                          self.message.setText)
        self.export_button.bind_shortcut(self)
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        self.resize(980, 560)
