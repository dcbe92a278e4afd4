"""Lead queue pane: open leads ranked by score, hot/warm/cold, with the next best action and why;
filters and sorting run in SQL on the cache; quick actions log a sales activity exactly once."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QModelIndex, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import jamaica
from c360_desktop.core.leads.queue import (
    UNASSIGNED,
    QueuedLead,
    Rebalance,
    log_activity,
)
from c360_desktop.core.security import Permission, can
from c360_desktop.core.services import Services
from c360_desktop.core.settings import config_dir
from c360_desktop.ui.format import format_jmd, local_datetime
from c360_desktop.ui.widgets import signin as signin_prompt
from c360_desktop.ui.workers import TaskRunner

BAND_COLOURS = {"hot": "#f4c7c3", "warm": "#fce8b2", "cold": "#d2e3fc"}
OUTCOMES = {"call": ("reached", "no answer", "left message", "call back later", "not interested"),
            "email": ("sent", "replied", "bounced"),
            "meeting": ("booked", "held", "cancelled"),
            "visit": ("visited", "nobody there", "order taken")}


class ActivityDialog(QDialog):
    """Outcome and note of one quick action; its action id is fixed when the dialog opens."""

    def __init__(self, kind: str, lead: QueuedLead, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind, self.lead = kind, lead
        self.action_id = str(uuid.uuid4())
        self.setWindowTitle(f"Log {kind}: {lead.customer_name}")
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOMES[kind])
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What was said, what happens next…")
        form = QFormLayout()
        form.addRow("&Outcome", self.outcome)
        form.addRow("&Note", self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{lead.next_action}: {lead.next_action_reason}"))
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)


class RebalanceDialog(QDialog):
    """Choose reps; see each one's workload now and after the suggested moves; apply them."""

    sig_apply = Signal(object)
    """The user accepted this plan (core.leads.queue.Rebalance)."""

    def __init__(self, services: Services, reps: dict[str, str], parish: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rebalance leads")
        self.resize(860, 560)
        self._services, self._parish = services, parish
        self.plan: Rebalance | None = None
        territory = services.leads.rep_parishes()
        self.rep_list = QListWidget()
        for rep_id, name in reps.items():
            code = territory.get(rep_id)
            item = QListWidgetItem(f"{name} ({jamaica.parish_by_code()[code].address_name})"
                                   if code in jamaica.parish_by_code() else name)
            item.setData(Qt.ItemDataRole.UserRole, rep_id)
            item.setCheckState(Qt.CheckState.Checked if parish and code == parish else Qt.CheckState.Unchecked)
            self.rep_list.addItem(item)
        self.loads = QTableWidget(0, 5)
        self.loads.setHorizontalHeaderLabels(["Rep", "Leads", "Value", "Leads after", "Value after"])
        self.loads.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.loads.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.loads.setToolTip("Value: expected value of the rep's open leads (estimated value × score / 100)")
        self.loads.verticalHeader().hide()
        self.loads.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.moves = QTableWidget(0, 4)
        self.moves.setHorizontalHeaderLabels(["Lead (customer)", "From", "To", "Expected value"])
        self.moves.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.moves.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.moves.verticalHeader().hide()
        self.moves.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.message = QLabel("Tick the reps who share the leads.")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setText("&Apply moves")
        self.apply_button.setEnabled(False)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.rep_list, 1)
        top.addWidget(self.loads, 2)
        layout.addLayout(top, 2)
        layout.addWidget(self.message)
        layout.addWidget(self.moves, 2)
        layout.addWidget(self.buttons)
        self.rep_list.itemChanged.connect(lambda _i: self.suggest())
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._apply)
        self.suggest()

    def chosen(self) -> list[str]:
        return [self.rep_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.rep_list.count())
                if self.rep_list.item(i).checkState() == Qt.CheckState.Checked]

    def suggest(self) -> None:
        reps = self.chosen()
        self.plan = None
        self.apply_button.setEnabled(False)
        if len(reps) < 2:
            self.message.setText("Tick at least two reps to share the leads between.")
            self.loads.setRowCount(0)
            self.moves.setRowCount(0)
            return
        plan = self._services.leads.suggest_rebalance(reps, [self._parish] if self._parish else None)
        self.plan = plan
        names = {self.rep_list.item(i).data(Qt.ItemDataRole.UserRole): self.rep_list.item(i).text()
                 for i in range(self.rep_list.count())}
        self.loads.setRowCount(len(reps))
        for row, rep_id in enumerate(reps):
            cells = (names[rep_id], f"{plan.count_before[rep_id]:,}", f"JMD {plan.before[rep_id]:,.0f}",
                     f"{plan.count_after[rep_id]:,}", f"JMD {plan.after[rep_id]:,.0f}")
            for col, text in enumerate(cells):
                self.loads.setItem(row, col, QTableWidgetItem(text))
        self.moves.setRowCount(len(plan.moves))
        for row, m in enumerate(plan.moves):
            cells = (m.customer_name, names.get(m.from_rep or "", "unassigned"), names[m.to_rep],
                     f"JMD {m.expected_value_jmd:,.0f}")
            for col, text in enumerate(cells):
                self.moves.setItem(row, col, QTableWidgetItem(text))
        spread_before, spread_after = Rebalance.spread(plan.before), Rebalance.spread(plan.after)
        if plan.moves:
            self.message.setText(f"{len(plan.moves)} move(s) narrow the gap between the busiest and the least busy "
                                 f"rep from JMD {spread_before:,.0f} to JMD {spread_after:,.0f} of expected value.")
        else:
            self.message.setText("Already even: no lead needs to move.")
        self.apply_button.setEnabled(bool(plan.moves))

    def _apply(self) -> None:
        if self.plan is not None and self.plan.moves:
            self.sig_apply.emit(self.plan)
            self.accept()


class LeadsPane(QWidget):
    COLUMNS = ("Score", "Band", "Customer", "Parish", "Status", "Next best action", "Why", "Last contact",
               "Est. value", "Rep", "Source", "Created")
    HIDDEN_BY_DEFAULT = ("Source", "Created")
    sig_customer_requested = Signal(str)
    """The user asked to open this customer's 360 view."""
    sig_activity_logged = Signal(str)
    """A quick action was recorded (carries the activity id)."""

    def __init__(self, services: Services, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services, self._runner = services, runner
        self.queue = services.leads.queue()
        self.leads: list[QueuedLead] = []
        self._generation = 0
        self._notice = ""  # said once, with the next refreshed summary
        self.parish = QComboBox()
        self.parish.addItem("All parishes", None)
        for p in jamaica.parishes():
            self.parish.addItem(p.address_name, p.code)
        user = services.user
        if not can(user, Permission.VIEW_ALL_TERRITORIES) and len(user.territory) == 1:
            self.parish.setCurrentIndex(self.parish.findData(user.territory[0]))  # my territory
        self.band = QComboBox()
        for label, value in (("All bands", None), ("Hot", ["hot"]), ("Hot and warm", ["hot", "warm"])):
            self.band.addItem(label, value)
        self.status = QComboBox()
        for label, value in (("Any status", None), ("New", ["new"]), ("Contacted", ["contacted"]),
                             ("Qualified", ["qualified"])):
            self.status.addItem(label, value)
        self.age = QComboBox()
        for label, value in (("Any age", None), ("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90)):
            self.age.addItem(label, value)
        self.reps = services.leads.reps()
        self.rep = QComboBox()
        self.rep.addItem("All reps", None)
        self.rep.addItem("Unassigned", UNASSIGNED)
        for rep_id, name in self.reps.items():
            self.rep.addItem(name, rep_id)
        self.source = QComboBox()
        self.source.addItem("Any source", None)
        # The sources present take a scan of the queue (0.1 s on a million customers): listed
        # in the background once the pane is up.
        leads = services.leads
        runner.run_query(lambda _p: leads.sources(), self._list_sources)
        self.sort = QComboBox()
        for label, value in (("By score", "score"), ("By value", "value"), ("Oldest first", "age"),
                             ("Longest untouched", "last_contact"), ("By name", "name")):
            self.sort.addItem(label, value)
        self.summary = QLabel()
        self.summary.setWordWrap(True)  # a long summary wraps rather than widen the pane
        self.model = QStandardItemModel(0, len(self.COLUMNS))
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        metrics = self.table.fontMetrics()
        for col, sample in ((0, "Score__"), (1, "Band__"), (2, "W" * 16), (3, "Westmoreland__"), (4, "Contacted__"),
                            (5, "Introduce yourself_"), (7, "28 Nov 2026 11:45___"), (8, "JMD 1,000,000_"),
                            (9, "Kerry-Ann Beckford_"), (10, "Walk-in__"), (11, "28 Nov 2026___")):
            header.resizeSection(col, metrics.horizontalAdvance(sample))
        # Columns the user can choose: right-click the header; remembered between sessions.
        self._prefs = QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)
        hidden = self._prefs.value("leads/hidden_columns", list(self.HIDDEN_BY_DEFAULT))
        for col, name in enumerate(self.COLUMNS):
            self.table.setColumnHidden(col, name in (hidden or []))
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._choose_columns)
        self.actions: dict[str, QPushButton] = {}
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for kind, label in (("call", "&Call"), ("email", "&Email"), ("meeting", "&Meeting"), ("visit", "&Visit")):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, k=kind: self.quick_action(k))
            buttons.addWidget(b)
            self.actions[kind] = b
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._consent_for_current())
        self.explain_button = QPushButton("E&xplain score")
        buttons.addWidget(self.explain_button)
        from c360_desktop.ui.widgets.export import ExportButton, table_of_view

        self.export_button = ExportButton(
            services, runner, lambda: [table_of_view(self.table, f"lead queue, the first {self.model.rowCount():,} as "
                                                     "shown (c360 leads --json for every lead)", self.summary.text())]
            if self.model.rowCount() else [], self.summary.setText)
        self.export_button.bind_shortcut(self)
        buttons.addWidget(self.export_button)
        self.assign_button = QPushButton("&Assign to…")
        self.assign_button.setMenu(QMenu(self.assign_button))
        for rep_id, name in self.reps.items():
            self.assign_button.menu().addAction(name, lambda r=rep_id: self.assign_selected(r))
        self.rebalance_button = QPushButton("Re&balance…")
        self.rebalance_button.setToolTip("Even the reps' workloads by expected value (value × score)")
        manager = can(services.user, Permission.ASSIGN_LEADS)
        for b in (self.assign_button, self.rebalance_button):
            b.setEnabled(manager)
            if not manager:
                b.setToolTip("Managers assign and rebalance leads")
            buttons.addWidget(b)
        self.rebalance_button.clicked.connect(self.rebalance)
        filters = QHBoxLayout()
        for w in (self.parish, self.rep, self.band, self.status, self.source, self.age, self.sort):
            filters.addWidget(w)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        for combo in (self.parish, self.rep, self.band, self.status, self.source, self.age, self.sort):
            combo.currentIndexChanged.connect(self.refresh)
        self.explain_button.clicked.connect(self.explain)
        self.table.doubleClicked.connect(self._open)
        self.refresh()

    def _list_sources(self, sources: list[str]) -> None:
        for src in sources:
            if self.source.findData([src]) < 0:
                self.source.addItem(src.capitalize(), [src])

    def refresh(self) -> None:
        parish = self.parish.currentData()
        query = dict(parishes=[parish] if parish else None, rep_id=self.rep.currentData(),
                     sources=self.source.currentData(), bands=self.band.currentData(),
                     statuses=self.status.currentData(), max_age_days=self.age.currentData(),
                     sort=self.sort.currentData(), limit=500)
        queue = self.queue
        self._generation += 1
        generation = self._generation
        self._runner.run_query(lambda _p: queue.query(**query), lambda rows: self._show(rows, generation))

    def _show(self, rows: list[QueuedLead], generation: int) -> None:
        if generation != self._generation:
            return
        self.leads = rows
        self.model.removeRows(0, self.model.rowCount())
        for r in rows:
            cells = (f"{r.score:.0f}", r.band.capitalize(), r.customer_name,
                     jamaica.parish_by_code()[r.parish].address_name if r.parish in jamaica.parish_by_code() else "—",
                     r.status.capitalize(), r.next_action, r.next_action_reason, local_datetime(r.last_contact_at),
                     format_jmd(r.estimated_value_cents) if r.estimated_value_cents else "—",
                     self.reps.get(r.rep_id or "", "unassigned"), (r.source or "—").capitalize(),
                     local_datetime(r.created_at)[:11])
            items = [QStandardItem(c) for c in cells]
            items[1].setBackground(QBrush(QColor(BAND_COLOURS[r.band])))
            items[0].setToolTip("Rule-based score (no lead model yet): Explain score lists its reasons"
                                if r.scored_by == "rules" else f"Scored by model {r.scored_by}")
            for i in (0, 8):
                items[i].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow(items)
        hot = sum(r.band == "hot" for r in rows)
        rules = any(r.scored_by == "rules" for r in rows)
        notice, self._notice = self._notice, ""
        self.summary.setText((f"{notice}. " if notice else "") + f"{len(rows):,} open leads shown · {hot:,} hot"
                             + (" · scores are rule-based until the lead model has run (Explain score)" if rules else ""))

    def _choose_columns(self, pos) -> None:  # type: ignore[no-untyped-def]
        menu = QMenu(self)
        for col, name in enumerate(self.COLUMNS):
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(col))
            action.setEnabled(name not in ("Score", "Customer"))  # a queue needs these two
            action.toggled.connect(lambda on, c=col: self.set_column_visible(c, on))
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))

    def set_column_visible(self, col: int, visible: bool) -> None:
        self.table.setColumnHidden(col, not visible)
        self._prefs.setValue("leads/hidden_columns", [n for c, n in enumerate(self.COLUMNS)
                                                      if self.table.isColumnHidden(c)])

    def selected_leads(self) -> list[QueuedLead]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.leads[r] for r in rows if r < len(self.leads)]

    def assign_selected(self, rep_id: str) -> None:
        leads = self.selected_leads()
        if not leads:
            self.summary.setText("Select the leads to assign first (Ctrl+click, Shift+click for several).")
            return
        self._assign({lead.lead_id: rep_id for lead in leads},
                     f"{len(leads)} lead(s) assigned to {self.reps.get(rep_id, rep_id)}")

    def _assign(self, assignments: dict[str, str], message: str) -> None:
        leads = self._services.leads

        def done(changed: int) -> None:
            self._notice = f"{message} ({changed} changed hands; queued for sync)"
            self.refresh()

        def failed(exc: BaseException) -> None:
            if signin_prompt.asked(self, exc, self._services, self._runner, lambda: self._assign(assignments, message)):
                return
            QMessageBox.warning(self, "Not assigned", str(exc))

        self._runner.run_mutation(lambda _p: leads.assign(assignments), done, failed)

    def rebalance(self) -> RebalanceDialog:
        parish = self.parish.currentData()
        dialog = RebalanceDialog(self._services, self.reps, parish, self)
        dialog.sig_apply.connect(lambda plan: self._assign({m.lead_id: m.to_rep for m in plan.moves},
                                                           f"Rebalanced: {len(plan.moves)} move(s)"))
        dialog.open()
        return dialog

    def _consent_for_current(self) -> None:
        """Call and Email follow the lead's marketing consent: a withdrawn channel is not offered."""
        lead = self.current()
        withdrawn = self._services.leads.withdrawn(lead.customer_id) if lead is not None else {}
        for kind, channel, word in (("call", "phone", "calls"), ("email", "email", "e-mails")):
            button = self.actions[kind]
            if channel in withdrawn:
                button.setEnabled(False)
                button.setToolTip(f"{lead.customer_name if lead else 'This customer'} withdrew consent to marketing "
                                  f"{word} on {withdrawn[channel]}")
            else:
                button.setEnabled(True)
                button.setToolTip("")

    def current(self) -> QueuedLead | None:
        index = self.table.currentIndex()
        return self.leads[index.row()] if index.isValid() and index.row() < len(self.leads) else None

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_customer_requested.emit(self.leads[index.row()].customer_id)

    def explain(self) -> None:
        lead = self.current()
        if lead is None:
            return
        parts = self.queue.explain(lead.lead_id)
        lines = [f"{p['points']:+g}  {p['why']}" if "why" in p else f"{p.get('feature')}: {p.get('value')}"
                 for p in parts]
        who = "rule-based score (no lead model yet)" if lead.scored_by == "rules" else f"model {lead.scored_by}"
        QMessageBox.information(self, f"Score {lead.score:.0f}: {lead.customer_name}",
                                f"{who}\n\n" + "\n".join(lines))

    def quick_action(self, kind: str) -> ActivityDialog | None:
        lead = self.current()
        if lead is None:
            self.summary.setText("Choose a lead first.")
            return None
        channel = {"call": "phone", "email": "email"}.get(kind)
        withdrawn = self._services.leads.withdrawn(lead.customer_id)
        if channel in withdrawn:
            self.summary.setText(f"{lead.customer_name} withdrew consent to marketing by {channel} on "
                                 f"{withdrawn[channel]}: record a service contact from the 360 view instead.")
            return None
        contact = self._services.leads.contact(lead.customer_id)
        if kind == "call" and contact and contact[0]:
            QDesktopServices.openUrl(QUrl(f"tel:{contact[0]}"))
        elif kind == "email" and contact and contact[1]:
            QDesktopServices.openUrl(QUrl(f"mailto:{contact[1]}"))
        dialog = ActivityDialog(kind, lead, self)
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        cache, user = self._services.cache, self._services.user.name

        def submit() -> None:
            save.setEnabled(False)  # a second click while saving records nothing more (same action id)
            outcome, note = dialog.outcome.currentText(), dialog.note.toPlainText()

            def done(recorded: bool) -> None:
                if recorded:
                    self.sig_activity_logged.emit(dialog.action_id)
                dialog.accept()
                self.refresh()

            self._runner.run_mutation(
                lambda _p: log_activity(cache, lead.lead_id, kind, outcome, note, user, dialog.action_id), done,
                lambda exc: (save.setEnabled(True), QMessageBox.warning(dialog, "Not saved", str(exc))))

        dialog.buttons.accepted.connect(submit)
        dialog.open()
        return dialog
