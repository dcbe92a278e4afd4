"""Lead queue pane: who to call next, and why."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class LeadsPlugin(Plugin):
    NAME = "Lead queue"
    REQUIRES = ("ui",)
    ORDER = 35

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.leads.pane import LeadsPane

        pane = LeadsPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Lead queue", "leads_pane", area="bottom", visible=False)
        context.add_action("&Lead queue", "F8", lambda: refresh_and_bring_forward(pane, pane.table), menu="Go")
