"""Conflict inbox pane: edits made here and centrally to the same field, side by side."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ConflictsPlugin(Plugin):
    NAME = "Sync conflicts"
    REQUIRES = ("ui",)
    ORDER = 30

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.conflicts.pane import ConflictsPane

        pane = ConflictsPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Sync conflicts", "conflicts_pane", area="bottom", visible=False)
