"""The main window: a thin shell of docks, menus and a status bar. Panes come from plugins."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from c360_desktop import __version__
from c360_desktop.core import jamaica
from c360_desktop.core.services import CacheStats
from c360_desktop.ui.format import local_datetime

_AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
LAYOUT_VERSION = 1


def bring_forward(pane: QWidget, focus: QWidget | None = None) -> None:
    """Show a pane's dock (even if the user closed it), raise it and give ``focus`` the keyboard."""
    dock = pane.parentWidget()
    if dock is not None:
        dock.show()
        dock.raise_()
    pane.window().activateWindow()
    (focus or pane).setFocus()


def refresh_and_bring_forward(pane: QWidget, focus: QWidget | None = None) -> None:
    """For a Go-menu action: the pane's data read again (its ``refresh()``), then brought forward."""
    pane.refresh()  # type: ignore[attr-defined]
    bring_forward(pane, focus)


class MainWindow(QMainWindow):
    sig_open_cache_requested = Signal()
    """The user asked to open another cache file."""
    sig_import_requested = Signal()
    """The user asked to import source records from a file."""

    def __init__(self, window_settings: QSettings) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("C360 Desktop")
        self._qsettings = window_settings
        self._menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        file_menu = self.menu("&File")
        self._add(file_menu, "&Open cache…", QKeySequence.StandardKey.Open, self.sig_open_cache_requested.emit)
        self.import_action = self._add(file_menu, "&Import source records…", "Ctrl+I",
                                       self.sig_import_requested.emit)
        file_menu.addSeparator()
        self._add(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.menu("&Go")
        self.view_menu = self.menu("&View")
        help_menu = self.menu("&Help")
        self._add(help_menu, "&About C360 Desktop", None, self.show_about)
        self.cache_label = QLabel()
        self.count_label = QLabel()
        self.sync_label = QLabel()
        for label in (self.cache_label, self.count_label, self.sync_label):
            self.statusBar().addPermanentWidget(label)
        self.resize(1280, 800)

    def menu(self, title: str) -> QMenu:
        key = title.replace("&", "")
        if key not in self._menus:
            self._menus[key] = self.menuBar().addMenu(title)
        return self._menus[key]

    def _add(self, menu: QMenu, text: str, shortcut: QKeySequence.StandardKey | str | None,
             callback: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(lambda _checked=False: callback())
        menu.addAction(action)
        return action

    def add_action(self, text: str, shortcut: str | None, callback: Callable[[], object], menu: str = "Go") -> QAction:
        return self._add(self.menu(f"&{menu}"), text, shortcut, callback)

    def add_pane(self, widget: QWidget, title: str, object_name: str, area: str = "left",
                 visible: bool = True) -> None:
        if area == "central":
            widget.setObjectName(object_name)
            self.setCentralWidget(widget)
            return
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        self.addDockWidget(_AREAS.get(area, Qt.DockWidgetArea.LeftDockWidgetArea), dock)
        self.view_menu.addAction(dock.toggleViewAction())
        self.docks[object_name] = dock
        dock.setVisible(visible)

    def show_stats(self, stats: CacheStats) -> None:
        kind = "demo data" if stats.demo else "cache"
        self.cache_label.setText(f"{kind}: {stats.path.name}")
        self.cache_label.setToolTip(str(stats.path))
        self.count_label.setText(f"{stats.customers:,} customers")
        self.sync_label.setText(
            f"Last sync: {local_datetime(stats.last_sync_at)}" if stats.last_sync_at
            else "Last sync: never (offline cache)")

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About C360 Desktop",
            f"<h3>C360 Desktop {__version__}</h3>"
            "<p>Every customer, whole: identity, history, scores and next best action, "
            "working offline from a local cache.</p>"
            f"<p><b>Data attributions.</b> {jamaica.ATTRIBUTION}</p>"
            "<p>Built with Qt for Python (PySide6, LGPLv3), SQLite, SQLAlchemy, pydantic, "
            "phonenumbers, rapidfuzz and holidays.</p>")

    # -- layout persistence ------------------------------------------------------------------
    def restore_layout(self) -> None:
        """The saved geometry and dock layout, or the default layout once the window is shown."""
        geometry = self._qsettings.value("main_window/geometry")
        state = self._qsettings.value("main_window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if not (isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION)):
            QTimer.singleShot(0, self.default_layout)

    def default_layout(self) -> None:
        left = [d for d in self.docks.values() if self.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea]
        if left:
            self.resizeDocks(left, [int(self.width() * 0.45)] * len(left), Qt.Orientation.Horizontal)

    def save_layout(self) -> None:
        self._qsettings.setValue("main_window/geometry", self.saveGeometry())
        self._qsettings.setValue("main_window/state", self.saveState(LAYOUT_VERSION))
        self._qsettings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
