"""Audit pane: this desktop's hash-chained audit trail, filtered, verified and exported."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class AuditPlugin(Plugin):
    NAME = "Audit"
    REQUIRES = ("ui",)
    ORDER = 87

    def register(self, context: PluginContext) -> None:
        from c360_desktop.core.security import Permission, can
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.audit.pane import AuditPane

        if not can(context.services.user, Permission.VIEW_AUDIT):
            return  # the trail is for data stewards and admins: no pane, no menu entry
        pane = AuditPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Audit", "audit_pane", area="bottom", visible=False)
        context.add_action("&Audit trail", "Ctrl+Shift+T", lambda: refresh_and_bring_forward(pane), menu="Go")
