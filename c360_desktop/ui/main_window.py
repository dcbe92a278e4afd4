"""The main window: a thin shell of docks, menus and a status bar. Panes come from plugins.

The layout fits a laptop screen (1366 x 768): the lookup pane docks on the left and every other
pane is a tab in one dock area beside it (the Customer 360 first), so opening panes never makes
the window wider or taller than the screen. Each pane sits in a scroll area, so a pane larger
than the room it has scrolls instead of pushing the window out. The user can still drag tabs
apart, split and float them; the layout is kept between runs."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from c360_desktop import __version__
from c360_desktop.core import jamaica
from c360_desktop.core.services import CacheStats
from c360_desktop.ui.format import local_datetime

SIDE = Qt.DockWidgetArea.LeftDockWidgetArea  # the "left" panes (lookup)
TABS = Qt.DockWidgetArea.RightDockWidgetArea  # every other pane, as tabs
LAYOUT_VERSION = 2  # 2: one tab area instead of a central 360 view and docks around it
DEFAULT_SIZE = (1280, 800)
SIDE_SHARE = 0.3  # of the window's width, for the lookup pane by default
LOADED = "c360_loaded"  # a dock property: its pane's refresh() has run


def dock_of(pane: QWidget) -> QDockWidget | None:
    """The dock a pane is shown in (it sits in a scroll area inside it), if any."""
    w = pane.parentWidget()
    while w is not None and not isinstance(w, QDockWidget):
        w = w.parentWidget()
    return w


def show_tab(pane: QWidget) -> None:
    """Show a pane's dock and raise its tab, leaving the keyboard where it is."""
    dock = dock_of(pane)
    if dock is not None:
        dock.show()
        dock.raise_()


def bring_forward(pane: QWidget, focus: QWidget | None = None) -> None:
    """Show a pane's dock (even if the user closed it), raise it and give ``focus`` the keyboard."""
    show_tab(pane)
    pane.window().activateWindow()
    (focus or pane).setFocus()


def refresh_and_bring_forward(pane: QWidget, focus: QWidget | None = None) -> None:
    """For a Go-menu action: the pane's data read again (its ``refresh()``), then brought forward."""
    dock = dock_of(pane)
    if dock is not None:
        dock.setProperty(LOADED, True)  # read here: its first showing need not read it again
    pane.refresh()  # type: ignore[attr-defined]
    bring_forward(pane, focus)


class MainWindow(QMainWindow):
    sig_open_cache_requested = Signal()
    """The user asked to open another cache file."""
    sig_import_requested = Signal()
    """The user asked to import source records from a file."""
    sig_closing = Signal()
    """The window is closing: the background work that belongs to it stops."""
    sig_diagnostics_requested = Signal()
    """The user asked for Help > Diagnostics."""

    def __init__(self, window_settings: QSettings) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("C360 Desktop")
        self._qsettings = window_settings
        self._menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._first_tab: str | None = None  # the "central" pane leads the tabs
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        placeholder = QWidget()  # QMainWindow needs a central widget; hidden, the docks share the room
        placeholder.setObjectName("no_central_widget")
        self.setCentralWidget(placeholder)
        placeholder.hide()
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        file_menu = self.menu("&File")
        self._add(file_menu, "&Open cache…", QKeySequence.StandardKey.Open, self.sig_open_cache_requested.emit)
        self.import_action = self._add(file_menu, "&Import source records…", "Ctrl+I",
                                       self.sig_import_requested.emit)
        self._file_tail = file_menu.addSeparator()  # later File entries go above it, Quit stays last
        self._add(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.menu("&Go")
        self.view_menu = self.menu("&View")
        help_menu = self.menu("&Help")
        self._add(help_menu, "&Diagnostics…", None, self.sig_diagnostics_requested.emit)
        help_menu.addSeparator()
        self._add(help_menu, "&About C360 Desktop", None, self.show_about)
        self.cache_label = QLabel()
        self.count_label = QLabel()
        self.sync_label = QLabel()
        for label in (self.cache_label, self.count_label, self.sync_label):
            self.statusBar().addPermanentWidget(label)
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """The default size, or the screen's available room where that is smaller (a laptop)."""
        screen = self.screen() or QApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        w, h = DEFAULT_SIZE
        if room is not None:
            # the frame (title bar, borders) comes on top of the size asked for
            w, h = min(w, room.width() - 16), min(h, room.height() - 40)
        self.resize(w, h)
        if room is not None:
            self.move(room.topLeft())

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
        tail = getattr(self, "_file_tail", None)
        if tail is not None and menu is self._menus.get("File"):
            menu.insertAction(tail, action)
        else:
            menu.addAction(action)
        return action

    def add_action(self, text: str, shortcut: str | None, callback: Callable[[], object], menu: str = "Go") -> QAction:
        return self._add(self.menu(f"&{menu}"), text, shortcut, callback)

    def add_pane(self, widget: QWidget, title: str, object_name: str, area: str = "left",
                 visible: bool = True) -> None:
        """A pane in its own dock: ``area`` "left" beside the tabs, anything else ("central",
        "right", "bottom") a tab; "central" leads the tabs."""
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        scroll = QScrollArea()
        scroll.setObjectName(f"{object_name}_scroll")
        scroll.setWidgetResizable(True)  # the pane fills the dock, and scrolls only past its minimum
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        dock.setFocusProxy(widget)
        side = area == "left"
        self.addDockWidget(SIDE if side else TABS, dock)
        if area == "central":
            self._first_tab = object_name
        self.view_menu.addAction(dock.toggleViewAction())
        self.docks[object_name] = dock
        if hasattr(widget, "refresh"):  # a pane with data reads it when its tab is first shown
            dock.visibilityChanged.connect(lambda shown, d=dock, w=widget: self._first_shown(shown, d, w))
        dock.setVisible(visible)

    @staticmethod
    def _first_shown(shown: bool, dock: QDockWidget, pane: QWidget) -> None:
        if shown and not dock.property(LOADED):
            dock.setProperty(LOADED, True)
            pane.refresh()  # type: ignore[attr-defined]

    def arrange(self) -> None:
        """The default arrangement: the side panes stacked as tabs on the left, every other pane
        a tab in one area (the "central" one first)."""
        side = [d for d in self.docks.values() if self.dockWidgetArea(d) == SIDE]
        tabs = [d for d in self.docks.values() if self.dockWidgetArea(d) != SIDE]
        if self._first_tab is not None:
            tabs.sort(key=lambda d: d.objectName() != self._first_tab)  # stable: the rest keep their order
        for group, area in ((side, SIDE), (tabs, TABS)):
            for dock in group:
                if self.dockWidgetArea(dock) != area or dock.isFloating():
                    dock.setFloating(False)
                    self.addDockWidget(area, dock)
            for dock in group[1:]:
                self.tabifyDockWidget(group[0], dock)

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
    def restore_layout(self, open_first: tuple[str, ...] = ()) -> None:
        """The saved geometry and dock layout, or the default layout: ``open_first`` names the
        panes (object names) opened beside the always-open ones, the first of them in front."""
        geometry = self._qsettings.value("main_window/geometry")
        state = self._qsettings.value("main_window/state")
        self.arrange()
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if not (isinstance(state, QByteArray) and self.restoreState(state, LAYOUT_VERSION)):
            for name in open_first:
                if name in self.docks:
                    self.docks[name].show()
            QTimer.singleShot(0, lambda: self.default_layout(open_first))

    def default_layout(self, open_first: tuple[str, ...] = ()) -> None:
        side = [d for d in self.docks.values() if self.dockWidgetArea(d) == SIDE and d.isVisible()]
        tabs = [d for d in self.docks.values() if self.dockWidgetArea(d) == TABS and d.isVisible()]
        if side and tabs:
            self.resizeDocks([side[0], tabs[0]], [int(self.width() * SIDE_SHARE), int(self.width() * (1 - SIDE_SHARE))],
                             Qt.Orientation.Horizontal)
        front = next((self.docks[n] for n in open_first if n in self.docks), None)
        if front is not None:
            front.raise_()

    def save_layout(self) -> None:
        self._qsettings.setValue("main_window/geometry", self.saveGeometry())
        self._qsettings.setValue("main_window/state", self.saveState(LAYOUT_VERSION))
        self._qsettings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.sig_closing.emit()
        super().closeEvent(event)
