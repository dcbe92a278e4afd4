"""Customer 360 pane: the whole customer on one screen (registered as a built-in plugin)."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ProfilePlugin(Plugin):
    NAME = "Customer 360"
    REQUIRES = ("ui",)
    ORDER = 20

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.profile.pane import ProfilePane

        pane = ProfilePane(context.services, context.runner)
        context.add_pane(pane, "Customer 360", "profile_pane", area="central")
        context.set_customer_viewer(pane.show_customer)
