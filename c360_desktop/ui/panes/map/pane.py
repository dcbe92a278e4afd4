"""Map and territories pane: the folium map in a QWebEngineView, offline; territory analytics
beside it; "near me" and "near this customer" with proximity alerts for hot leads.

The page is built on a worker (core.geo.map_page) into a private temporary folder and loaded from
there. A request interceptor lets the page load local files only (file:, qrc:, data:, blob:):
nothing on the map needs the network, and anything that tried would be refused and recorded.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, QTemporaryDir, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import jamaica
from c360_desktop.core.geo.map_page import metrics_data, page_data, write_page
from c360_desktop.core.geo.places import Nearby
from c360_desktop.core.geo.territory import METRICS, TerritoryReport
from c360_desktop.core.security import Permission, can
from c360_desktop.core.services import Services
from c360_desktop.ui.format import local_datetime
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

def web_engine_available() -> bool:
    """QtWebEngine ships in PySide6-Addons; a build without it still gets the analytics."""
    from importlib.util import find_spec

    return find_spec("PySide6.QtWebEngineWidgets") is not None


LOCAL_SCHEMES = frozenset({"file", "qrc", "data", "blob"})
NEAR_LIMIT = 500
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
PERIODS = (("Last 30 days", 30), ("Last 90 days", 90), ("Last 12 months", 365))
_COORDS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$")


def make_interceptor(parent: QObject | None = None) -> Any:
    """A request interceptor that lets the page load local files only, and remembers every
    request it saw (QtWebEngine is imported here, when the map is first shown)."""
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestInfo, QWebEngineUrlRequestInterceptor

    class LocalOnly(QWebEngineUrlRequestInterceptor):
        def __init__(self, parent: QObject | None = None) -> None:
            super().__init__(parent)
            self.requests: list[str] = []
            self.blocked: list[str] = []

        def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802 - Qt API
            url = info.requestUrl()
            self.requests.append(url.toString())
            if url.scheme() not in LOCAL_SCHEMES:
                self.blocked.append(url.toString())
                info.block(True)

    return LocalOnly(parent)


class MapBridge(QObject):
    """What the page may ask of the app (through Qt WebChannel)."""

    sig_open = Signal(int)
    sig_list = Signal(list)
    sig_ready = Signal()

    @Slot(int)
    def openCustomer(self, key: int) -> None:  # noqa: N802 - called from JavaScript
        self.sig_open.emit(int(key))

    @Slot(str)
    def showCustomers(self, keys: str) -> None:  # noqa: N802
        try:
            parsed = [int(k) for k in json.loads(keys)][:500]
        except (ValueError, TypeError):
            log.warning("map page sent a malformed customer list: %.100s", keys)
            return
        self.sig_list.emit(parsed)

    @Slot()
    def pageReady(self) -> None:  # noqa: N802
        self.sig_ready.emit()


def parse_place(text: str) -> tuple[float, float, str] | str:
    """A town from the gazetteer ("Mandeville", "Mandeville (Manchester)") or "lat, lon";
    returns (lat, lon, label) or a message saying what is wrong."""
    text = text.strip()
    if not text:
        return "Type a town or coordinates (for example 18.04, -77.51)."
    m = _COORDS.match(text)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"{text!r}: latitude must be -90..90 and longitude -180..180."
        return lat, lon, f"{lat:.5f}, {lon:.5f}"
    from c360_desktop.core.geo.geocode import geocode

    name = re.sub(r"\s*\(.*\)\s*$", "", text)
    parish = re.search(r"\((.*)\)\s*$", text)
    place = geocode(name, parish.group(1) if parish else None)
    if place.precision != "town" or place.lat is None or place.lon is None:
        return f"{text!r} is not a town we know; pick one from the list or type coordinates."
    return place.lat, place.lon, f"{place.town} ({jamaica.parish_by_code()[place.parish or ''].name})"


class MapPane(QWidget):
    sig_customer_requested = Signal(str)
    """The user asked to open this customer's 360 view."""
    sig_page_ready = Signal()
    """The map page is loaded and joined to the app."""
    sig_alerts_raised = Signal(list)
    """Proximity alerts were stored (core.alerts.pipeline.NewAlert)."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._loaded = False
        self._ready = False
        self._generation = 0
        self._analytics = 0
        self.report: TerritoryReport | None = None
        self.points_count = 0
        self.nearby: list[Nearby] = []
        self._listed_ids: list[str] = []
        self._dir = QTemporaryDir()

        self.metric_box = QComboBox()
        for key, label in METRICS.items():
            self.metric_box.addItem(label, key)
        self.metric_box.setToolTip("What colours the parishes")
        self.colour_box = QComboBox()
        self.colour_box.addItem("Markers by segment", "segment")
        self.colour_box.addItem("Markers by best lead", "band")
        self.period_box = QComboBox()
        for label, days in PERIODS:
            self.period_box.addItem(label, days)
        self.period_box.setCurrentIndex(1)
        self.place = QComboBox()
        self.place.setEditable(True)
        self.place.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.place.lineEdit().setPlaceholderText("Near: town, or lat, lon")
        names = {p.code: p.name for p in jamaica.parishes()}
        self.place.addItem("")
        for t in sorted(jamaica.towns(), key=lambda t: t.name):
            self.place.addItem(f"{t.name} ({names[t.parish_code]})")
        self.place.setCurrentIndex(0)
        self.place.setMinimumContentsLength(18)
        self.radius = QDoubleSpinBox()
        self.radius.setRange(0.1, 100)
        self.radius.setValue(5)
        self.radius.setSuffix(" km")
        self.radius.setDecimals(1)
        self.find_button = QPushButton("&Find nearby")
        self.here_button = QPushButton("My &position")
        self.here_button.setToolTip("Customers near where this computer says it is (GPS or location service)")
        self.position_source: Any = None
        self.alert_me = QCheckBox("Alert me to hot leads in range")
        self.alert_me.setToolTip("Raise an alert for each hot lead within the radius of where you are, "
                                 "once a day per lead")
        self.alert_me.setChecked(not can(services.user, Permission.VIEW_ALL_TERRITORIES))  # out in the field
        self.status = QLabel("The map loads when this pane is first shown.")
        self.status.setWordWrap(True)

        # The web view is made on first show: QtWebEngine starts Chromium, which start-up need not wait for.
        self.view: Any = QLabel("The map loads when this pane is first shown." if web_engine_available() else
                                "The map needs QtWebEngine (PySide6-Addons), which this installation lacks.\n"
                                "Territory analytics and Find nearby still work.")
        self.view.setWordWrap(True)
        self.interceptor: Any = None

        self.parish_table = self._table(("Parish", "Customers", "Sales", "Growth", "Leads", "Hot",
                                         "Pipeline", "Won", "Churn"))
        for col, tip in ((2, "Sales in the period, JMD"), (3, "Sales against the period before"),
                         (4, "Open leads"), (5, "Hot open leads"), (6, "Estimated value of open leads, JMD"),
                         (7, "Leads won in the period"), (8, "Churn risk (see above for how it is measured)")):
            self.parish_table.horizontalHeaderItem(col).setToolTip(tip)
        self.rep_table = self._table(("Rep", "Territory", "Open leads", "Pipeline", "Activities", "Won",
                                      "Won value"))
        self.near_table = self._table(("Customer", "Distance", "Lead score", "Last contact"), stretch_first=True)
        self.chart = LazyPlot(180)
        analytics = QWidget()
        a_layout = QVBoxLayout(analytics)
        a_layout.setContentsMargins(0, 0, 0, 0)
        self.period_label = QLabel()
        self.period_label.setWordWrap(True)
        a_layout.addWidget(self.period_label)
        a_layout.addWidget(self.parish_table, 3)
        a_layout.addWidget(self.chart, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(analytics, "&Parishes")
        self.tabs.addTab(self.rep_table, "&Reps")
        self.tabs.addTab(self.near_table, "&Nearby")
        self.splitter = splitter = QSplitter()
        splitter.addWidget(self.view)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        # two rows (what the map shows; who is near), so the pane fits a laptop's screen
        shown = QHBoxLayout()
        for w in (self.metric_box, self.colour_box, self.period_box):
            shown.addWidget(w)
        shown.addStretch(1)
        near = QHBoxLayout()
        near.addWidget(self.place, 1)
        near.addWidget(self.radius)
        near.addWidget(self.find_button)
        near.addWidget(self.here_button)
        near.addWidget(self.alert_me)
        bar = QVBoxLayout()
        bar.addLayout(shown)
        bar.addLayout(near)
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        def shown() -> list[Any]:
            period = self.period_label.text() or self.period_box.currentText()
            return [table_of_view(t, title, period) for t, title in (
                (self.parish_table, "parishes"), (self.rep_table, "reps"),
                (self.near_table, f"customers near {self.place.currentText() or 'you'}")) if t.rowCount()]

        self.export_button = ExportButton(services, runner, shown, self.status.setText)
        self.export_button.bind_shortcut(self)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(foot)

        self.metric_box.currentIndexChanged.connect(self._metric_changed)
        self.colour_box.currentIndexChanged.connect(self._colour_changed)
        self.period_box.currentIndexChanged.connect(self.refresh_analytics)
        self.find_button.clicked.connect(self.find_nearby)
        self.here_button.clicked.connect(self.find_near_me)
        self.place.lineEdit().returnPressed.connect(self.find_nearby)
        self.near_table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.near_table.activated.connect(lambda index: self._open_row(index.row()))

    @staticmethod
    def _table(headers: tuple[str, ...], stretch_first: bool = False) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(list(headers))
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.verticalHeader().hide()
        t.setWordWrap(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if stretch_first:
            t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        return t

    # ---- loading ----

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            QTimer.singleShot(0, self._first_show)

    def _first_show(self) -> None:
        width = self.splitter.width()
        self.splitter.setSizes([int(width * 0.6), width - int(width * 0.6)])  # the map gets the room
        self.reload()

    def _make_view(self) -> None:
        if self.interceptor is not None or not web_engine_available():
            return
        from PySide6.QtWebChannel import QWebChannel
        from PySide6.QtWebEngineWidgets import QWebEngineView

        placeholder, self.view = self.view, QWebEngineView()
        self.interceptor = make_interceptor(self)
        self.view.page().profile().setUrlRequestInterceptor(self.interceptor)
        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self.view.page())
        self.channel.registerObject("bridge", self.bridge)
        self.view.page().setWebChannel(self.channel)
        self.bridge.sig_open.connect(self._open_key)
        self.bridge.sig_list.connect(self._list_keys)
        self.bridge.sig_ready.connect(self._page_ready)
        self.view.loadFinished.connect(self._load_finished)
        self.splitter.replaceWidget(0, self.view)
        placeholder.deleteLater()

    def say(self, text: str) -> None:
        self.status.setText(text)

    def reload(self) -> None:
        """Build the page (all customers, parish figures) on a worker and load it."""
        self._loaded = True
        self._ready = False
        self._make_view()
        self._generation += 1
        generation, maps, folder = self._generation, self._services.maps, self._dir.path()
        from pathlib import Path

        metric, colour_by = self.metric_box.currentData(), self.colour_box.currentData()
        started = time.perf_counter()

        # The page first (positions only), the parish figures beside it on another reader: the map
        # is usable while they are added up, and its colours follow.
        def build(progress: Any) -> tuple[Any, int]:
            progress.update(0.1, "Reading customer positions")
            points = maps.points()
            progress.update(0.6, "Writing the map")
            page = write_page(Path(folder) / f"g{generation}", points, page_data(None, points.segments, metric,
                                                                                  colour_by))
            return page, len(points)

        def done(result: tuple[Any, int]) -> None:
            if generation != self._generation:
                return
            page, count = result
            self.points_count = count
            self.say(f"Loading the map of {count:,} customers (built in {time.perf_counter() - started:.1f} s)…")
            if self.interceptor is not None:
                self.view.load(QUrl.fromLocalFile(str(page)))

        def failed(exc: BaseException) -> None:
            log.exception("building the map failed", exc_info=exc)
            self.say(f"The map could not be built: {exc}")

        self.say("Building the map…")
        self._runner.run_query(build, done, failed,
                               on_progress=lambda f, m: self.say(f"{m}… {100 * f:.0f}%"))
        self.refresh_analytics()

    def _load_finished(self, ok: bool) -> None:
        if not ok:
            self.say("The map page did not load (see the log).")

    def _page_ready(self) -> None:
        self._ready = True
        self._apply_metrics()  # figures that arrived before the page
        blocked = len(self.interceptor.blocked) if self.interceptor is not None else 0
        self.say(f"{self.points_count:,} customers on the map. Click a cluster to zoom in, a customer to open "
                 "them; Find nearby for who is near a town or a point."
                 + (f" ({blocked} network requests refused: the map works offline.)" if blocked else ""))
        self.sig_page_ready.emit()

    def is_ready(self) -> bool:
        return self._ready

    def run_js(self, script: str, callback: Any = None) -> None:
        if self.interceptor is None or not self._ready:
            return
        if callback is None:
            self.view.page().runJavaScript(script)
        else:
            self.view.page().runJavaScript(script, 0, callback)

    # ---- analytics ----

    def refresh_analytics(self) -> None:
        """The parish and rep figures for the chosen period: tables, chart and the parish colours
        (the page itself stays)."""
        maps, days = self._services.maps, int(self.period_box.currentData())
        self._analytics += 1
        ticket = self._analytics

        def build(_p: Any) -> TerritoryReport:
            return maps.territory_report(days)

        def done(rep: TerritoryReport) -> None:
            if ticket == self._analytics:
                self._show_report(rep)
                self._apply_metrics()

        self._runner.run_query(build, done, lambda exc: self.say(f"Territory figures failed: {exc}"))

    def _apply_metrics(self) -> None:
        if self.report is not None:
            self.run_js(f"C360.updateMetrics({json.dumps(metrics_data(self.report))})")

    def _show_report(self, rep: TerritoryReport) -> None:
        self.report = rep
        self.period_label.setText(f"{rep.period.label()} (growth against the {rep.period.end - rep.period.start} "
                                  f"before). Churn risk: {rep.churn_basis}.".replace(", 0:00:00", ""))
        t = self.parish_table
        t.setRowCount(len(rep.parishes))
        for i, r in enumerate(rep.parishes):
            growth = r.growth_pct
            cells = (jamaica.parish_by_code()[r.parish].address_name, f"{r.customers:,}", _jmd(r.sales_jmd), "—" if growth is None else f"{growth:+.1f}%",
                     f"{r.open_leads:,}", f"{r.hot_leads:,}", _jmd(r.pipeline_jmd), f"{r.won:,}",
                     "—" if r.churn_risk is None else f"{100 * r.churn_risk:.0f}%")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(RIGHT)
                if j == 3 and growth is not None:
                    item.setForeground(QColor("#1a7f37" if growth >= 0 else "#c62828"))
                t.setItem(i, j, item)
        t = self.rep_table
        t.setRowCount(len(rep.reps))
        for i, rr in enumerate(rep.reps):
            cells = (rr.name, jamaica.parish_by_code()[rr.territory].name if rr.territory in jamaica.parish_by_code()
                     else "—", f"{rr.open_leads:,}", _jmd(rr.pipeline_jmd), f"{rr.activities:,}", f"{rr.won:,}",
                     _jmd(rr.won_jmd))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j > 1:
                    item.setTextAlignment(RIGHT)
                t.setItem(i, j, item)
        self._draw_chart()

    def _draw_chart(self) -> None:
        rep = self.report
        if rep is None:
            return
        key = self.metric_box.currentData()
        import pyqtgraph as pg

        plot = self.chart.plot()
        rows = [(r.name.replace("Saint ", "St "), r.metric(key)) for r in rep.parishes]
        values = [(v if v is not None else 0.0) * (100 if key == "churn" else 1e-6 if key == "sales" else 1)
                  for _n, v in rows]
        colours = ["#2e7d32" if v >= 0 else "#c62828" for v in values] if key == "growth" else ["#3182bd"] * len(values)
        bars = pg.BarGraphItem(x0=0, y=list(range(len(rows))), height=0.7, width=values,
                               brushes=[pg.mkBrush(c) for c in colours], pens=[pg.mkPen(None)] * len(values))
        plot.addItem(bars)
        axis = plot.getAxis("left")
        axis.setTicks([[(i, n) for i, (n, _v) in enumerate(rows)]])
        unit = {"sales": "JMD millions", "growth": "% against the period before", "churn": "% at risk",
                "leads": "open leads per 1,000 customers"}[key]
        plot.setLabel("bottom", unit)
        plot.setTitle(METRICS[key], size="10pt")
        plot.getViewBox().invertY(True)
        plot.getViewBox().autoRange(padding=0.02)

    def _metric_changed(self) -> None:
        self.run_js(f"C360.setMetric({json.dumps(self.metric_box.currentData())})")
        self._draw_chart()

    def _colour_changed(self) -> None:
        self.run_js(f"C360.setColourBy({json.dumps(self.colour_box.currentData())})")

    # ---- near me / near this customer ----

    def find_nearby(self) -> None:
        parsed = parse_place(self.place.currentText())
        if isinstance(parsed, str):
            self.say(parsed)
            return
        self.near_point(*parsed)

    def find_near_me(self) -> None:
        """Ask the OS for this computer's position (once), then find who is near it."""
        if self.position_source is None:
            try:
                from PySide6.QtPositioning import QGeoPositionInfoSource

                self.use_position_source(QGeoPositionInfoSource.createDefaultSource(self))
            except ImportError:
                pass
        if self.position_source is None:
            self.say("This computer has no position source (GPS or location service): pick a town or type "
                     "coordinates instead.")
            return
        self.say("Asking this computer where it is…")
        self.position_source.requestUpdate(15_000)

    def use_position_source(self, source: Any) -> None:
        """Where "My position" comes from (a QGeoPositionInfoSource; the OS default unless set)."""
        self.position_source = source
        if source is None:
            return
        source.positionUpdated.connect(self._position_arrived)
        source.errorOccurred.connect(lambda error: self.say(
            f"No position from this computer ({str(error).rsplit('.', 1)[-1]}): pick a town or type coordinates."))

    def _position_arrived(self, info: Any) -> None:
        c = info.coordinate()
        if not c.isValid():
            self.say("This computer gave no valid position: pick a town or type coordinates.")
            return
        self.place.setEditText(f"{c.latitude():.5f}, {c.longitude():.5f}")
        self.near_point(c.latitude(), c.longitude(), "my position")

    def near_customer(self, customer_id: str) -> None:
        row = self._services.maps.place_of(customer_id)
        if row is None:
            self.say("This customer has no position (no town or parish on their address).")
            return
        self.place.setEditText(f"{row[1]:.5f}, {row[2]:.5f}")
        self.near_point(row[1], row[2], f"near {row[0]}")

    def near_point(self, lat: float, lon: float, label: str) -> None:
        cache, maps, radius = self._services.cache, self._services.maps, self.radius.value()
        alert = self.alert_me.isChecked()
        profile = self._services.settings.profile()
        territories = tuple(profile.territory) if profile is not None else ()

        def work(_p: Any) -> tuple[list[Nearby], list[Any]]:
            found = maps.near(lat, lon, radius, limit=NEAR_LIMIT)
            raised: list[Any] = []
            if alert:
                from c360_desktop.core.alerts.proximity import raise_proximity_alerts

                raised = raise_proximity_alerts(cache, lat, lon, radius, label, territories)
            return found, raised

        def done(result: tuple[list[Nearby], list[Any]]) -> None:
            found, raised = result
            self._show_nearby(found)
            self.tabs.setCurrentIndex(2)
            many = "The nearest " if len(found) == NEAR_LIMIT else ""
            self.say(f"{many}{len(found):,} customers within {radius:g} km of {label}"
                     + (f"; {len(raised)} hot lead alert(s) raised" if raised else "") + ".")
            self.run_js(f"C360.showPlace({lat}, {lon}, {radius}, {json.dumps(label)})")
            if raised:
                self.sig_alerts_raised.emit(raised)

        self._runner.run_query(work, done, lambda exc: self.say(f"Find nearby failed: {exc}"))

    def _show_nearby(self, found: list[Nearby]) -> None:
        self.nearby = found
        self._listed_ids = [n.customer_id for n in found]
        t = self.near_table
        t.setRowCount(len(found))
        for i, n in enumerate(found):
            cells = (n.name, f"{n.distance_km:.2f} km" if n.distance_km >= 0 else "—", "—" if n.lead_score is None else f"{n.lead_score:.0f}",
                     local_datetime(n.last_contact_at) if n.last_contact_at else "never")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (1, 2):
                    item.setTextAlignment(RIGHT)
                t.setItem(i, j, item)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self._listed_ids):
            self.sig_customer_requested.emit(self._listed_ids[row])

    def _open_key(self, key: int) -> None:
        customer_id = self._services.maps.customer_by_key(key)
        if customer_id is None:
            self.say("That customer is no longer in the cache.")
            return
        self.sig_customer_requested.emit(customer_id)

    def _list_keys(self, keys: list[int]) -> None:
        if not keys:
            return
        rows = self._services.maps.at_keys(keys)
        self._show_nearby(rows)
        self.tabs.setCurrentIndex(2)
        self.say(f"{len(rows):,} customers at this spot (placed by town or sharing an address); "
                 "double-click one to open them.")


def _jmd(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.1f}M"
    return f"{value:,.0f}"
