"""Customer 360: a header card with who the customer is and how they buy, and tabs for the
timeline, the source records that make up the customer, and notes."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.models import UnifiedCustomerProfile
from c360_desktop.core.services import Services
from c360_desktop.ui.panes.profile.consent import ConsentTab
from c360_desktop.ui.panes.profile.header import HeaderCard
from c360_desktop.ui.panes.profile.model import TimelineModel
from c360_desktop.ui.panes.profile.notes import NotesTab
from c360_desktop.ui.panes.profile.sources import SourcesTab
from c360_desktop.ui.workers import TaskRunner

_FITTED_COLUMNS = (0, 1, 3, 4)  # When, What, Amount, Sentiment; Details (2) stretches


class TimelineView(QTableView):
    """Pages arrive from a worker after the view is shown, and Qt does not re-measure columns for
    inserted rows; this view fits the short columns whenever rows land. (An override, not a signal
    connection: a connection from the model to the pane would tie them in a reference cycle that
    the garbage collector may break on a worker thread, destroying widgets off the GUI thread.)"""

    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        for col in _FITTED_COLUMNS:
            self.resizeColumnToContents(col)


class ProfilePane(QWidget):
    sig_profile_shown = Signal(str)
    """A customer's profile is on screen; carries the customer id."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self._customer: str | None = None
        self.placeholder = QLabel("Find a customer with Ctrl+K and press Enter to see their 360 view.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.header = HeaderCard()
        self.timeline_model = TimelineModel(services.profiles, runner)
        self.timeline = TimelineView()
        self.timeline.setModel(self.timeline_model)
        self.timeline.verticalHeader().hide()
        self.timeline.setWordWrap(False)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        th = self.timeline.horizontalHeader()
        for col in _FITTED_COLUMNS:
            th.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        th.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.sources = SourcesTab()
        self.notes = NotesTab(services, runner)
        self.consent = ConsentTab(services, runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline, "&Timeline")
        self.tabs.addTab(self.sources, "&Source records")
        self.tabs.addTab(self.notes, "&Notes")
        self.tabs.addTab(self.consent, "Co&nsent")
        content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.header)
        cl.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        layout.addWidget(self.error)

    @property
    def customer_id(self) -> str | None:
        return self._customer

    def show_customer(self, customer_id: str) -> None:
        self._customer = customer_id
        self.error.hide()

        def done(profile: UnifiedCustomerProfile) -> None:
            if customer_id != self._customer:
                return
            self.header.show_profile(profile)
            self.sources.show_sources(profile)
            self.notes.show_notes(customer_id, profile.notes)
            self.consent.show_consents(customer_id, profile.consents)
            self.timeline_model.set_customer(customer_id)
            self.stack.setCurrentIndex(1)
            self.sig_profile_shown.emit(customer_id)

        def failed(exc: BaseException) -> None:
            if customer_id == self._customer:
                self.error.setText(f"Could not open this customer: {exc}")
                self.error.show()

        self._runner.run_query(lambda _p: self._services.profiles.get(customer_id), done, failed)
