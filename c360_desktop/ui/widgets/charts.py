"""Small charts (pyqtgraph), made the first time there is something to draw: start-up need not
load pyqtgraph for panes the user may never open."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyPlot(QWidget):
    """A box that holds a plain, non-interactive pyqtgraph plot once ``plot()`` is first called."""

    def __init__(self, minimum_height: int = 180, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(minimum_height)
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.widget: Any = None

    def plot(self) -> Any:
        """The plot item, cleared (made on first use)."""
        if self.widget is None:
            import pyqtgraph as pg

            self.widget = pg.PlotWidget(background="w")
            self.widget.getPlotItem().hideButtons()
            self.widget.setMouseEnabled(x=False, y=False)
            for side in ("bottom", "left"):  # no "(x0.001)" scaling of the axes: values as they are
                self.widget.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
            self.layout().addWidget(self.widget)
            self.widget.show()  # a child added to a shown widget stays hidden until told
        item = self.widget.getPlotItem()
        item.clear()
        return item
