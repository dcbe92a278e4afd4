"""Identity review queue: one uncertain pair at a time, side by side, with why the model thinks
what it thinks, decided with one key (Y match, N not a match, S skip, U undo the last)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.identity.review import ReviewPair
from c360_desktop.core.security import Permission, can, refusal
from c360_desktop.core.services import Services
from c360_desktop.ui.widgets import signin as signin_prompt
from c360_desktop.ui.widgets.charts import LazyPlot
from c360_desktop.ui.workers import TaskRunner

DIFFERENT = QColor("#fde7c8")
FIELD_LABELS = {"given_name": "Given name", "family_name": "Family name", "business_name": "Business",
                "date_of_birth": "Date of birth", "trn": "TRN", "street": "Street", "town": "Town",
                "parish": "Parish", "primary_phone": "Phone", "primary_email": "E-mail", "prior": "How rare matches are"}


class ReviewPane(QWidget):
    sig_customer_requested = Signal(str)
    """The user asked to open this customer's 360 view."""
    sig_decided = Signal(str)
    """A decision was recorded: match, no_match, skip or undo."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.pair: ReviewPair | None = None
        self._busy = False
        self.may_merge = can(services.user, Permission.MERGE)
        self.counter = QLabel()
        self.probability = QLabel()
        self.probability.setStyleSheet("font-weight: bold")
        self.probability.setWordWrap(True)
        self.build_button = QPushButton("&Find pairs to review")
        self.build_button.setToolTip("Compare every customer with every likely duplicate (runs in the background)")
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        bar.addWidget(self.counter)
        bar.addWidget(self.probability, 1)
        for key, label, tip in (("match", "Match (Y)", "The same customer: merge them (undo with U)"),
                                ("no_match", "Not a match (N)", "Different customers"),
                                ("skip", "Skip (S)", "Decide later"), ("undo", "Undo (U)", "Take back the last decision")):
            b = QPushButton(label)
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, k=key: self.act(k))
            bar.addWidget(b)
            self.buttons[key] = b
            if not self.may_merge:
                b.setToolTip(refusal(services.user, Permission.MERGE).capitalize())
        bar.addWidget(self.build_button)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", "Record A", "Record B"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.sectionDoubleClicked.connect(self._open_side)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)  # compact: the chart gets the room
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.chart = LazyPlot(200)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.table.setFixedHeight(11 * (self.fontMetrics().height() + 8) + self.fontMetrics().height() + 14)
        self.hint = QLabel("Y match · N not a match · S skip · U undo the last decision. Differences are "
                           "highlighted; the chart shows how each field moved the evidence (bits: +1 doubles "
                           "the odds of a match, -1 halves them). Double-click a column title to open that customer.")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.hint)
        self.build_button.clicked.connect(self.build)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.refresh()

    # ---- loading ----

    def refresh(self) -> None:
        self.pair, left = self._services.review.next_pair()
        self.counter.setText(f"{left:,} pair{'s' if left != 1 else ''} left")
        for key in ("match", "no_match", "skip"):
            self.buttons[key].setEnabled(self.pair is not None and not self._busy and self.may_merge)
        self.buttons["undo"].setEnabled(self.may_merge and not self._busy)
        if self.pair is None:
            self.probability.setText("Nothing to review. Find pairs to review compares the customers again."
                                     if left == 0 else "")
            self.table.setRowCount(0)
            if self.chart.widget is not None:
                self.chart.plot()
            return
        p = self.pair
        self.probability.setText(f"Match probability {100 * p.probability:.0f}%")
        try:
            rows = self._services.review.side_by_side(p.customer_a, p.customer_b)
        except KeyError as exc:
            self.probability.setText(str(exc))
            return
        self.table.setRowCount(len(rows))
        for r, (label, a, b) in enumerate(rows):
            items = [QTableWidgetItem(label), QTableWidgetItem(a or "—"), QTableWidgetItem(b or "—")]
            items[0].setForeground(QBrush(QColor("#555555")))
            if a and b and a.casefold() != b.casefold():
                for item in items[1:]:
                    item.setBackground(QBrush(DIFFERENT))
                items[0].setToolTip("differs")
            for c, item in enumerate(items):
                self.table.setItem(r, c, item)
        self._waterfall(p)

    def _waterfall(self, p: ReviewPair) -> None:
        """Evidence in bits, field by field, from the prior to the total (a waterfall)."""
        if not self.isVisible():
            return  # drawn when shown
        import pyqtgraph as pg

        plot = self.chart.plot()
        parts = [c for c in p.contributions if c["field"] == "prior"] + \
            sorted((c for c in p.contributions if c["field"] != "prior" and abs(c["bits"]) >= 0.05),
                   key=lambda c: -abs(c["bits"]))
        start, x0, widths, colours, labels = 0.0, [], [], [], []
        for c in parts:
            x0.append(start if c["bits"] >= 0 else start + c["bits"])
            widths.append(abs(c["bits"]))
            colours.append("#2e7d32" if c["bits"] >= 0 else "#c62828")
            labels.append(f"{FIELD_LABELS.get(c['field'], c['field'])} ({c['bits']:+.1f})")
            start += c["bits"]
        x0.append(min(0.0, start))
        widths.append(abs(start))
        colours.append("#1565c0")
        labels.append(f"Total ({start:+.1f} bits = {100 * p.probability:.0f}%)")
        bars = pg.BarGraphItem(x0=x0, y=list(range(len(widths))), height=0.65, width=widths,
                               brushes=[pg.mkBrush(c) for c in colours], pens=[pg.mkPen(None)] * len(widths))
        plot.addItem(bars)
        plot.addLine(x=0, pen=pg.mkPen("#888888", width=1))
        axis = plot.getAxis("left")
        axis.setTicks([list(enumerate(labels))])
        axis.setWidth(max(120, max(self.fontMetrics().horizontalAdvance(t) for t in labels) + 16))
        plot.setLabel("bottom", "evidence for a match, in bits")
        plot.getViewBox().invertY(True)
        plot.getViewBox().autoRange(padding=0.05)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.pair is not None and self.chart.widget is None:
            QTimer.singleShot(0, self.refresh)  # once the pane has its size

    # ---- deciding ----

    KEYS = {Qt.Key.Key_Y: "match", Qt.Key.Key_N: "no_match", Qt.Key.Key_S: "skip", Qt.Key.Key_U: "undo"}

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        """Y, N, S, U anywhere in the pane (keys the buttons and the table do not use)."""
        action = self.KEYS.get(Qt.Key(event.key()))
        if action is not None and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.act(action)
            event.accept()
            return
        super().keyPressEvent(event)

    def act(self, action: str) -> None:
        if self._busy:
            return
        review, user, settings = self._services.review, self._services.user.name, self._services.settings
        pair_id = self.pair.id if self.pair is not None else None
        if action != "undo" and pair_id is None:
            return

        def work(_p: Any) -> Any:
            if action == "undo":
                return review.undo_last(user)
            return review.decide(pair_id, action, user, settings)  # type: ignore[arg-type]

        self._busy = True
        for b in self.buttons.values():
            b.setEnabled(False)

        def done(_result: Any) -> None:
            self._busy = False
            self.buttons["undo"].setEnabled(True)
            self.refresh()
            self.sig_decided.emit(action)

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.buttons["undo"].setEnabled(True)
            if signin_prompt.asked(self, exc, self._services, self._runner, lambda: self.act(action)):
                self.refresh()
                return
            self.probability.setText(f"Not recorded: {exc}")
            self.refresh()

        self._runner.run_mutation(work, done, failed)

    def build(self) -> None:
        review = self._services.review
        self.build_button.setEnabled(False)

        def done(count: int) -> None:
            self.build_button.setEnabled(True)
            self.refresh()
            self.hint.setText(f"{count:,} uncertain pairs found. " + self.hint.text().split(". ", 1)[-1]
                              if "uncertain pairs found" in self.hint.text() else
                              f"{count:,} uncertain pairs found. {self.hint.text()}")

        def failed(exc: BaseException) -> None:
            self.build_button.setEnabled(True)
            self.probability.setText(f"Could not compare the customers: {exc}")

        self._runner.run_query(lambda p: review.build_queue(p), done, failed,
                               on_progress=lambda f, m: self.counter.setText(f"{m}… {100 * f:.0f}%"))

    def _open_side(self, column: int) -> None:
        if self.pair is not None and column in (1, 2):
            self.sig_customer_requested.emit(self.pair.customer_a if column == 1 else self.pair.customer_b)
