"""Requests pane: the register of data-subject requests, with access exports and erasure."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class RequestsPlugin(Plugin):
    NAME = "Data-subject requests"
    REQUIRES = ("ui",)
    ORDER = 88

    def register(self, context: PluginContext) -> None:
        from c360_desktop.core.security import Permission, can
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.requests.pane import RequestsPane

        if not can(context.services.user, Permission.HANDLE_REQUESTS):
            return  # for data stewards and admins: no pane, no menu entry
        pane = RequestsPane(context.services, context.runner, context.current_customer)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Requests", "requests_pane", area="bottom", visible=False)
        context.add_action("Data-subject &requests", "Ctrl+Shift+J", lambda: refresh_and_bring_forward(pane),
                           menu="Go")
