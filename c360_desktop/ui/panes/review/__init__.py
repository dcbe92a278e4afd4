"""Identity review queue pane: uncertain customer pairs, decided one key at a time."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ReviewPlugin(Plugin):
    NAME = "Identity review"
    REQUIRES = ("ui",)
    ORDER = 45

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.panes.review.pane import ReviewPane

        pane = ReviewPane(context.services, context.runner)
        pane.sig_customer_requested.connect(context.open_customer)
        context.add_pane(pane, "Identity review", "review_pane", area="bottom", visible=False)
        context.add_action("Identity &review", "F6", lambda: _show(pane), menu="Go")


def _show(pane) -> None:  # type: ignore[no-untyped-def]
    from c360_desktop.ui.main_window import bring_forward

    pane.refresh()
    bring_forward(pane, pane)
