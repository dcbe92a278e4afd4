"""Map pane: parishes and every customer on an offline map, territory analytics and "near me"."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class MapPlugin(Plugin):
    NAME = "Map and territories"
    REQUIRES = ("ui",)
    ORDER = 40

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.map.pane import MapPane

        pane = MapPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Map and territories", "map_pane", area="right", visible=False)
        context.add_action("&Map and territories", "F7", lambda: _show(pane), menu="Go")
        context.add_action("Customers &near this one", "Shift+F7",
                           lambda: _near_current(pane, context), menu="Go")


def _show(pane) -> None:  # type: ignore[no-untyped-def]
    from c360_desktop.ui.main_window import bring_forward

    bring_forward(pane, pane.place)


def _near_current(pane, context) -> None:  # type: ignore[no-untyped-def]
    _show(pane)
    customer = context.current_customer()
    if customer is None:
        pane.say("Open a customer first (Ctrl+K), then ask for customers near them.")
    else:
        pane.near_customer(customer)
