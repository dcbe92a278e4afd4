"""The example plugin's pane: how many source records each system holds."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class SourcesPane(QWidget):
    def __init__(self, services: Any, runner: Any) -> None:
        super().__init__()
        self._services, self._runner = services, runner
        self.counts = QLabel("Press Count to see the source systems in this cache.")
        self.counts.setWordWrap(True)
        self.count_button = QPushButton("&Count")
        self.count_button.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.count_button)
        layout.addStretch(1)

    def refresh(self) -> None:
        services = self._services
        self._runner.run_query(lambda _p: services.source_systems(), self._show)

    def _show(self, systems: list[tuple[str, int]]) -> None:
        self.counts.setText("\n".join(f"{system}: {n:,}" for system, n in systems) or "No source records.")
