"""The host side of plugin_api: what a plugin's ``register(context)`` receives in the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from c360_desktop.core.services import Services
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.workers import TaskRunner


class PluginHost:
    capabilities = frozenset({"ui", "connectors"})

    def __init__(self, window: MainWindow, services: Services, runner: TaskRunner) -> None:
        self._window = window
        self.services = services
        self.runner = runner
        self._viewer: Callable[[str], None] | None = None
        self._current: str | None = None
        self.connectors: dict[str, Any] = {}
        self.panes: dict[str, Any] = {}

    def add_pane(self, widget: Any, title: str, object_name: str, area: str = "left",
                 visible: bool = True) -> None:
        self._window.add_pane(widget, title, object_name, area, visible)
        self.panes[object_name] = widget

    def add_action(self, text: str, shortcut: str | None, callback: Callable[[], None],
                   menu: str = "Go") -> None:
        self._window.add_action(text, shortcut, callback, menu)

    def set_customer_viewer(self, viewer: Callable[[str], None]) -> None:
        self._viewer = viewer

    def add_connector(self, connector: Any) -> None:
        self.connectors[connector.NAME] = connector

    def current_customer(self) -> str | None:
        return self._current

    def open_customer(self, customer_id: str) -> None:
        self._current = customer_id
        if self._viewer is None:
            self._window.statusBar().showMessage("No customer view is installed.", 5000)
            return
        self._viewer(customer_id)
