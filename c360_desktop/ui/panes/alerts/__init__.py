"""Alerts pane: live alerts from Kafka, with rules and dead letters (see ui/alerts_controller.py)."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class AlertsPlugin(Plugin):
    NAME = "Alerts"
    REQUIRES = ("ui",)
    ORDER = 40

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.alerts.pane import AlertsPane

        pane = AlertsPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        # Hidden until there is something to show (or F9): without Kafka it would only take room.
        context.add_pane(pane, "Alerts", "alerts_pane", area="bottom", visible=False)
