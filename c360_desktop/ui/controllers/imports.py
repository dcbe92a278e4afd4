"""Import source records from a file (File > Import source records…, Ctrl+I).

A file a connector knows (QuickBooks IIF or Customer Contact List, a business directory) goes
straight to the check; any other CSV or Excel file first gets a column-mapping dialog, which
remembers the mapping for files with the same columns. The check runs in the background and
lists every problem by row and column; a file with problems imports nothing unless the user
chooses to import the rows without problems.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.identity.importing import (
    MAX_SYSTEM,
    ImportPlan,
    TableConnector,
    check_system,
    import_file,
    plan,
    read_table,
)
from c360_desktop.core.settings import config_dir
from c360_desktop.core.tables import MAX_FILE_MB, FileRefused, check_file

TARGETS = ("(leave out)", "Name", "Given name", "Family name", "Business Name", "Phone", "Email", "Street",
           "Town", "Parish", "Date of birth", "Tax ID", "Category", "Note")


def _prefs() -> QSettings:
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def header_key(header: list[str]) -> str:
    return hashlib.sha256("\x1f".join(header).encode()).hexdigest()[:16]


class MappingDialog(QDialog):
    """Which column is the record id, and what each other column is; remembered per header."""

    def __init__(self, path: Path, header: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Columns of {path.name}")
        self.resize(560, 480)
        self.header = header
        saved = _prefs().value(f"import_mappings/{header_key(header)}")
        remembered: dict[str, Any] = json.loads(saved) if isinstance(saved, str) else {}
        self.id_column = QComboBox()
        self.id_column.addItems(header)
        guess = remembered.get("id") or next((c for c in header if c.casefold() in ("id", "ref", "customer id",
                                                                                   "account", "record")), header[0])
        self.id_column.setCurrentText(guess)
        self.system = QLineEdit(remembered.get("system", "spreadsheet"))
        self.table = QTableWidget(len(header), 2)
        self.table.setHorizontalHeaderLabels(["Column in the file", "Import as"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.combos: list[QComboBox] = []
        mapping = remembered.get("mapping", {})
        for r, column in enumerate(header):
            self.table.setItem(r, 0, QTableWidgetItem(column))
            combo = QComboBox()
            combo.addItems(TARGETS)
            combo.setCurrentText(mapping.get(column) or _guess(column))
            self.table.setCellWidget(r, 1, combo)
            self.combos.append(combo)
        form = QFormLayout()
        form.addRow("Record &id column", self.id_column)
        form.addRow("&Source system", self.system)
        self.remembered = QLabel("Mapping remembered from the last file with these columns." if remembered else
                                 "The mapping will be remembered for files with these columns.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Check the file")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table)
        layout.addWidget(self.remembered)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

    def mapping(self) -> dict[str, str]:
        return {column: combo.currentText() for column, combo in zip(self.header, self.combos, strict=True)
                if combo.currentText() != TARGETS[0] and column != self.id_column.currentText()}

    def connector(self) -> TableConnector:
        return TableConnector(self.id_column.currentText(), self.mapping(), self.system.text().strip() or None)

    def _accept(self) -> None:
        if not self.mapping():
            QMessageBox.warning(self, "Nothing to import", "Choose what at least one column is.")
            return
        _prefs().setValue(f"import_mappings/{header_key(self.header)}", json.dumps(
            {"id": self.id_column.currentText(), "system": self.system.text().strip(), "mapping": self.mapping()}))
        self.accept()


def _guess(column: str) -> str:
    c = column.casefold()
    for words, target in ((("phone", "mobile", "tel", "cell"), "Phone"), (("mail",), "Email"),
                          (("parish",), "Parish"), (("town", "city", "district"), "Town"),
                          (("street", "address"), "Street"), (("business", "company"), "Business Name"),
                          (("first", "given"), "Given name"), (("last", "surname", "family"), "Family name"),
                          (("birth", "dob"), "Date of birth"), (("trn", "tax"), "Tax ID"), (("name",), "Name")):
        if any(w in c for w in words):
            return target
    return TARGETS[0]


class ReportDialog(QDialog):
    """What the check found, and the choices it leaves."""

    sig_import = Signal(bool)
    """The user chose to import (True: only the rows without problems)."""

    def __init__(self, checked: ImportPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {checked.path.name}")
        self.resize(720, 420)
        good = len(checked.rows) - len(checked.bad_rows & {n for n, _i, _f in checked.rows})
        if not checked.problems:
            summary = f"{len(checked.rows):,} records, no problems found."
        elif checked.file_problems:
            summary = "This file cannot be imported as it is:"
        else:
            summary = (f"{len(checked.problems):,} problem(s) in {len(checked.bad_rows):,} row(s). Nothing is "
                       f"imported unless you choose to import the {good:,} rows without problems.")
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.checked = checked
        # Records are filed under their source system: a file with the same system updates them,
        # any other (even with the same record ids) cannot.
        self.system = QLineEdit(checked.system)
        self.system.setMaxLength(MAX_SYSTEM)
        self.system.setToolTip("Files imported under the same source system update each other's records; "
                               "give another export of the same system its name here.")
        self.system_problem = QLabel()
        self.system_problem.setStyleSheet("color: #b00020")
        form = QFormLayout()
        form.addRow("&Source system:", self.system)
        hint = QLabel("Files under the same source system update each other's records.")
        hint.setStyleSheet("color: palette(mid)")
        form.addRow("", hint)
        form.addRow("", self.system_problem)
        self.problems = QPlainTextEdit("\n".join(str(p) for p in checked.problems))
        self.problems.setReadOnly(True)
        self.problems.setVisible(bool(checked.problems))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_all = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_good = self.buttons.addButton(f"Import the {good:,} &good rows",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_all.setVisible(not checked.problems)
        self.import_good.setVisible(bool(checked.problems) and not checked.file_problems and good > 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.problems, 1)
        if not checked.problems:
            layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.import_all.clicked.connect(lambda: self._chosen(False))
        self.import_good.clicked.connect(lambda: self._chosen(True))
        self.buttons.rejected.connect(self.reject)

    def _chosen(self, skip_bad_rows: bool) -> None:
        try:
            self.checked.system = check_system(self.system.text())
        except ValueError as exc:
            self.system_problem.setText(str(exc))
            return
        self.sig_import.emit(skip_bad_rows)
        self.accept()


def inspect(path: Path, connectors: list[Any], max_mb: int = MAX_FILE_MB) -> tuple[str, Any]:
    """("known", connector) when exactly one connector knows the file; else ("map", header) to
    ask what its columns are; ("error", message) when it has no columns or is refused before
    reading (``check_file``). The file is read once."""
    try:
        check_file(path, max_mb)
    except FileRefused as exc:
        return "error", str(exc)
    data = path.read_bytes()
    fitting = [c for c in connectors if c.can_read(path)]

    def looks_like(connector: TableConnector) -> bool:
        _sheet, header, _rows = read_table(path, data, [], connector.HEADER_HINT or connector.id_column)
        return all(c in header for c in (connector.id_column, *connector.mapping))

    known = [c for c in fitting if not isinstance(c, TableConnector) or looks_like(c)]
    if len(known) == 1:
        return "known", known[0]
    problems: list[Any] = []
    _sheet, header, _rows = read_table(path, data, problems)
    if not header:
        return "error", "\n".join(str(p) for p in problems) or "No columns."
    return "map", header


class ImportController:
    """File > Import source records…: choose, map, check, decide, import; all off the GUI thread."""

    def __init__(self, window: Any, services: Any, runner: Any, connectors: dict[str, Any]) -> None:
        self.window, self.services, self.runner, self.connectors = window, services, runner, connectors
        self.last_result: Any = None
        self.imported: list[Any] = []  # called after each import (the quality pane measures again)
        self.dialog: QDialog | None = None

    def choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Import source records", "",
                                              "Source files (*.csv *.txt *.xlsx *.xlsm *.iif);;All files (*)")
        if name:
            self.start(Path(name))

    def start(self, path: Path) -> None:
        """Find what reads the file (on a worker: a workbook can take seconds to open), then
        check it, or first ask what its columns are."""
        connectors = list(self.connectors.values())
        self.window.statusBar().showMessage(f"Opening {path.name}…")

        def found(answer: tuple[str, Any]) -> None:
            self.window.statusBar().clearMessage()
            kind, what = answer
            if kind == "known":
                self.check(path, what)
            elif kind == "map":
                dialog = MappingDialog(path, what, self.window)
                dialog.accepted.connect(lambda: self.check(path, dialog.connector()))
                self.dialog = dialog
                dialog.open()
            else:
                QMessageBox.warning(self.window, "Cannot import", what)

        max_mb = self.services.settings.import_max_mb
        self.runner.run_query(lambda _p: inspect(path, connectors, max_mb), found,
                              lambda exc: QMessageBox.warning(self.window, "Cannot import", str(exc)))

    def check(self, path: Path, connector: Any) -> None:
        self.window.statusBar().showMessage(f"Checking {path.name}…")

        def shown(checked: ImportPlan) -> None:
            self.window.statusBar().clearMessage()
            report = ReportDialog(checked, self.window)
            report.sig_import.connect(lambda skip: self.run(checked, skip))
            self.dialog = report
            report.open()

        max_mb = self.services.settings.import_max_mb
        self.runner.run_query(lambda _p: plan(path, connector, max_mb=max_mb), shown,
                              lambda exc: QMessageBox.warning(self.window, "Cannot import", str(exc)))

    def run(self, checked: ImportPlan, skip_bad_rows: bool) -> None:
        cache, user = self.services.cache, self.services.user.name

        def work(_p: Any) -> Any:
            return import_file(cache, checked, user, skip_bad_rows)

        def done(result: Any) -> None:
            self.last_result = result
            links = result.links
            linked = (f"; {len(links.linked):,} linked to customers, {len(links.created):,} new customers"
                      + (f", {links.queued:,} to review (F6)" if links.queued else "")) if links else ""
            suspects = (f"; {len(result.suspects):,} came back as someone else (kept apart, sent to review)"
                        if result.suspects else "")
            self.window.statusBar().showMessage(
                f"{checked.path.name} ({checked.system}){suspects}: {result.inserted:,} new, {result.updated:,} updated, {result.unchanged:,} "
                f"unchanged, {result.skipped:,} rows skipped{linked}; queued for sync.", 20000)
            for listener in self.imported:
                listener()

        self.runner.run_mutation(work, done, lambda exc: QMessageBox.warning(self.window, "Not imported", str(exc)))
