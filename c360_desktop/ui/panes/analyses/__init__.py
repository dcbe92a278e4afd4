"""Analyses pane: cohort retention, campaigns, product affinity, the customer journey,
seasonality and the RFM distribution, as ready-made reports."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class AnalysesPlugin(Plugin):
    NAME = "Analyses"
    REQUIRES = ("ui",)
    ORDER = 7

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.analyses.pane import AnalysesPane

        pane = AnalysesPane(context.services, context.runner)
        context.add_pane(pane, "Analyses", "analyses_pane", area="bottom", visible=False)
        context.add_action("&Analyses", "Ctrl+Shift+D", lambda: refresh_and_bring_forward(pane), menu="Go")
