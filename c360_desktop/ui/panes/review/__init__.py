"""Identity review queue pane: uncertain customer pairs, decided one key at a time."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ReviewPlugin(Plugin):
    NAME = "Identity review"
    REQUIRES = ("ui",)
    ORDER = 45

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.review.pane import ReviewPane

        pane = ReviewPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Identity review", "review_pane", area="bottom", visible=False)
        context.add_action("Identity &review", "F6", lambda: refresh_and_bring_forward(pane), menu="Go")
