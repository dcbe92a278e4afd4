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
        from c360_desktop.ui.main_window import show_tab

        def view(customer_id: str) -> None:  # the 360 view is a tab: it comes to the front
            pane.show_customer(customer_id)
            show_tab(pane)

        context.set_customer_viewer(view)
