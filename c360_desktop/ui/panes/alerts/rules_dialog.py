"""The Rules dialog: view, add, edit, enable and test alert rules, with validation as you type.

Every problem is listed by field (from core.alerts.rules.rule_errors) and Save stays disabled
until there are none; Test runs the rule against the recent events kept in the cache, off the
GUI thread, and says what it would have raised.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.alerts.rules import SEVERITIES, AlertRule, rule_errors
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import EVENT_TYPES
from c360_desktop.ui.workers import TaskRunner

OPS = ("==", "!=", ">", ">=", "<", "<=", "in", "not in", "contains", "exists", "missing")


def _parse_value(text: str) -> Any:
    """Numbers, true/false and [lists] as JSON; anything else as text."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _show_value(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


class ConditionsTable(QTableWidget):
    def __init__(self, with_severity: bool) -> None:
        cols = ["Field", "Operator", "Value"] + (["Severity"] if with_severity else [])
        super().__init__(0, len(cols))
        self.with_severity = with_severity
        self.setHorizontalHeaderLabels(cols)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setMinimumHeight(90)

    def add(self, field: str = "payload.", op: str = ">=", value: Any = None, severity: str = "high") -> None:
        r = self.rowCount()
        self.insertRow(r)
        self.setItem(r, 0, QTableWidgetItem(field))
        ops = QComboBox()
        ops.addItems(OPS)
        ops.setCurrentText(op)
        self.setCellWidget(r, 1, ops)
        self.setItem(r, 2, QTableWidgetItem(_show_value(value)))
        if self.with_severity:
            sev = QComboBox()
            sev.addItems(SEVERITIES)
            sev.setCurrentText(severity)
            self.setCellWidget(r, 3, sev)

    def values(self) -> list[dict[str, Any]]:
        out = []
        for r in range(self.rowCount()):
            field = (self.item(r, 0).text() if self.item(r, 0) else "").strip()
            ops = self.cellWidget(r, 1)
            assert isinstance(ops, QComboBox)
            entry: dict[str, Any] = {"field": field, "op": ops.currentText(),
                                     "value": _parse_value(self.item(r, 2).text() if self.item(r, 2) else "")}
            if self.with_severity:
                sev = self.cellWidget(r, 3)
                assert isinstance(sev, QComboBox)
                entry["severity"] = sev.currentText()
            out.append(entry)
        return out

    def remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.selectedIndexes()}, reverse=True):
            self.removeRow(r)


class RulesDialog(QDialog):
    def __init__(self, store: AlertStore, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alert rules")
        self.resize(980, 640)
        self.store, self.runner = store, runner
        self.rules: list[AlertRule] = store.rules()
        self.current = -1
        self._loading = False

        self.list = QListWidget()
        add, remove = QPushButton("&Add"), QPushButton("&Delete")
        left = QVBoxLayout()
        left.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        left_box = QWidget()
        left_box.setLayout(left)

        self.name = QLineEdit()
        self.types = QListWidget()
        self.types.setMaximumHeight(110)
        for name, kind in EVENT_TYPES.items():
            item = QListWidgetItem(f"{kind.label} ({name})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.types.addItem(item)
        self.match = QComboBox()
        self.match.addItems(["all conditions hold", "any condition holds"])
        self.conditions = ConditionsTable(with_severity=False)
        self.escalations = ConditionsTable(with_severity=True)
        self.severity = QComboBox()
        self.severity.addItems(SEVERITIES)
        self.notify = QLineEdit()
        self.notify.setToolTip("everyone, manager, analyst, field_rep, territory (reps of the customer's parish), "
                               "or user:NAME; separate with commas")
        self.email = QLineEdit()
        self.email.setPlaceholderText("optional: addresses to e-mail, separated with commas")
        self.title_edit = QLineEdit()
        self.title_edit.setToolTip("{rule}, {customer}, {type}, {severity} or {payload.<field>}")
        cond_buttons = QHBoxLayout()
        add_cond, del_cond = QPushButton("Add condition"), QPushButton("Remove condition")
        add_esc, del_esc = QPushButton("Add escalation"), QPushButton("Remove escalation")
        for b in (add_cond, del_cond, add_esc, del_esc):
            cond_buttons.addWidget(b)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("Event &types", self.types)
        form.addRow("&Match when", self.match)
        form.addRow("Conditions", self.conditions)
        form.addRow("Escalations", self.escalations)
        form.addRow("", cond_buttons)
        form.addRow("&Severity", self.severity)
        form.addRow("&Notify", self.notify)
        form.addRow("&E-mail", self.email)
        form.addRow("&Title", self.title_edit)
        self.problems = QLabel()
        self.problems.setObjectName("rule_problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b3261e")
        self.test_button = QPushButton("&Test against recent events")
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.problems)
        right.addWidget(self.test_button)
        right.addWidget(self.test_result, 1)
        right_box = QWidget()
        right_box.setLayout(right)

        split = QSplitter()
        split.addWidget(left_box)
        split.addWidget(right_box)
        split.setSizes([260, 720])
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        layout.addWidget(self.buttons)

        self.list.currentRowChanged.connect(self._select)
        self.list.itemChanged.connect(self._enabled_toggled)
        add.clicked.connect(self.add_rule)
        remove.clicked.connect(self.delete_rule)
        add_cond.clicked.connect(lambda: (self.conditions.add(), self._changed()))
        del_cond.clicked.connect(lambda: (self.conditions.remove_selected(), self._changed()))
        add_esc.clicked.connect(lambda: (self.escalations.add(field="customer.lifetime_spend"), self._changed()))
        del_esc.clicked.connect(lambda: (self.escalations.remove_selected(), self._changed()))
        for w in (self.name, self.notify, self.email, self.title_edit):
            w.textEdited.connect(self._changed)
        for combo in (self.match, self.severity):
            combo.currentIndexChanged.connect(self._changed)
        self.types.itemChanged.connect(self._changed)
        self.conditions.itemChanged.connect(self._changed)
        self.escalations.itemChanged.connect(self._changed)
        self.test_button.clicked.connect(self.test_rule)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._fill_list()
        if self.rules:
            self.list.setCurrentRow(0)

    # ---- list ----

    def _fill_list(self) -> None:
        self._loading = True
        self.list.clear()
        for rule in self.rules:
            item = QListWidgetItem(rule.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked)
            item.setToolTip("Tick to enable")
            self.list.addItem(item)
        self._loading = False

    def _enabled_toggled(self, item: QListWidgetItem) -> None:
        if self._loading:
            return
        row = self.list.row(item)
        self.rules[row] = self.rules[row].model_copy(update={"enabled": item.checkState() == Qt.CheckState.Checked})

    def add_rule(self) -> None:
        self.rules.append(AlertRule(name="New rule", event_types=["order.placed"],
                                    conditions=[{"field": "payload.amount", "op": ">=", "value": 100_000}]))
        self._fill_list()
        self.list.setCurrentRow(len(self.rules) - 1)
        self.name.setFocus()
        self.name.selectAll()

    def delete_rule(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        del self.rules[row]
        self.current = -1
        self._fill_list()
        if self.rules:
            self.list.setCurrentRow(min(row, len(self.rules) - 1))

    # ---- editor ----

    def _select(self, row: int) -> None:
        if row < 0 or row >= len(self.rules):
            return
        self.current = row
        r = self.rules[row]
        self._loading = True
        self.name.setText(r.name)
        for i in range(self.types.count()):
            item = self.types.item(i)
            wanted = item.data(Qt.ItemDataRole.UserRole) in r.event_types
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        self.match.setCurrentIndex(0 if r.match == "all" else 1)
        for table, items in ((self.conditions, r.conditions), (self.escalations, r.escalations)):
            table.setRowCount(0)
            for c in items:
                table.add(c.field, c.op, c.value, getattr(c, "severity", "high"))
        self.severity.setCurrentText(r.severity)
        self.notify.setText(", ".join(r.notify))
        self.email.setText(", ".join(r.email))
        self.title_edit.setText(r.title)
        self._loading = False
        self._validate()
        self.test_result.clear()

    def definition(self) -> dict[str, Any]:
        """The rule as the form now says, as data (validated separately)."""
        base = self.rules[self.current] if 0 <= self.current < len(self.rules) else None
        split = lambda text: [p.strip() for p in text.split(",") if p.strip()]  # noqa: E731
        return {
            **({"id": base.id} if base else {}), "enabled": base.enabled if base else True,
            "name": self.name.text().strip(),
            "event_types": [self.types.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.types.count())
                            if self.types.item(i).checkState() == Qt.CheckState.Checked],
            "match": "all" if self.match.currentIndex() == 0 else "any",
            "conditions": self.conditions.values(), "escalations": self.escalations.values(),
            "severity": self.severity.currentText(), "notify": split(self.notify.text()),
            "email": split(self.email.text()), "title": self.title_edit.text(),
        }

    def _changed(self, *_args: object) -> None:
        if self._loading or self.current < 0:
            return
        errors = self._validate()
        if not errors:
            self.rules[self.current] = AlertRule.model_validate(self.definition())
            item = self.list.item(self.current)
            if item is not None:
                self._loading = True
                item.setText(self.rules[self.current].name)
                self._loading = False

    def _validate(self) -> list[str]:
        errors = rule_errors(self.definition()) if self.current >= 0 else []
        self.problems.setText("\n".join(f"• {e}" for e in errors))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not errors)
        self.test_button.setEnabled(not errors)
        return errors

    def test_rule(self) -> None:
        if self._validate():
            return
        rule = AlertRule.model_validate(self.definition())
        store = self.store
        self.test_result.setText("Testing…")

        def shown(hits: list[tuple[Any, str, str]]) -> None:
            if not hits:
                self.test_result.setText("No recent event would raise this alert.")
                return
            lines = [f"{len(hits):,} recent events would raise this alert, e.g.:"]
            lines += [f"  [{sev}] {title}" for _ev, sev, title in hits[:8]]
            self.test_result.setText("\n".join(lines))

        self.runner.run_query(lambda _p: store.test_rule(rule), shown,
                              lambda exc: self.test_result.setText(f"Could not test: {exc}"))

    def save(self) -> None:
        if self.current >= 0 and self._validate():
            return
        store, rules = self.store, list(self.rules)
        self.runner.run_mutation(lambda _p: store.save_rules(rules), lambda _r: self.accept(),
                                 lambda exc: self.problems.setText(f"Could not save the rules: {exc}"))
