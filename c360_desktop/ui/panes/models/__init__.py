"""Model dashboard pane: held-out curves, calibration, drivers, drift and forecasts, with retraining."""

from __future__ import annotations

from c360_desktop.plugin_api import Plugin, PluginContext


class ModelsPlugin(Plugin):
    NAME = "Model dashboard"
    REQUIRES = ("ui",)
    ORDER = 50

    def register(self, context: PluginContext) -> None:
        from c360_desktop.ui.main_window import refresh_and_bring_forward
        from c360_desktop.ui.panes.models.pane import ModelsPane

        pane = ModelsPane(context.services, context.runner)
        context.add_pane(pane, "Model dashboard", "models_pane", area="bottom", visible=False)
        context.add_action("&Model dashboard", "Ctrl+M", lambda: refresh_and_bring_forward(pane), menu="Go")
        context.add_action("Retrain &all models", "Ctrl+Shift+R", lambda: pane.retrain("all"), menu="Tools")
