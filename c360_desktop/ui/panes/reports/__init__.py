"""Report builder pane: any measures by any dimensions, charted, drilled into, saved and shared."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ReportsPlugin(Plugin):
    NAME = "Reports"
    REQUIRES = ("ui",)
    ORDER = 6

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.reports.pane import ReportBuilderPane

        pane = ReportBuilderPane(context.services, context.runner, context.open_customer)
        context.add_pane(pane, "Reports", "reports_pane", area="bottom", visible=False)
        context.add_action("&Reports", "Ctrl+R", lambda: refresh_and_bring_forward(pane), menu="Go")

        def campaign_list() -> None:
            from c360_desktop.ui.widgets.campaign_list import CampaignListDialog

            dialog = CampaignListDialog(context.services, context.runner, pane.window())
            pane._campaign_dialog = dialog  # kept while open
            dialog.show()

        context.add_action("&Campaign list…", "Ctrl+Shift+L", campaign_list, menu="Tools")
