"""Lead queue pane: who to call next, and why."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class LeadsPlugin(Plugin):
    NAME = "Lead queue"
    REQUIRES = ("ui",)
    ORDER = 35

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.leads.pane import LeadsPane

        pane = LeadsPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Lead queue", "leads_pane", area="bottom", visible=False)
        context.add_action("&Lead queue", "F8", lambda: _show(pane), menu="Go")


def _show(pane) -> None:  # type: ignore[no-untyped-def]
    from c360_desktop.ui.main_window import bring_forward

    pane.refresh()
    bring_forward(pane, pane.table)
