"""Data-quality pane: rules, trends, failing rows and the stewardship queue."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class QualityPlugin(Plugin):
    NAME = "Data quality"
    REQUIRES = ("ui",)
    ORDER = 85

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.quality.pane import QualityPane

        pane = QualityPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Data quality", "quality_pane", area="bottom", visible=False)
        context.add_action("Data &quality", "Ctrl+Shift+U", lambda: refresh_and_bring_forward(pane), menu="Go")
