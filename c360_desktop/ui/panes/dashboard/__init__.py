"""KPI dashboard pane: the role's key figures, month to date against last year, with sparklines."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class DashboardPlugin(Plugin):
    NAME = "Dashboard"
    REQUIRES = ("ui",)
    ORDER = 5

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.dashboard.pane import DashboardPane

        pane = DashboardPane(context.services, context.runner)
        context.add_pane(pane, "Dashboard", "dashboard_pane", area="bottom", visible=False)
        context.add_action("&Dashboard", "Ctrl+D", lambda: refresh_and_bring_forward(pane), menu="Go")
