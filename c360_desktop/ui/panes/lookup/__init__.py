"""Customer lookup pane: search as you type (registered as a built-in plugin)."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class LookupPlugin(Plugin):
    NAME = "Customer lookup"
    REQUIRES = ("ui",)
    ORDER = 10

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.lookup.pane import LookupPane

        pane = LookupPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Customer lookup", "lookup_pane", area="left")
        context.add_action("&Find customer…", "Ctrl+K", pane.focus_search, menu="Go")
