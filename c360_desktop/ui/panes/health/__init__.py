"""Health pane: the central database, Kafka, the cache, sync, models and disk, green/amber/red."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class HealthPlugin(Plugin):
    NAME = "Health"
    REQUIRES = ("ui",)
    ORDER = 90

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.health.pane import HealthPane

        pane = HealthPane(context.services, context.runner)
        context.add_pane(pane, "Health", "health_pane", area="bottom", visible=False)
        context.add_action("&Health", "Ctrl+Shift+H", lambda: refresh_and_bring_forward(pane), menu="Help")
