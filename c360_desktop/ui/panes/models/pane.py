"""Model dashboard: can the models be trusted? How well each version predicted on held-out data,
whether its probabilities are calibrated, what drives it, whether today's customers still look
like the ones it learnt from, and the sales forecast against what happened. Retrain from here."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.analytics import registry
from c360_desktop.core.analytics.training import MODEL_OF, install_hint
from c360_desktop.core.progress import Progress
from c360_desktop.core.security import Permission, can
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.workers import TaskHandle, TaskRunner

MODELS = [("churn", "Churn risk"), ("lead", "Lead score"), ("clv", "Lifetime value"), ("forecast", "Sales forecast"),
          ("segments", "Segments")]
TASK_OF = {model: task for task, model in MODEL_OF.items()}
COLOURS = ["#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#9467bd", "#8c564b"]
HOUR_MS = 60 * 60 * 1000
METRIC_LABELS = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "mae_purchases": "mean abs. error per customer",
                 "predicted_purchases": "repeat purchases predicted", "actual_purchases": "repeat purchases made",
                 "predicted_spend": "spend predicted (JMD)", "actual_spend": "spent (JMD)", "k": "clusters"}


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(False)
    return t


def _fill(table: QTableWidget, rows: list[list[Any]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, float):
                text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4f}".rstrip("0").rstrip(".")
            elif isinstance(value, int):
                text = f"{value:,}"
            else:
                text = str(value)
            item = QTableWidgetItem(text)
            if isinstance(value, int | float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def _two_charts_over_a_table(left: QWidget, right: QWidget, table: QWidget) -> QWidget:
    page = QWidget()
    box = QGridLayout(page)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(left, 0, 0)
    box.addWidget(right, 0, 1)
    box.addWidget(table, 1, 0, 1, 2)
    return page


def _titled(plot: LazyPlot, title: str, x: str, y: str, legend: tuple[int, int] = (-10, 10)) -> Any:
    """The plot cleared, titled and labelled; ``legend``: its offset (negative: from the right/bottom)."""
    item = plot.plot()
    item.setTitle(title)
    item.setLabel("bottom", x)
    item.setLabel("left", y)
    item.showGrid(x=True, y=True, alpha=0.2)
    for side in ("bottom", "left"):
        item.getAxis(side).setTicks(None)  # a bar chart's names, left from its last use
    item.getAxis("left").setWidth(None)
    if item.legend is None:
        item.addLegend(offset=legend)
    else:
        item.legend.clear()
        item.legend.setOffset(legend)
    return item


def _bars(plot: LazyPlot, title: str, labels: list[str], values: list[float], x_label: str,
          line: float | None = None) -> None:
    """Horizontal bars, largest at the top, with an optional threshold line."""
    import pyqtgraph as pg

    item = _titled(plot, title, x_label, "")
    n = len(labels)
    item.addItem(pg.BarGraphItem(x0=0, y=list(range(n))[::-1], height=0.7, width=values,
                                 brushes=[pg.mkBrush("#d62728" if line is not None and v > line else "#1f77b4")
                                        for v in values]))
    axis = item.getAxis("left")
    axis.setTicks([[(n - 1 - k, labels[k][:30]) for k in range(n)]])
    axis.setWidth(min(200, 12 + 7 * max((len(label[:30]) for label in labels), default=4)))
    if line is not None:
        item.addItem(pg.InfiniteLine(pos=line, angle=90, pen=pg.mkPen("#d62728", style=Qt.PenStyle.DashLine)))


class ModelsPane(QWidget):
    sig_trained = Signal(object)
    """A retrain finished: carries each task's summary by name."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.task: TaskHandle | None = None
        self._current: registry.ModelVersion | None = None  # the version shown, read whole when picked
        self.model = QComboBox()
        for key, label in MODELS:
            self.model.addItem(label, key)
        self.version = QComboBox()
        self.version.setMinimumContentsLength(28)
        self.version.setToolTip("Versions of this model trained on this cache, newest first")
        self.retrain_button = QPushButton("&Retrain")
        self.retrain_button.setToolTip("Train this model again on the cache and rescore (Ctrl+Shift+R retrains all)")
        self.retrain_all_button = QPushButton("Retrain &all")
        self.drift_button = QPushButton("Check &drift")
        self.drift_button.setToolTip("Compare today's customers with each model's training population")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setRange(0, 1000)
        self.status = QLabel()
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.model)
        bar.addWidget(QLabel("Version"))
        bar.addWidget(self.version, 1)
        for b in (self.retrain_button, self.retrain_all_button, self.drift_button, self.progress, self.cancel_button):
            bar.addWidget(b)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics = _table(["", "Ours"])

        self.pages = QStackedWidget()
        # classifier page: six charts
        self.roc, self.pr, self.calibration = LazyPlot(200), LazyPlot(200), LazyPlot(200)
        self.gains, self.importance, self.drift = LazyPlot(200), LazyPlot(200), LazyPlot(200)
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        for k, plot in enumerate((self.roc, self.pr, self.calibration, self.gains, self.importance, self.drift)):
            grid.addWidget(plot, k // 3, k % 3)
        self.pages.addWidget(page)
        # forecast page: a series picker and the chart
        self.series = QComboBox()
        self.forecast_chart = LazyPlot(320)
        self.series_table = _table(["Series", "MAPE %", "MASE", "Seasonal naive MAPE %", "Seasonal naive MASE"])
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Series"))
        row.addWidget(self.series)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(self.forecast_chart, 2)
        box.addWidget(self.series_table, 1)
        self.pages.addWidget(page)
        # lifetime value page: cohorts
        self.cohort_chart, self.cohort_drift = LazyPlot(260), LazyPlot(260)
        self.cohort_table = _table(["First bought", "Customers", "Repeat purchases predicted", "Made",
                                    "Spend predicted (JMD)", "Spent (JMD)"])
        self.pages.addWidget(_two_charts_over_a_table(self.cohort_chart, self.cohort_drift, self.cohort_table))
        # segments page
        self.rfm_chart, self.segment_drift = LazyPlot(260), LazyPlot(260)
        self.cluster_table = _table(["Cluster", "Customers", "Median days since a purchase", "Median purchase days",
                                     "Median spend (JMD)", "Median days a customer"])
        self.pages.addWidget(_two_charts_over_a_table(self.rfm_chart, self.segment_drift, self.cluster_table))
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages.addWidget(self.empty)

        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        def shown() -> list[Any]:
            model, version = self.model.currentText(), self.version.currentText()
            page = {1: self.series_table, 2: self.cohort_table, 3: self.cluster_table}.get(self.pages.currentIndex())
            return [table_of_view(t, f"{model} {title}", f"version {version}") for t, title in (
                (self.metrics, "metrics"), (page, "detail")) if t is not None and t.rowCount()]

        self.export_button = ExportButton(services, runner, shown, self.status.setText)
        self.export_button.bind_shortcut(self)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.metrics)
        layout.addWidget(self.pages, 1)
        layout.addLayout(foot)
        self.model.currentIndexChanged.connect(self.refresh)
        self.version.currentIndexChanged.connect(self._show_version)
        self.series.currentIndexChanged.connect(self._show_series)
        self.retrain_button.clicked.connect(lambda: self.retrain(TASK_OF[self.model.currentData()]))
        self.retrain_all_button.clicked.connect(lambda: self.retrain("all"))
        self.drift_button.clicked.connect(self.check_drift)
        self.cancel_button.clicked.connect(self.cancel)
        allowed = can(services.user, Permission.TRAIN_MODELS)
        for b in (self.retrain_button, self.retrain_all_button):
            b.setEnabled(allowed)
            if not allowed:
                b.setToolTip("Managers and analysts retrain models")
        # scheduled retraining: every hour, retrain the models older than the setting allows
        self.schedule = QTimer(self)
        self.schedule.setInterval(HOUR_MS)
        self.schedule.timeout.connect(self.retrain_if_due)
        if services.settings.retrain_every_days > 0 and allowed:
            self.schedule.start()
        self._loaded = False  # read and drawn when first shown: start-up need not load pyqtgraph

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._loaded:
            self.refresh()

    # ---- loading ----

    @property
    def current(self) -> registry.ModelVersion | None:
        return self._current

    def refresh(self) -> None:
        """Reload the chosen model's list of versions (names and dates only: each version's
        report is read when it is picked), on the GUI thread's reader."""
        self._loaded = True
        name = self.model.currentData()
        self.version.blockSignals(True)
        self.version.clear()
        for version, trained_at in self._services.models.versions(name):
            self.version.addItem(f"{version} · {trained_at[:16]}", version)
        self.version.blockSignals(False)
        self._show_version()

    def select(self, model: str, version: str | None = None) -> None:
        self.model.setCurrentIndex(self.model.findData(model))
        if version is not None:
            self.version.setCurrentIndex(max(0, self.version.findData(version)))

    def _show_version(self) -> None:
        chosen = self.version.currentData()
        self._current = v = self._services.models.version(chosen) if chosen else None
        if v is None:
            label = self.model.currentText()
            missing = self._services.models.missing_libraries(TASK_OF[self.model.currentData()])
            self.summary.setText("")
            self.metrics.setRowCount(0)
            self.empty.setText(f"No {label.lower()} model has been trained on this cache yet. "
                               + (f"It needs {install_hint(missing)}."
                                  if missing else "Press Retrain to train one (it runs in the background)."))
            self.pages.setCurrentWidget(self.empty)
            return
        window = f"{v.data_from or '…'} to {v.data_to}"
        self.summary.setText(
            f"<b>{v.version}</b> trained {v.trained_at} UTC in {v.seconds:,.1f} s on {v.rows:,} rows "
            f"(data {window}); {v.scored:,} scored; {len(v.features)} features; "
            f"content SHA-256 <code>{v.content_hash[:16]}…</code>")
        self._metrics(v)
        kind = v.report.get("kind")
        if kind == "classifier":
            self._classifier(v)
        elif kind == "forecast":
            self._forecast(v)
        elif kind == "clv":
            self._clv(v)
        elif kind == "segments":
            self._segments(v)

    def _metrics(self, v: registry.ModelVersion) -> None:
        if v.report.get("kind") == "forecast":
            self.metrics.setColumnCount(3)
            self.metrics.setHorizontalHeaderLabels(["Backtest, all Jamaica", "MAPE %", "MASE"])
            m = v.metrics.get("all_models", {})
            _fill(self.metrics, [[name, round(x["mape"], 3), round(x["mase"], 4)] for name, x in m.items()])
            self._fit_metrics()
            return
        names = list(v.metrics)
        keys = list(dict.fromkeys(k for m in v.metrics.values() for k in m))
        self.metrics.setColumnCount(1 + len(names))
        self.metrics.setHorizontalHeaderLabels(["Held-out"] + names)
        _fill(self.metrics, [[METRIC_LABELS.get(k, k.replace("_", " "))] + [v.metrics[n].get(k, "") for n in names]
                             for k in keys])
        self._fit_metrics()

    def _fit_metrics(self) -> None:
        rows = self.metrics.rowCount()
        self.metrics.setFixedHeight(self.metrics.horizontalHeader().height() + 4
                                    + sum(self.metrics.rowHeight(r) for r in range(min(rows, 7))))

    def _drift_chart(self, plot: LazyPlot, v: registry.ModelVersion) -> None:
        history = self._services.models.drift_history(v.version)
        threshold = self._services.settings.drift_threshold
        if not history:
            item = _titled(plot, "Drift: not checked yet (Check drift)", "population stability index", "")
            item.getAxis("left").setTicks([[]])
            return
        at, values = history[-1]
        top = sorted(values.items(), key=lambda kv: -kv[1])[:10]
        _bars(plot, f"Drift on {at[:10]} (PSI; alert over {threshold:g})", [f for f, _ in top],
              [x for _, x in top], "population stability index", line=threshold)

    def _classifier(self, v: registry.ModelVersion) -> None:
        import pyqtgraph as pg

        self.pages.setCurrentIndex(0)
        r = v.report
        roc = _titled(self.roc, "ROC curve (held-out)", "false positive rate", "true positive rate", (-10, -40))
        pr = _titled(self.pr, "Precision-recall (held-out)", "recall", "precision")
        for k, (name, curves) in enumerate(r["curves"].items()):
            pen = pg.mkPen(COLOURS[k % len(COLOURS)], width=2 if name == "ours" else 1)
            label = f"{name} (AUC {v.metrics.get(name, {}).get('roc_auc', float('nan')):.3f})" \
                if name in v.metrics else name
            roc.plot(*zip(*curves["roc"], strict=True), pen=pen, name=label)
            pr.plot(*zip(*curves["pr"], strict=True), pen=pen, name=name)
        roc.plot([0, 1], [0, 1], pen=pg.mkPen("#bbbbbb", style=Qt.PenStyle.DashLine))
        cal = _titled(self.calibration, "Calibration (held-out, tenths with 10+)", "predicted probability", "observed rate",
                      (10, 10))
        cal.plot([0, 1], [0, 1], pen=pg.mkPen("#bbbbbb", style=Qt.PenStyle.DashLine), name="perfect")
        shown = [c for c in r["calibration"] if c[2] >= 10]  # a tenth with fewer customers says little
        if not shown:
            note = pg.TextItem("Too few held-out rows in any tenth to judge calibration", color="#555555",
                               anchor=(0.5, 0.5))
            note.setPos(0.5, 0.5)
            cal.addItem(note)
        else:
            xs, ys, _ns = zip(*shown, strict=True)
            cal.plot(xs, ys, pen=pg.mkPen(COLOURS[0], width=2), symbol="o", symbolSize=6,
                     symbolBrush=COLOURS[0], name="ours")
        gains = _titled(self.gains, f"Gains: share of {r['positives']:,} positives caught", "share of customers "
                        "called, highest score first", "share caught", (-10, -40))
        gx, gy = zip(*r["gains"], strict=True)
        gains.plot(gx, gy, pen=pg.mkPen(COLOURS[0], width=2), symbol="o", symbolSize=5, symbolBrush=COLOURS[0],
                   name="ours")
        gains.plot([0, 1], [0, 1], pen=pg.mkPen("#bbbbbb", style=Qt.PenStyle.DashLine), name="random")
        top = list(r["importance"].items())[:10]
        _bars(self.importance, "What drives it (share of gain)", [f for f, _ in top], [x for _, x in top],
              "share of the model's gain")
        self._drift_chart(self.drift, v)

    def _forecast(self, v: registry.ModelVersion) -> None:
        self.pages.setCurrentIndex(1)
        series = v.report["series"]
        self.series.blockSignals(True)
        chosen = self.series.currentText()
        self.series.clear()
        from c360_desktop.ui.format import parish_name

        for name in series:
            self.series.addItem(parish_name(name) if name.startswith("JM-") else name, name)
        self.series.setCurrentIndex(max(0, self.series.findText(chosen)))
        self.series.blockSignals(False)
        rows = []
        for name, s in series.items():
            b = s["backtest"]
            rows.append([parish_name(name) if name.startswith("JM-") else name, round(b["ours"]["mape"], 2),
                         round(b["ours"]["mase"], 3), round(b["seasonal_naive"]["mape"], 2),
                         round(b["seasonal_naive"]["mase"], 3)])
        for name, why in v.report.get("skipped", {}).items():
            rows.append([f"{parish_name(name) if name.startswith('JM-') else name}: not forecast ({why})", "", "", "", ""])
        _fill(self.series_table, rows)
        self._show_series()

    def _show_series(self) -> None:
        import pyqtgraph as pg

        v = self.current
        if v is None or v.report.get("kind") != "forecast" or self.series.currentData() is None:
            return
        s = v.report["series"][self.series.currentData()]

        def x(d: str) -> float:
            year, month = int(d[:4]), int(d[5:7])
            return year + (month - 1) / 12

        item = _titled(self.forecast_chart, f"{self.series.currentText()}: monthly sales (JMD millions)", "",
                       "JMD millions")
        actual = s["actual"][-48:]
        item.plot([x(d) for d, _ in actual], [val / 1e6 for _, val in actual], pen=pg.mkPen("#222222", width=2),
                  name="actual")
        path = s["backtest_path"]
        dates = [d for d, _ in s["actual"]]
        start = dates.index(path["origin"]) if path["origin"] in dates else len(dates) - len(path["values"])
        px = [x(d) for d in dates[start:start + len(path["values"])]]
        item.plot(px, [val / 1e6 for val in path["values"][: len(px)]],
                  pen=pg.mkPen(COLOURS[3], width=2, style=Qt.PenStyle.DashLine),
                  name=f"forecast made {path['origin'][:7]} (backtest)")
        fx = [x(d) for d, *_ in s["forecast"]]
        lo = pg.PlotDataItem(fx, [r[2] / 1e6 for r in s["forecast"]], pen=pg.mkPen(None))
        hi = pg.PlotDataItem(fx, [r[3] / 1e6 for r in s["forecast"]], pen=pg.mkPen(None))
        item.addItem(lo)
        item.addItem(hi)
        item.addItem(pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(31, 119, 180, 60)))
        item.plot(fx, [r[1] / 1e6 for r in s["forecast"]], pen=pg.mkPen(COLOURS[0], width=2),
                  name="forecast (90% interval shaded)")

    def _clv(self, v: registry.ModelVersion) -> None:
        import pyqtgraph as pg

        self.pages.setCurrentIndex(2)
        cohorts = v.report["cohorts"]
        weeks = v.report.get("holdout_weeks", 26)
        item = _titled(self.cohort_chart, f"Repeat purchases in the last {weeks} weeks (held out), by year first "
                       "bought", "year first bought", "purchases", (10, 10))
        xs = [c["cohort"] for c in cohorts]
        item.addItem(pg.BarGraphItem(x=[a - 0.2 for a in xs], height=[c["predicted_purchases"] for c in cohorts],
                                     width=0.38, brush=COLOURS[0], name="predicted"))
        item.addItem(pg.BarGraphItem(x=[a + 0.2 for a in xs], height=[c["actual_purchases"] for c in cohorts],
                                     width=0.38, brush="#444444", name="made"))
        _fill(self.cohort_table, [[str(c["cohort"]), c["customers"], round(c["predicted_purchases"], 1),
                                   int(c["actual_purchases"]), round(c["predicted_spend"]), round(c["actual_spend"])]
                                  for c in cohorts])
        self._drift_chart(self.cohort_drift, v)

    def _segments(self, v: registry.ModelVersion) -> None:
        self.pages.setCurrentIndex(3)
        rfm = sorted(v.report["rfm"].items(), key=lambda kv: -kv[1])
        _bars(self.rfm_chart, "RFM segments (customers)", [k for k, _ in rfm], [float(n) for _, n in rfm],
              "customers")
        rows = []
        for c in sorted(v.report["clusters"], key=lambda c: -c["size"]):
            m = c["median"]
            rows.append([c["name"], c["size"], round(m["recency"]), round(m["frequency"]), round(m["monetary"]),
                         round(m["tenure"])])
        o = v.report["overall_median"]
        rows.append(["Everyone (for comparison)", sum(c["size"] for c in v.report["clusters"]), round(o["recency"]),
                     round(o["frequency"]), round(o["monetary"]), round(o["tenure"])])
        _fill(self.cluster_table, rows)
        self._drift_chart(self.segment_drift, v)

    # ---- work ----

    def _busy(self, busy: bool, message: str = "") -> None:
        allowed = can(self._services.user, Permission.TRAIN_MODELS)
        for b in (self.retrain_button, self.retrain_all_button):
            b.setEnabled(allowed and not busy)
        self.drift_button.setEnabled(not busy)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress.setValue(0)
        if message:
            self.status.setText(message)

    def retrain(self, task: str) -> TaskHandle | None:
        if self.task is not None:
            return None
        missing = self._services.models.missing_libraries(task)
        if missing:
            self.status.setText(f"Retraining needs {install_hint(missing)}.")
            return None
        models = self._services.models
        threshold = self._services.settings.drift_threshold

        def work(progress: Progress) -> dict[str, Any]:
            result = models.train(task, progress)
            progress.update(1.0, "Checking drift")
            models.check_drift(threshold)
            return result

        self._busy(True, f"Retraining {'every model' if task == 'all' else task}…")
        self.task = self._runner.run_mutation(work, self._trained, self._failed, self._progressed, self._cancelled)
        return self.task

    def retrain_if_due(self) -> TaskHandle | None:
        """The schedule: retrain (in the background) the models older than the setting allows."""
        stale = self._services.models.due(self._services.settings.retrain_every_days)
        if not stale or self.task is not None:
            return None
        return self.retrain("all" if len(stale) > 1 else stale[0])

    def check_drift(self) -> TaskHandle | None:
        if self.task is not None:
            return None
        models, threshold = self._services.models, self._services.settings.drift_threshold
        self._busy(True, "Checking drift…")
        self.task = self._runner.run_mutation(lambda _p: models.check_drift(threshold), self._drift_checked,
                                              self._failed, self._progressed, self._cancelled)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling at the next step…")

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _trained(self, result: dict[str, Any]) -> None:
        self.task = None
        self._busy(False, "Trained: " + "; ".join(f"{t} {r['model_version']}" for t, r in result.items()))
        self._reload()
        self.sig_trained.emit(result)

    def _drift_checked(self, found: list[dict[str, Any]]) -> None:
        self.task = None
        threshold = self._services.settings.drift_threshold
        shifted = [d for d in found if d["worst"] > threshold]
        self._busy(False, "Drift checked: " + (
            "; ".join(f"{d['version']} worst PSI {d['worst']:.2f}" for d in found) or "no model trained yet")
            + (f". Over {threshold:g}: an alert was raised." if shifted else "."))
        self._reload()

    def _reload(self) -> None:
        """Redraw now if shown, else when next shown (a scheduled run in the background)."""
        if self.isVisible():
            self.refresh()
        else:
            self._loaded = False

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._busy(False, f"Not done: {exc}")

    def _cancelled(self) -> None:
        self.task = None
        self._busy(False, "Cancelled; the previous versions and scores stay.")
