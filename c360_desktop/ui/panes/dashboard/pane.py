"""The KPI dashboard: one tile per key figure (value, change against the same days last year, a
twelve-month sparkline), laid out for the user's role; a tile opens the figure by parish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.progress import Progress
from c360_desktop.core.reports.export import Table, table_of
from c360_desktop.core.reports.formatting import figure
from c360_desktop.core.reports.kpi import (
    LAYOUTS,
    Tile,
    kpis,
    last_day,
    layout_of,
    monthly,
    scope_words,
)
from c360_desktop.core.reports.query import ReportQuery, ReportResult
from c360_desktop.core.reports.semantic import MEASURES
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.widgets.export import ExportButton
from c360_desktop.ui.widgets.figures import fill_table
from c360_desktop.ui.workers import TaskHandle, TaskRunner

GOOD, BAD, FLAT = "#1b7f3b", "#b3261e", "#555555"
COLUMNS = 4  # at most; fewer where the pane is narrower than that many tiles
TILE_WIDTH = 250  # the narrowest a tile is laid out


@dataclass
class Filled:
    tiles: list[Tile]
    months: list[str]
    series: dict[str, list[float]]  # measure label -> the last twelve months' values


class TileWidget(QFrame):
    sig_opened = Signal(str)
    """The user clicked the tile (carries the measure's name)."""
    sig_arranged = Signal(str, str)
    """From the tile's context menu: (measure, "remove" | "left" | "right")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setObjectName("kpi_tile")
        self.setStyleSheet("#kpi_tile { background: white; border: 1px solid #d0d7de; border-radius: 6px; }")
        self.measure = ""
        self.label = QLabel()
        self.label.setStyleSheet("color: #444; font-weight: 600;")
        self.value = QLabel("…")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.value.setFont(font)
        self.change = QLabel()
        self.change.setWordWrap(True)
        self.against_target = QLabel()
        self.against_target.setWordWrap(True)
        self.spark = LazyPlot(44)
        self.spark.setMaximumHeight(52)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(2)
        for w in (self.label, self.value, self.change, self.against_target, self.spark):
            layout.addWidget(w)

    def show_tile(self, tile: Tile, months: list[str], values: list[float]) -> None:
        self.measure = tile.measure
        self.label.setText(tile.label)
        self.value.setText(tile.text)
        self.setToolTip(f"{tile.label}, {tile.period[0]} to {tile.period[1]}; click for it by parish")
        if tile.change is None:
            self.change.setText(f"no figure for {tile.against}")
            colour = FLAT
        else:
            rising_is_good = tile.measure not in ("cpa", "churn_rate")
            good = (tile.change >= 0) == rising_is_good
            colour = FLAT if abs(tile.change) < 0.005 else (GOOD if good else BAD)
            arrow = "▲" if tile.change > 0 else ("▼" if tile.change < 0 else "■")
            self.change.setText(f"{arrow} {tile.change:+.1%} against {tile.against} "
                                f"({figure(tile.previous, tile.unit)})")
        self.change.setStyleSheet(f"color: {colour};")
        share = tile.of_target
        if share is None:
            self.against_target.setText("no target set")
            self.against_target.setStyleSheet(f"color: {FLAT};")
        else:
            lower_is_better = tile.measure in ("cpa", "churn_rate")
            on_target = (share <= 1) if lower_is_better else (share >= 1)
            self.against_target.setText(f"{'●' if on_target else '○'} {share:.0%} of target "
                                        f"({figure(tile.target, tile.unit)} to date)")
            self.against_target.setStyleSheet(f"color: {GOOD if on_target else BAD}; font-weight: 600;")
        if len(values) > 1:
            import pyqtgraph as pg

            plot = self.spark.plot()
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.plot(list(range(len(values))), values, pen=pg.mkPen(colour, width=2))
            self.spark.widget.setToolTip(f"Monthly, {months[0]} to {months[-1]}")

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt's name)
        menu = QMenu(self)
        for text, action in (("Move &left", "left"), ("Move &right", "right"), ("&Remove this tile", "remove")):
            menu.addAction(text, lambda a=action: self.sig_arranged.emit(self.measure, a))
        menu.exec(event.globalPos())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton and self.measure:
            self.sig_opened.emit(self.measure)
        super().mousePressEvent(event)


class DashboardPane(QWidget):
    sig_report_opened = Signal(str)
    """A tile was opened (carries the measure's name)."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.task: TaskHandle | None = None
        self.filled: Filled | None = None
        self.detail_result: ReportResult | None = None
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.status = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.progress)
        top.addWidget(self.refresh_button)
        self.tiles_button = QPushButton("&Tiles…")
        self.tiles_button.setToolTip("Add, remove and reorder this dashboard's tiles")
        self.tiles_button.clicked.connect(self.edit_tiles)
        top.addWidget(self.tiles_button)
        self.export_button = ExportButton(services, runner, self.tables_shown, self.status.setText)
        self.export_button.bind_shortcut(self)
        top.addWidget(self.export_button)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        self.tiles: list[TileWidget] = []
        self._columns = 0  # tiles a row as last laid out
        self.detail_title = QLabel()
        self.detail_title.setStyleSheet("font-weight: 600;")
        self.detail = QTableWidget(0, 0)
        self.detail.verticalHeader().hide()
        self.detail.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.detail.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(self.grid)
        layout.addWidget(self.detail_title)
        layout.addWidget(self.detail, 100)
        layout.addStretch(1)  # with no detail open, the tiles stay at the top
        self.sig_report_opened.connect(self.open_detail)

    def tables_shown(self) -> list[Table]:
        """The tiles as a table, and the figure opened from one, for export."""
        out = []
        if self.filled is not None and self.filled.tiles:
            import pandas as pd

            tiles = self.filled.tiles
            frame = pd.DataFrame({"Figure": [t.label for t in tiles], "Value": [t.text for t in tiles],
                                  "Same days last year": [figure(t.previous, t.unit) for t in tiles],
                                  "Change": [t.change for t in tiles]})
            start, end = tiles[0].period
            out.append(Table(f"{self.layout_name.replace('_', ' ')} dashboard", f"{start} to {end}, against the "
                             "same days last year", frame, {"Change": "pct"}))
        if self.detail_result is not None:
            out.append(table_of(self.detail_result))
        return out

    @property
    def layout_name(self) -> str:
        return layout_of(self._services.user.role.value)

    @property
    def measures(self) -> tuple[str, ...]:
        """The tiles in order: the user's arrangement of this layout, else its default."""
        mine = self._services.settings.dashboard_tiles.get(self.layout_name)
        return tuple(mine) if mine else LAYOUTS[self.layout_name]

    def set_tiles(self, names: list[str] | None) -> TaskHandle | None:
        """Show these tiles in this order (None: the layout's default), kept in the settings."""
        from c360_desktop.core.settings import save_settings

        tiles = dict(self._services.settings.dashboard_tiles)
        if names is None or tuple(names) == LAYOUTS[self.layout_name]:
            tiles.pop(self.layout_name, None)
        else:
            tiles[self.layout_name] = list(names)
        try:
            self._services.settings.dashboard_tiles = tiles  # validated: unknown names are refused
            save_settings(self._services.settings)
        except (ValueError, OSError) as exc:
            self.status.setText(f"Could not keep the tiles: {exc}")
            return None
        return self.refresh()

    def edit_tiles(self) -> None:
        dialog = TilesDialog(list(self.measures), self)
        if dialog.exec():
            self.set_tiles(dialog.chosen())

    def columns(self) -> int:
        """How many tiles a row holds at the pane's width (1 to COLUMNS)."""
        return max(1, min(COLUMNS, self.width() // TILE_WIDTH))

    def _regrid(self, force: bool = False) -> None:
        columns = self.columns()
        if not force and columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles:
            self.grid.removeWidget(tile)
        for n, tile in enumerate(self.tiles):
            self.grid.addWidget(tile, n // columns, n % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._regrid()

    def _tile_menu(self, name: str, action: str) -> None:
        names = list(self.measures)
        i = names.index(name)
        if action == "remove" and len(names) > 1:
            names.pop(i)
        elif action == "left" and i > 0:
            names[i - 1], names[i] = names[i], names[i - 1]
        elif action == "right" and i < len(names) - 1:
            names[i + 1], names[i] = names[i], names[i + 1]
        self.set_tiles(names)

    def refresh(self) -> TaskHandle | None:
        if self.task is not None:
            return self.task
        reports, role = self._services.reports, self.layout_name
        measures = self.measures

        def work(progress: Progress) -> Filled:
            reports.prepare(progress)  # the first time: builds the columnar copy
            end = last_day(reports)
            tiles = kpis(reports, role, end, measures)
            # the sparkline: the twelve complete months before this one
            last = end.replace(day=1) - timedelta(days=1)
            first = date(last.year - 1, last.month, 1) + timedelta(days=31)
            months, series = monthly(reports, measures, first.replace(day=1), last)
            return Filled(tiles, months, series)

        self.status.setText("Reading the figures…")
        self.refresh_button.setEnabled(False)
        self.task = self._runner.run_query(work, self._filled, self._failed, self._progressed)
        return self.task

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setVisible(True)
        self.progress.setValue(int(fraction * 100))
        self.status.setText(message)

    def _settled(self) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.refresh_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self._settled()
        self.status.setText(f"Could not read the figures: {exc}")

    def _filled(self, filled: Filled) -> None:
        self._settled()
        self.filled = filled
        user = self._services.user
        start, end = filled.tiles[0].period if filled.tiles else ("", "")
        where = scope_words(user)
        self.title.setText(f"{self.layout_name.replace('_', ' ').capitalize()} dashboard: month to date")
        self.status.setText(f"{start} to {end}, {where}, against the same days last year. "
                            f"Data as of {self._services.reports.data_as_of()}.")
        while len(self.tiles) < len(filled.tiles):
            tile = TileWidget()
            tile.sig_opened.connect(self.sig_report_opened)
            tile.sig_arranged.connect(self._tile_menu)
            self.tiles.append(tile)
        self._regrid(force=True)
        for widget, tile in zip(self.tiles, filled.tiles, strict=False):
            widget.show_tile(tile, filled.months, filled.series.get(tile.label, []))
            widget.setVisible(True)
        for widget in self.tiles[len(filled.tiles):]:
            widget.setVisible(False)

    def open_detail(self, name: str) -> TaskHandle | None:
        """The figure behind a tile: by parish over the tile's period, against last year."""
        if self.filled is None:
            return None
        tile = next(t for t in self.filled.tiles if t.measure == name)
        start, end = (date.fromisoformat(d) for d in tile.period)
        reports = self._services.reports
        by = "campaign" if name in ("campaign_spend", "cpa") else "parish"
        q = ReportQuery((name,), (by,), start, end, compare="last_year")
        self.detail_title.setText(f"{tile.label} by {by}, {tile.period[0]} to {tile.period[1]}")
        return self._runner.run_query(lambda _p: reports.query(q), self._show_detail,
                                      lambda exc: self.detail_title.setText(f"Could not read it: {exc}"))

    def _show_detail(self, result: ReportResult) -> None:
        self.detail_result = result
        fill_table(self.detail, result.frame, result.units)
        self.detail.setVisible(True)


class TilesDialog(QDialog):
    """Tick the figures to show and drag them into order (or Alt+Up / Alt+Down)."""

    def __init__(self, current: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dashboard tiles")
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        for name in [*current, *(m for m in MEASURES if m not in current)]:
            item = QListWidgetItem(f"{MEASURES[name].label}: {MEASURES[name].formula}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in current else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        up, down = QPushButton("Move &up"), QPushButton("Move &down")
        up.setShortcut("Alt+Up")
        down.setShortcut("Alt+Down")
        up.clicked.connect(lambda: self.move(-1))
        down.clicked.connect(lambda: self.move(1))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addWidget(up)
        side.addWidget(down)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tick the figures to show; drag them, or use the buttons, to order them."))
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def move(self, by: int) -> None:
        row = self.list.currentRow()
        if 0 <= row + by < self.list.count():
            item = self.list.takeItem(row)
            self.list.insertItem(row + by, item)
            self.list.setCurrentRow(row + by)

    def chosen(self) -> list[str] | None:
        names = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                 if self.list.item(i).checkState() == Qt.CheckState.Checked]
        return names or None
