"""The ready-made analyses (core.reports.analyses and .campaigns), one tab each: read off the GUI
thread for the chosen period and parish, shown as tables with a heat-map or a chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import jamaica
from c360_desktop.core.progress import Progress
from c360_desktop.core.reports.export import Table
from c360_desktop.core.reports.kpi import last_day
from c360_desktop.core.reports.query import ReportQuery
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.widgets.export import ExportButton
from c360_desktop.ui.widgets.figures import fill_table
from c360_desktop.ui.workers import TaskHandle, TaskRunner

TABS = ("Cohorts", "Campaigns", "Affinity", "Journey", "Seasonality", "RFM", "Explain", "Correlations")
ALL_PARISHES = "All parishes"
OVER_BUDGET = "#b3261e"


@dataclass
class Shown:
    """What a tab shows: its tables (title, frame, unit per column) and a line of context."""

    summary: str
    tables: list[tuple[str, pd.DataFrame, dict[str, str]]]
    heat: bool = False  # colour the first table's share cells
    chart: tuple[str, list[str], dict[str, list[float]]] | None = None  # title, x labels, series
    flagged: list[int] | None = None  # rows of the first table to mark (over budget)


def heat(share: float) -> QColor:
    """White (0) to the house blue (1): a cell's share against the table's largest."""
    s = max(0.0, min(1.0, share))
    return QColor(int(255 - s * (255 - 31)), int(255 - s * (255 - 78)), int(255 - s * (255 - 121)))


class AnalysesPane(QWidget):
    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.task: TaskHandle | None = None
        self.shown: dict[str, Shown] = {}
        self.end_day: date | None = None
        self.status = QLabel()
        self.status.setWordWrap(True)
        # a wrapped label is given one line's height in a crowded layout: room for two
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self.start_edit = QDateEdit(calendarPopup=True)
        self.end_edit = QDateEdit(calendarPopup=True)
        for edit in (self.start_edit, self.end_edit):
            edit.setDisplayFormat("yyyy-MM-dd")
        self.parish = QComboBox()
        self.parish.addItems([ALL_PARISHES, *(p.address_name for p in jamaica.parish_by_code().values())])
        self.run_button = QPushButton("&Run")
        self.run_button.setToolTip("Read the analysis again for this period and parish (F5)")
        self.run_button.clicked.connect(self.run_current)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        bar = QHBoxLayout()
        for text, widget in (("&From", self.start_edit), ("&To", self.end_edit), ("&Parish", self.parish)):
            label = QLabel(text)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addWidget(self.run_button)
        self.export_button = ExportButton(services, runner, self.tables_shown, self.status.setText)
        self.export_button.bind_shortcut(self)
        bar.addWidget(self.export_button)
        bar.addStretch(1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        self.tabs = QTabWidget()
        self.pages: dict[str, _Page] = {}
        for name in TABS:
            page = _Page(chart=name in ("Campaigns", "Seasonality"))
            self.pages[name] = page
            self.tabs.addTab(page, name)
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        QShortcut(QKeySequence("F5"), self, self.run_current, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    @property
    def current(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def tables_shown(self) -> list[Table]:
        """The current tab's tables, for export (with the period and parish they are for)."""
        shown = self.shown.get(self.current)
        if shown is None:
            return []
        where = f"{self.start_edit.date().toString('yyyy-MM-dd')} to {self.end_edit.date().toString('yyyy-MM-dd')}; " \
                f"{self.parish.currentText()}"
        return [Table(f"{self.current}: {caption}", where, frame, units) for caption, frame, units in shown.tables]

    def refresh(self) -> TaskHandle | None:
        """The current tab's analysis, read the first time it is shown (Run reads it again)."""
        if self.current in self.shown:
            self.status.setText(self.shown[self.current].summary)
            return None
        return self.run_current()

    def run_current(self) -> TaskHandle | None:
        if self.task is not None:
            return self.task
        name = self.current
        reports = self._services.reports
        parish = self.parish.currentText()
        where = () if parish == ALL_PARISHES else (("parish", parish),)
        picked = (self.start_edit.date().toPython(), self.end_edit.date().toPython()) if self.end_day else None

        def work(progress: Progress) -> tuple[date, Shown]:
            reports.prepare(progress)
            last = last_day(reports)
            start, end = picked or (date(last.year - 1, last.month, 1), last)
            return last, ANALYSES[name](reports, start, end, where)

        self.status.setText(f"Reading the {name.lower()}…")
        self.run_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.progress.setVisible(True)
        self.task = self._runner.run_query(work, lambda r: self._done(name, r), self._failed,
                                           on_cancelled=self._settled)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self._settled()
            self.status.setText("Cancelled; the figures shown before stay.")

    def _settled(self) -> None:
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.progress.setVisible(False)

    def _failed(self, exc: BaseException) -> None:
        self._settled()
        self.status.setText(f"Could not make the analysis: {exc}")

    def _done(self, name: str, result: tuple[date, Shown]) -> None:
        self._settled()
        last, shown = result
        if self.end_day is None:  # the first read: the period the defaults chose, in the editors
            self.end_day = last
            self.start_edit.setDate(QDate(last.year - 1, last.month, 1))
            self.end_edit.setDate(QDate(last.year, last.month, last.day))
        self.shown[name] = shown
        self.pages[name].show_result(shown)
        if name == self.current:
            self.status.setText(shown.summary)


class _Page(QWidget):
    def __init__(self, chart: bool) -> None:
        super().__init__()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.side_by_side = QSplitter(Qt.Orientation.Horizontal)  # the tables
        self.tables: list[tuple[QLabel, QTableWidget]] = []
        self.chart = LazyPlot(220) if chart else None
        if self.chart is not None:
            self.splitter.addWidget(self.chart)
        self.splitter.addWidget(self.side_by_side)
        self.splitter.setStretchFactor(self.splitter.count() - 1, 2)
        QVBoxLayout(self).addWidget(self.splitter)

    def show_result(self, shown: Shown) -> None:
        while len(self.tables) < len(shown.tables):
            box = QWidget()
            title = QLabel()
            title.setStyleSheet("font-weight: 600;")
            table = QTableWidget(0, 0)
            table.verticalHeader().hide()
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setAlternatingRowColors(True)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(title)
            inner.addWidget(table, 1)
            self.side_by_side.addWidget(box)
            box.show()  # a child added to a shown widget stays hidden until told
            self.tables.append((title, table))
        for i, (caption, frame, units) in enumerate(shown.tables):
            title, table = self.tables[i]
            title.setText(caption)
            fill(table, frame, units, heat_shares=shown.heat and i == 0,
                 flagged=shown.flagged if i == 0 else None)
        if self.chart is not None and shown.chart is not None:
            _draw(self.chart, *shown.chart)


def fill(table: QTableWidget, frame: pd.DataFrame, units: dict[str, str], heat_shares: bool = False,
         flagged: list[int] | None = None) -> None:
    shares = [frame[c] for c in frame.columns if units.get(str(c)) == "pct"] if heat_shares else []
    top = max((float(v.max()) for v in shares if v.notna().any()), default=1.0) or 1.0  # the darkest cell

    def style(item: QTableWidgetItem, row: int, value: Any, unit: str | None) -> None:
        if heat_shares and unit == "pct" and isinstance(value, float) and value == value:
            item.setBackground(heat(value / top))
            if value / top > 0.55:
                item.setForeground(QColor("white"))
        if flagged and row in flagged:
            item.setForeground(QColor(OVER_BUDGET))

    fill_table(table, frame, units, style)


def _draw(chart: LazyPlot, title: str, labels: list[str], series: dict[str, list[float]]) -> None:
    import pyqtgraph as pg

    plot = chart.plot()
    plot.setTitle(title)
    plot.addLegend(offset=(-10, 5))
    colours = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf8f00", "#d6336c", "#6c757d")
    xs = list(range(len(labels)))
    for i, (name, values) in enumerate(series.items()):
        plot.plot(xs, values, pen=pg.mkPen(colours[i % len(colours)], width=2), name=name)
    step = max(1, len(labels) // 12)
    plot.getAxis("bottom").setTicks([[(x, labels[x]) for x in xs[::step]]])


# -- each tab's analysis, on the worker thread ----------------------------------------------------

Analysis = Callable[[Any, date, date, tuple[tuple[str, str], ...]], Shown]


def _cohorts(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    c = reports.cohorts(start, end, 12, where)
    shares = c.shares
    frame = pd.DataFrame({"First purchase": c.counts.index, "Customers": c.sizes.astype(int).to_numpy()})
    for age in shares.columns[1:]:
        frame[f"M{age}"] = shares[age].to_numpy()
    units = {"Customers": "count", **{f"M{a}": "pct" for a in shares.columns[1:]}}
    return Shown(f"Customers by the month of their first purchase ever, and the share still buying N months "
                 f"later (M1 = the month after). Months after {c.last_month} are not known yet.",
                 [("Retention by first-purchase month", frame, units)], heat=True)


def _campaigns(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    report = reports.campaigns(end, start, end)
    f = report.frame
    frame = pd.DataFrame({
        "Campaign": f["campaign"], "Channel": f["channel"], "Start": f["start"].astype(str),
        "End": f["end"].astype(str), "Status": f["status"], "Budget": f["budget"], "Spend": f["spend"],
        "Budget used": f["budget_used"], "Budget left": f["budget_left"], "Projected spend": f["projected_spend"],
        "Leads": f["leads"], "Conversions": f["conversions"], "CPA": f["cpa"], "Revenue": f["revenue"],
        "ROAS": f["roas"], "ROI": f["roi"]})
    units = {"Budget": "jmd", "Spend": "jmd", "Budget used": "pct", "Budget left": "jmd", "Projected spend": "jmd",
             "Leads": "count", "Conversions": "count", "CPA": "jmd", "Revenue": "jmd", "ROI": "pct"}
    frame["ROAS"] = frame["ROAS"].map(lambda v: None if v != v else f"{v:.1f}x")
    over = report.over_budget()
    flagged = [i for i, name in enumerate(f["campaign"]) if name in set(over["campaign"])]
    monthly = reports.query(ReportQuery(("campaign_spend",), ("month", "channel"), start, end)).frame
    months = [f"{y}-{m:02d}" for y in range(start.year, end.year + 1) for m in range(1, 13)
              if (start.year, start.month) <= (y, m) <= (end.year, end.month)]  # months without spend too
    series = {ch: [float(monthly[(monthly["Channel"] == ch) & (monthly["Month"] == m)]["Campaign spend"].sum()) / 1e6
                   for m in months] for ch in sorted(monthly["Channel"].dropna().unique())}
    if where:
        warning_parish = " Campaigns are not tied to parishes: these are all parishes' figures."
    else:
        warning_parish = ""
    warning = warning_parish + (f" {len(over)} will pass their budget: {', '.join(over['campaign'])} (in red)." if len(over) else "")
    return Shown(f"{len(f)} campaigns running between {start} and {end}, figures to {end}. Leads and revenue are "
                 f"credited to a campaign from its first day to {report.window_days} days after its last.{warning}",
                 [("Spend, results and budget by campaign", frame, units)], flagged=flagged,
                 chart=("Campaign spend by channel and month (J$ millions)", [str(m) for m in months], series))


def _affinity(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    a = reports.affinity(start, end, 30, where)
    frame = pd.DataFrame({"Product A": a.pairs["product_a"], "Product B": a.pairs["product_b"],
                          "Customers": a.pairs["customers"], "Support": a.pairs["support"],
                          "Confidence A→B": a.pairs["confidence_a_b"], "Confidence B→A": a.pairs["confidence_b_a"],
                          "Lift": a.pairs["lift"]})
    units = {"Customers": "count", "Support": "pct", "Confidence A→B": "pct", "Confidence B→A": "pct",
             "Lift": "index"}
    return Shown(f"Products bought by the same customer within {a.window_days} days of each other, {start} to "
                 f"{end}, of {a.customers:,} buyers. Lift above 1: bought together more often than chance.",
                 [("Products bought together", frame, units)])


def _journey(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    j = reports.journey(end, 180, where)
    frame = pd.DataFrame(j.stages)
    frame = pd.DataFrame({"Stage": frame["stage"].str.capitalize(), "Customers": frame["customers"],
                          "From the stage before": frame["from_previous"],
                          "Share of the stage before": frame["of_previous"],
                          "Median days from it": frame["median_days"]})
    return Shown(f"Every customer's path up to {end}: a lead before buying, a first and a second purchase, "
                 f"{j.lapse_days} days without buying (lapsed), and a purchase after that (won back). Most buyers were "
                 "never a lead: a first purchase counts the leads that bought.",
                 [("Customer journey", frame, {"Customers": "count", "From the stage before": "count",
                                               "Share of the stage before": "pct",
                                               "Median days from it": "count"})])


def _seasonality(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    s = reports.seasonality(start, end, where)
    month = pd.DataFrame({"Month": s.by_month["name"], "Days": s.by_month["days"], "Revenue": s.by_month["revenue"],
                          "Revenue per day": s.by_month["revenue_per_day"], "Index": s.by_month["index"]})
    weekday = pd.DataFrame({"Weekday": s.by_weekday["name"], "Days": s.by_weekday["days"],
                            "Revenue per day": s.by_weekday["revenue_per_day"],
                            "Index": s.by_weekday["index"]})
    hol = pd.DataFrame({"Date": s.holidays["date"].astype(str), "Public holiday": s.holidays["holiday"],
                        "Weekday": s.holidays["weekday"], "Revenue": s.holidays["revenue"],
                        "Usual for the weekday": s.holidays["usual"], "Index": s.holidays["index"]})
    money = {"Revenue": "jmd", "Revenue per day": "jmd", "Usual for the weekday": "jmd", "Days": "count",
             "Index": "index"}
    return Shown(f"Revenue per day, {start} to {end}, against the period's mean day (index 1). Jamaica's public "
                 "holidays against the usual day of the same weekday.",
                 [("By month", month, money), ("By weekday", weekday, money), ("Public holidays", hol, money)],
                 chart=("Revenue index by month (1 = the mean day)", list(s.by_month["name"].str[:3]),
                        {"Index": s.by_month["index"].astype(float).tolist()}))


def _rfm(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    r = reports.rfm(end, where)
    grid = r.grid.copy()
    total = max(int(grid.to_numpy().sum()), 1)
    frame = pd.DataFrame({"Recency score": [str(i) for i in grid.index]})
    for col in grid.columns:
        frame[f"F+M {col}"] = grid[col].to_numpy() / total
    segs = pd.DataFrame({"Segment": r.segments["segment"], "Customers": r.segments["customers"],
                         "Share of buyers": r.segments["share"], "Revenue": r.segments["revenue"],
                         "Share of revenue": r.segments["revenue_share"],
                         "Median days since": r.segments["median_recency_days"]})
    return Shown(f"{r.customers:,} buyers up to {end}, scored 1-5 by quintile on recency and on frequency with "
                 "spend (5 = best); cells are shares of all buyers. Median days since: their last purchase.",
                 [("Buyers by recency and frequency-with-spend", frame, {f"F+M {c}": "pct" for c in grid.columns}),
                  ("RFM segments", segs, {"Customers": "count", "Share of buyers": "pct", "Revenue": "jmd",
                                          "Share of revenue": "pct", "Median days since": "count"})],
                 heat=True)


def _explain(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    """Why revenue changed: the last complete month against the one before, by parish, category
    and channel (and their pairs), in sentences with the figures behind them."""
    from datetime import timedelta

    from c360_desktop.core.reports.explain import explain_change

    last = end.replace(day=1) - timedelta(days=1)
    period = (last.replace(day=1), last)
    before_end = period[0] - timedelta(days=1)
    against = (before_end.replace(day=1), before_end)
    ex = explain_change(reports, "revenue", period, against, ("parish", "category", "channel"), where)
    cells = pd.DataFrame({"Where": [c.where for c in ex.cells[:30]], "Now": [c.now for c in ex.cells[:30]],
                          "Before": [c.before for c in ex.cells[:30]], "Change": [c.change for c in ex.cells[:30]],
                          "Change %": [c.now / c.before - 1 if c.before else None for c in ex.cells[:30]]})
    splits = pd.DataFrame({"Split": list(ex.by_split), "Sum of the changes": list(ex.by_split.values())})
    money = {"Now": "jmd", "Before": "jmd", "Change": "jmd", "Change %": "pct", "Sum of the changes": "jmd"}
    return Shown(" ".join(ex.sentences),
                 [("Where revenue changed, largest first", cells, money),
                  ("Each split adds up to the whole change", splits, money)])


def _correlations(reports: Any, start: date, end: date, where: tuple[tuple[str, str], ...]) -> Shown:
    from c360_desktop.core.reports.analyses import BEHAVIOURS, OUTCOMES

    c = reports.correlations(end, 90, where)
    t = c.table
    frame = pd.DataFrame({"Behaviour (to the cut-off)": t["behaviour"].map(BEHAVIOURS),
                          "Outcome": t["outcome"].map(lambda o: OUTCOMES[o].format(days=90)),
                          "Spearman ρ": t["rho"], "p (Holm)": t["p_holm"].map(lambda p: None if p != p else
                                                                              ("< 0.001" if p < 0.001 else f"{p:.3f}")),
                          "Significant at 1%": t["significant"].map({True: "yes", False: "no"}), "Customers": t["n"]})
    return Shown(" ".join(c.sentences), [(f"Behaviour to {c.cutoff} against the 90 days after", frame,
                                          {"Spearman ρ": "index", "Customers": "count"})])


ANALYSES: dict[str, Analysis] = {"Correlations": _correlations, "Cohorts": _cohorts, "Campaigns": _campaigns, "Affinity": _affinity,
                                 "Journey": _journey, "Seasonality": _seasonality, "RFM": _rfm, "Explain": _explain}

