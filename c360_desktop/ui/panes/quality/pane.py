"""Data quality: each rule's figures and trend, the rows failing the chosen rule, and the
stewardship queue (approve, reject, assign), all through ``QualityService`` on a worker.

The pane measures again after each successful sync and each import, and on F5.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.services import Services
from c360_desktop.ui.format import STATUS_COLOURS, STATUS_WORDS
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.widgets.table_model import read_only_table
from c360_desktop.ui.workers import TaskHandle, TaskRunner

COLOURS, WORDS = STATUS_COLOURS, STATUS_WORDS
BARS = "▁▂▃▄▅▆▇█"


def sparkline(shares: list[float], red: float) -> str:
    """The failing share over the last runs as a line of bars (a full bar: at the red threshold)."""
    top = red or 1.0
    return "".join(BARS[min(len(BARS) - 1, int(s / top * (len(BARS) - 1)))] for s in shares[-20:])


def _item(text: object, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class QualityPane(QWidget):
    RULE_COLUMNS = ("", "Rule", "Field", "Checked", "Failing", "Share", "Trend", "Detail")
    ROW_COLUMNS = ("Customer or source", "Value now", "Suggested fix")
    ISSUE_COLUMNS = ("Customer", "Field", "Found", "Suggested fix", "Assignee", "Status", "Sync", "Rule")
    sig_measured = Signal(object)
    """A measurement finished (core.quality.service.Run)."""
    sig_alerts_raised = Signal(list)
    """Rules that turned red raised these alerts (the Alerts pane shows them)."""
    sig_customer_requested = Signal(str)
    sig_issues_shown = Signal(int)

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("quality_pane")
        self._services, self._runner = services, runner
        self._handle: TaskHandle | None = None
        self.results: list[Any] = []
        self.failures: list[Any] = []
        self.issues: list[Any] = []
        self._loaded = False
        self._said = ""
        self._issue_reads = 0

        self.summary = QLabel("Not measured yet: press Measure now (F5).")
        self.summary.setObjectName("quality_summary")
        self.summary.setWordWrap(True)
        self.measure_button = QPushButton("&Measure now")
        self.measure_button.setToolTip("Check every rule against the cache now (F5 while this pane has focus)")
        self.measure_button.clicked.connect(lambda: self.measure("manual"))
        QShortcut(QKeySequence("F5"), self, activated=lambda: self.measure("manual"),
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 100)
        self.busy.setMaximumWidth(220)
        self.busy.hide()
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.busy)
        top.addWidget(self.cancel_button)
        top.addWidget(self.measure_button)

        self.rules_table = read_only_table(self.RULE_COLUMNS, "quality_rules")
        self.rules_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.rules_table.itemSelectionChanged.connect(self._rule_chosen)
        self.trend = LazyPlot(150)
        self.trend_label = QLabel("Choose a rule to see its trend and the rows that fail it.")
        self.trend_label.setWordWrap(True)

        # the chosen rule's failing rows
        self.rows_table = read_only_table(self.ROW_COLUMNS, "quality_rows")
        self.rows_table.doubleClicked.connect(self._open_row)
        self.rows_label = QLabel("")
        self.rows_label.setWordWrap(True)
        self.raise_button = QPushButton("Raise &issues for these rows")
        self.raise_button.setToolTip("One issue per failing row, with its suggested fix, for a data steward")
        self.raise_button.clicked.connect(self.raise_issues)
        self.raise_button.setEnabled(False)
        rows_box = QWidget()
        rows_layout = QVBoxLayout(rows_box)
        row_bar = QHBoxLayout()
        row_bar.addWidget(self.rows_label, 1)
        row_bar.addWidget(self.raise_button)
        rows_layout.addLayout(row_bar)
        rows_layout.addWidget(self.rows_table, 1)

        # the stewardship queue
        self.status_filter = QComboBox()
        self.status_filter.addItem("Open", "open")
        self.status_filter.addItem("Approved", "approved")
        self.status_filter.addItem("Rejected", "rejected")
        self.status_filter.addItem("All", None)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.load_issues())
        self.mine_box = QCheckBox("Assigned to me")
        self.mine_box.toggled.connect(lambda _on: self.load_issues())
        self.issues_table = read_only_table(self.ISSUE_COLUMNS, "quality_issues")
        self.issues_table.doubleClicked.connect(lambda _i: self.approve())
        self.approve_button = QPushButton("&Approve fix")
        self.approve_button.setToolTip("Apply the suggested fix and close the issue (Ctrl+Return)")
        self.approve_button.clicked.connect(lambda: self.approve())
        approve_action = QAction("Approve fix", self.issues_table)
        approve_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        approve_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        approve_action.triggered.connect(lambda: self.approve())
        self.issues_table.addAction(approve_action)
        self.own_value_button = QPushButton("&With my value…")
        self.own_value_button.clicked.connect(self.approve_with_value)
        self.reject_button = QPushButton("&Reject…")
        self.reject_button.setToolTip("Close the issue without changing the row (Delete)")
        self.reject_button.clicked.connect(self.reject)
        reject_action = QAction("Reject", self.issues_table)
        reject_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        reject_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reject_action.triggered.connect(self.reject)
        self.issues_table.addAction(reject_action)
        self.assign_button = QPushButton("A&ssign to…")
        self.assign_button.clicked.connect(self.assign)
        self.issues_label = QLabel("")
        issues_box = QWidget()
        issues_layout = QVBoxLayout(issues_box)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.status_filter)
        filters.addWidget(self.mine_box)
        filters.addWidget(self.issues_label, 1)
        buttons = QHBoxLayout()
        for b in (self.approve_button, self.own_value_button, self.reject_button, self.assign_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.issues_label.setWordWrap(True)
        issues_layout.addLayout(filters)
        issues_layout.addLayout(buttons)
        issues_layout.addWidget(self.issues_table, 1)

        trend_box = QWidget()
        trend_layout = QVBoxLayout(trend_box)
        trend_layout.addWidget(self.trend_label)
        trend_layout.addWidget(self.trend, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(rows_box, "Failing rows")
        self.tabs.addTab(issues_box, "Stewardship queue")
        self.tabs.addTab(trend_box, "Trend")
        self.tabs.currentChanged.connect(lambda i: self.load_issues() if i == 1 else None)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.rules_table)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        steward = self._services.quality.can_steward()
        for b in (self.approve_button, self.own_value_button, self.reject_button, self.assign_button,
                  self.raise_button):
            b.setVisible(steward)
        if not steward:
            self.issues_label.setText("Only data stewards approve or reject fixes.")

    # ---- measuring ----------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.refresh()

    def refresh(self) -> None:
        """Show the last measurement kept in the cache (measuring only if there is none)."""
        quality = self._services.quality

        def done(answer: tuple[list[Any], dict[str, list[float]], str | None]) -> None:
            results, trends, at = answer
            if results:
                self._show_results(results, trends, f"Measured {at} UTC.")
            else:
                self.measure("manual")

        self._runner.run_query(lambda _p: self._read(quality), done,
                               lambda exc: self.summary.setText(f"Could not read the quality history: {exc}"))

    @staticmethod
    def _read(quality: Any) -> tuple[list[Any], dict[str, list[float]], str | None]:
        results = quality.latest()
        trends = {r.rule_id: [share for _at, share, _s in quality.history(r.rule_id, 20)] for r in results}
        return results, trends, quality.last_run_at()

    def on_sync_finished(self, ok: bool) -> None:
        if ok:
            self.measure("sync")

    def on_data_imported(self) -> None:
        self.measure("import")

    def measure(self, trigger: str = "manual") -> None:
        if self._handle is not None:
            return
        quality = self._services.quality
        self.measure_button.setEnabled(False)
        self.busy.setValue(0)
        self.busy.show()
        self.cancel_button.show()
        self.summary.setText("Measuring…")

        def work(p: Any) -> tuple[Any, dict[str, list[float]]]:
            run = quality.measure(trigger, p)
            return run, self._read(quality)[1]

        def progressed(fraction: float, message: str) -> None:
            self.busy.setValue(int(fraction * 100))
            self.summary.setText(f"{message}…")

        def finish() -> None:
            self._handle = None
            self.measure_button.setEnabled(True)
            self.busy.hide()
            self.cancel_button.hide()

        def done(answer: tuple[Any, dict[str, list[float]]]) -> None:
            finish()
            run, trends = answer
            said = f"Measured {run.ran_at} UTC ({trigger})."
            if run.problems:
                said += " Rule file: " + "; ".join(run.problems)
            self._show_results(list(run.results), trends, said)
            if run.alerts:
                self.sig_alerts_raised.emit(list(run.alerts))
            self.sig_measured.emit(run)

        def failed(exc: BaseException) -> None:
            finish()
            self.summary.setText(f"Could not measure: {exc}")

        def cancelled() -> None:
            finish()
            self.summary.setText("Measuring cancelled; the table shows the previous figures.")

        self._handle = self._runner.run_mutation(work, done, failed, progressed, cancelled)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _show_results(self, results: list[Any], trends: dict[str, list[float]], said: str) -> None:
        chosen = self._chosen_rule()
        self.results = results
        self._trends = trends
        table = self.rules_table
        table.blockSignals(True)
        table.setRowCount(len(results))
        for row, r in enumerate(results):
            mark = _item(f"● {WORDS[r.status]}")
            mark.setForeground(QBrush(QColor(COLOURS[r.status])))
            mark.setData(Qt.ItemDataRole.UserRole, r.rule_id)
            share = _item(f"{r.share:.1%}", right=True)
            share.setForeground(QBrush(QColor(COLOURS[r.status])))
            cells = [mark, _item(r.title), _item(r.field or r.table), _item(f"{r.checked:,}", True),
                     _item(f"{r.failing:,}", True), share, _item(sparkline(trends.get(r.rule_id, []), r.red)), _item(r.detail)]
            cells[1].setToolTip(f"{r.kind} rule {r.rule_id} on {r.table}" + (f": {r.detail}" if r.detail else ""))
            cells[6].setToolTip("Failing share over the last runs, oldest first")
            for col, cell in enumerate(cells):
                table.setItem(row, col, cell)
        table.blockSignals(False)
        counts = {s: sum(r.status == s for r in results) for s in ("red", "amber", "green")}
        words = {"red": "red", "amber": "amber", "green": "green"}
        worst = "red" if counts["red"] else "amber" if counts["amber"] else "green"
        self.summary.setText(f"<b style='color:{COLOURS[worst]}'>{WORDS[worst]}</b>: {len(results)} rules, "
                             + ", ".join(f"{n} {words[s]}" for s, n in counts.items() if n) + f". {said}")
        ids = [r.rule_id for r in results]
        pick = ids.index(chosen) if chosen in ids else next(
            (i for i, r in enumerate(results) if r.status != "green"), 0)
        if results:
            table.blockSignals(True)
            table.selectRow(pick)
            table.blockSignals(False)
            self._rule_chosen()  # its trend and rows, as measured now

    # ---- one rule: trend and failing rows -----------------------------------------------

    def _chosen_rule(self) -> str | None:
        rows = self.rules_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.rules_table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _rule_chosen(self) -> None:
        rule_id = self._chosen_rule()
        if rule_id is None:
            return
        result = next(r for r in self.results if r.rule_id == rule_id)
        quality = self._services.quality
        self.rows_label.setText(f"Finding the rows failing “{result.title}”…")

        def work(_p: Any) -> tuple[Any, list[Any], list[tuple[str, float, str]]]:
            return quality.rule(rule_id), quality.failures(rule_id), quality.history(rule_id)

        def done(answer: tuple[Any, list[Any], list[tuple[str, float, str]]]) -> None:
            if self._chosen_rule() != rule_id:
                return
            rule, failures, history = answer
            self._draw_trend(rule, history)
            self._show_failures(rule, failures)

        self._runner.run_query(work, done, lambda exc: self.rows_label.setText(f"Could not list the rows: {exc}"))

    def _draw_trend(self, rule: Any, history: list[tuple[str, float, str]]) -> None:
        import pyqtgraph as pg

        self.trend_label.setText(f"<b>{rule.title}</b>: failing share per run (amber from {rule.amber:.0%}, "
                                 f"red from {rule.red:.0%}); {len(history)} run{'' if len(history) == 1 else 's'} kept.")
        plot = self.trend.plot()
        xs = list(range(1, len(history) + 1))
        ys = [share * 100 for _at, share, _s in history]
        plot.plot(xs, ys, pen=pg.mkPen("#1565c0", width=2), symbol="o", symbolSize=6, symbolBrush="#1565c0")
        for limit, colour in ((rule.amber, COLOURS["amber"]), (rule.red, COLOURS["red"])):
            plot.addLine(y=limit * 100, pen=pg.mkPen(colour, style=Qt.PenStyle.DashLine))
        plot.setLabel("left", "failing, %")
        plot.setLabel("bottom", "run")
        top = max([*ys, rule.amber * 100]) * 1.3 or 1
        plot.setYRange(0, min(100, top))

    def _show_failures(self, rule: Any, failures: list[Any]) -> None:
        self.failures = failures
        table = self.rows_table
        table.setRowCount(len(failures))
        for row, f in enumerate(failures):
            fix = _item(f.suggestion if f.suggestion is not None else "—")
            if f.suggestion is not None:
                fix.setForeground(QBrush(QColor(COLOURS["green"])))
            value = _item(f.value if f.value is not None else "(empty)")
            for col, cell in enumerate((_item(f.name), value, fix)):
                table.setItem(row, col, cell)
        fixes = sum(f.suggestion is not None for f in failures)
        self.rows_label.setText(f"{len(failures):,} rows fail “{rule.title}” ({rule.field or rule.table}); "
                                f"{fixes:,} have a suggested fix. Double-click one to open the customer."
                                if failures
                                else f"No row fails “{rule.title}”.")
        row_by_row = rule.kind != "freshness" and rule.check != "review_queue"
        self.raise_button.setEnabled(bool(failures) and row_by_row)

    def _open_row(self, index: Any) -> None:
        if 0 <= index.row() < len(self.failures) and self.failures[index.row()].customer_id:
            self.sig_customer_requested.emit(self.failures[index.row()].customer_id)

    # ---- stewardship --------------------------------------------------------------------

    def raise_issues(self) -> None:
        rule_id = self._chosen_rule()
        if rule_id is None:
            return
        quality = self._services.quality
        me = self._services.user.name

        def done(n: int) -> None:
            self.rows_label.setText(f"{n:,} issues raised for the stewardship queue."
                                    if n else "Every failing row has an open issue already.")
            self.tabs.setCurrentIndex(1)
            self.load_issues()

        self._runner.run_mutation(lambda _p: quality.raise_issues(rule_id, assignee=me), done, self._refused)

    def load_issues(self) -> None:
        quality = self._services.quality
        status = self.status_filter.currentData()
        mine = self._services.user.name if self.mine_box.isChecked() else None
        self._issue_reads += 1
        read = self._issue_reads

        def shown(issues: list[Any]) -> None:
            if read == self._issue_reads:  # an older read finishing late is not shown over a newer one
                self._show_issues(issues)

        self._runner.run_query(lambda _p: quality.issues(status, mine), shown,
                               lambda exc: self.issues_label.setText(f"Could not read the queue: {exc}"))

    def _show_issues(self, issues: list[Any]) -> None:
        self.issues = issues
        table = self.issues_table
        table.setRowCount(len(issues))
        titles = {r.rule_id: r.title for r in self.results}
        for row, i in enumerate(issues):
            cells = [_item(i.name), _item(i.field), _item(i.found_value if i.found_value is not None else "(empty)"),
                     _item(i.suggested_value if i.suggested_value is not None else "—"),
                     _item(i.assignee or "nobody"), _item(i.status), _item("waiting" if i.pending_sync else "sent"),
                     _item(titles.get(i.rule_id, i.rule_id))]
            cells[0].setData(Qt.ItemDataRole.UserRole, i.id)
            for col, cell in enumerate(cells):
                table.setItem(row, col, cell)
        if issues and not table.selectionModel().selectedRows():
            table.selectRow(0)
        self.issues_label.setText(f"{len(issues):,} issues. {self._said}".strip())
        self._said = ""
        self.sig_issues_shown.emit(len(issues))

    def _chosen_issues(self) -> list[Any]:
        rows = sorted({i.row() for i in self.issues_table.selectionModel().selectedRows()})
        return [self.issues[r] for r in rows if r < len(self.issues)]

    def _refused(self, exc: BaseException) -> None:
        QMessageBox.warning(self, "Data quality", str(exc))
        self.load_issues()

    def _after_decision(self, said: str) -> None:
        self._said = said  # shown beside the count when the queue is read again
        self.load_issues()

    def approve(self, value: str | None = None) -> None:
        chosen = self._chosen_issues()
        if not chosen:
            return
        quality = self._services.quality
        ids = [i.id for i in chosen]

        def work(_p: Any) -> int:
            for iid in ids:
                quality.approve(iid, value)
            return len(ids)

        self._runner.run_mutation(work, lambda n: self._after_decision(
            f"{n} fix{'es' if n != 1 else ''} applied and queued for sync."), self._refused)

    def approve_with_value(self) -> None:
        chosen = self._chosen_issues()
        if len(chosen) != 1:
            QMessageBox.information(self, "Data quality", "Choose one issue to give it your own value.")
            return
        value, ok = QInputDialog.getText(self, "Approve with value", f"The right {chosen[0].field} for "
                                         f"{chosen[0].name}:", text=chosen[0].suggested_value or "")
        if ok and value.strip():
            self.approve(value)

    def reject(self) -> None:
        chosen = self._chosen_issues()
        if not chosen:
            return
        note, ok = QInputDialog.getText(self, "Reject", f"Why is the value right? ({len(chosen)} issues)")
        if not ok:
            return
        quality = self._services.quality
        ids = [i.id for i in chosen]

        def work(_p: Any) -> int:
            for iid in ids:
                quality.reject(iid, note)
            return len(ids)

        self._runner.run_mutation(work, lambda n: self._after_decision(f"{n} rejected."), self._refused)

    def assign(self) -> None:
        chosen = self._chosen_issues()
        if not chosen:
            return
        who, ok = QInputDialog.getText(self, "Assign", f"Give {len(chosen)} issues to (a user name; empty: "
                                       "nobody):", text=chosen[0].assignee or "")
        if not ok:
            return
        quality = self._services.quality
        ids = [i.id for i in chosen]
        self._runner.run_mutation(lambda _p: quality.assign(ids, who), lambda n: self._after_decision(
            f"{n} issues assigned to {who.strip() or 'nobody'}."), self._refused)
