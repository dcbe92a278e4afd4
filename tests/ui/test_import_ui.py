"""Import source records from the app: mapping remembered, problems listed by row, good rows only
when asked; a known format goes straight to the check."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from c360_desktop.core.identity.importing import ConnectorRegistry
from c360_desktop.ui.controllers.imports import ImportController, MappingDialog, ReportDialog
from c360_desktop.ui.main_window import MainWindow
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui

SHEET = ("Ref,First name,Surname,Mobile,Town,Parish\n"
         "F1,Ann,Lee,876-555-0101,Mandeville,Manchester\n"
         "F2,Bob,Chin,not a number,May Pen,Clarendon\n"
         "F3,Cy,Brown,876-555-0103,Ocho Rios,St. Ann\n")


@pytest.fixture
def controller(qtbot, services, runner, tmp_path):
    window = MainWindow(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return ImportController(window, services, runner, ConnectorRegistry().load())


def test_a_spreadsheet_is_mapped_checked_and_its_good_rows_imported(qtbot, services, controller, tmp_path):
    path = tmp_path / "fair-leads.csv"
    path.write_text(SHEET, encoding="utf-8")
    controller.start(path)
    qtbot.waitUntil(lambda: isinstance(controller.dialog, MappingDialog), timeout=10_000)  # opened on a worker
    mapping = controller.dialog
    assert mapping.id_column.currentText() == "Ref"
    assert mapping.mapping() == {"First name": "Given name", "Surname": "Family name", "Mobile": "Phone",
                                 "Town": "Town", "Parish": "Parish"}  # guessed from the column names
    mapping.system.setText("fair-2026")
    save_screenshot(mapping, "import_mapping")
    mapping.buttons.accepted.emit()
    qtbot.waitUntil(lambda: isinstance(controller.dialog, ReportDialog), timeout=10_000)
    report = controller.dialog
    assert "row 3, column 'Mobile': 'not a number' is not a phone number" in report.problems.toPlainText()
    assert not report.import_all.isVisible() and report.import_good.isVisible()
    save_screenshot(report, "import_report")
    before = services.cache.reader().execute("SELECT count(*) FROM source_record").fetchone()[0]
    report.import_good.click()
    qtbot.waitUntil(lambda: controller.last_result is not None, timeout=10_000)
    assert (controller.last_result.inserted, controller.last_result.skipped) == (2, 1)
    rows = services.cache.reader().execute(
        "SELECT external_id FROM source_record WHERE system = 'fair-2026' ORDER BY external_id").fetchall()
    assert rows == [("F1",), ("F3",)]
    assert services.cache.reader().execute("SELECT count(*) FROM source_record").fetchone()[0] == before + 2

    # The next file with these columns: the mapping is remembered.
    other = tmp_path / "more-leads.csv"
    other.write_text(SHEET.replace("F1", "F9"), encoding="utf-8")
    controller.start(other)
    qtbot.waitUntil(lambda: controller.dialog is not mapping and isinstance(controller.dialog, MappingDialog),
                    timeout=10_000)
    again = controller.dialog
    assert isinstance(again, MappingDialog) and "remembered" in again.remembered.text()
    assert again.system.text() == "fair-2026"


def test_a_quickbooks_list_goes_straight_to_the_check(qtbot, controller, tmp_path):
    from tests.core.test_import import IIF

    path = tmp_path / "customers.iif"
    path.write_text(IIF, encoding="utf-8")
    controller.start(path)
    qtbot.waitUntil(lambda: isinstance(controller.dialog, ReportDialog), timeout=10_000)
    report = controller.dialog
    assert "3 records, no problems found" in report.summary.text() and report.import_all.isVisible()
    # The source system the records are filed under is shown, from the file, and can be named.
    assert report.system.text() == "quickbooks:customers"
    report.system.setText("quick books!")
    report.import_all.click()
    assert "use letters, digits" in report.system_problem.text() and report.isVisible()
    report.system.setText("quickbooks:head-office")
    save_screenshot(report, "import_report_system")
    report.import_all.click()
    qtbot.waitUntil(lambda: controller.last_result is not None, timeout=10_000)
    assert controller.last_result.inserted == 3
    systems = controller.services.cache.reader().execute(
        "SELECT DISTINCT system FROM source_record WHERE external_id = 'Brown, Marcia'").fetchall()
    assert systems == [("quickbooks:head-office",)]
