"""The Requests pane: a data steward records requests for the customer in the 360 view, sees what
is overdue, exports a person's data, and erases them after a confirmation; other roles get no pane."""

from datetime import date, timedelta

import pytest

from c360_desktop.core.settings import Settings
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def _customers(demo_cache, n):
    import sqlite3

    conn = sqlite3.connect(demo_cache)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT min(id), display_name FROM customer WHERE kind = 'individual' GROUP BY display_name "
            "HAVING count(*) = 1 ORDER BY 1 LIMIT ?", (n,))]
    finally:
        conn.close()


def test_a_steward_registers_exports_and_erases(qtbot, launch, demo_cache, tmp_path):
    (first, first_name), (second, second_name) = _customers(demo_cache, 2)
    start, _rec = launch
    launcher = start(Settings(user_name="sam.steward", role="data_steward"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window, profile = launcher.window, launcher.host.panes["profile_pane"]
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        launcher.host.open_customer(first)  # as the lookup does
    pane = launcher.host.panes["requests_pane"]
    (action,) = [a for a in window.menu("&Go").actions() if a.text() == "Data-subject &requests"]
    assert action.shortcut().toString() == "Ctrl+Shift+J"
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000) as shown:
        action.trigger()
    assert shown.args[0] == 0 and pane.summary.text() == "No open requests"
    assert not pane.erase_button.isEnabled() and not pane.export_button.isEnabled()

    presets = []

    def answer(kind, received, customer=None):
        def ask(preset):
            presets.append(preset)
            return {"customer_id": customer or preset[0], "kind": kind, "channel": "letter",
                    "received_on": received, "detail": ""}
        return ask

    pane.ask_new = answer("erasure", date.today())
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000):
        pane.new_request()
    assert presets[-1] == (first, first_name)  # the customer open in the 360 view
    pane.ask_new = answer("access", date.today() - timedelta(days=33), second)
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000) as shown:
        pane.new_request()
    assert shown.args[0] == 2
    rows = [[pane.table.item(r, c).text() for c in range(pane.table.columnCount())] for r in range(2)]
    assert rows[0][:2] == ["access", second_name] and rows[0][4] == "3 days overdue"
    assert rows[1][:2] == ["erasure", first_name] and rows[1][4] == "30 days"
    assert pane.table.item(0, 4).foreground().color().name() == "#c62828"
    assert pane.summary.text() == "2 open: 1 overdue, 0 due within a week"
    dock = window.docks["requests_pane"]
    dock.setFloating(True)  # as a steward would, to see every column
    dock.resize(1150, 300)
    qtbot.wait(50)
    save_screenshot(dock, "requests_pane")

    # Access: their data as a PDF.
    pane.table.selectRow(0)
    assert pane.export_button.isEnabled() and not pane.erase_button.isEnabled()
    pane.ask_file = lambda suggested: str(tmp_path / suggested)
    with qtbot.waitSignal(pane.sig_done, timeout=20_000) as done:
        pane.export_selected()
    assert done.args[0].startswith("Written:")
    (pdf,) = tmp_path.glob("personal-data-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")

    # Erasure: nothing happens until confirmed.
    pane.table.selectRow(1)
    assert pane.erase_button.isEnabled()
    asked = []
    pane.confirm = lambda title, text: asked.append(text) or False
    pane.erase_selected()
    assert first_name in asked[0] and "cannot be undone" in asked[0]
    assert launcher.services.profiles.exists(first)
    pane.confirm = lambda title, text: True
    with qtbot.waitSignal(pane.sig_done, timeout=30_000) as done:
        pane.erase_selected()
    assert done.args[0].startswith("Erased:"), done.args[0]
    assert not launcher.services.profiles.exists(first)
    pane.status_box.setCurrentIndex(3)  # All
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000):
        pane.refresh()
    statuses = {pane.table.item(r, 0).text(): (pane.table.item(r, 1).text(), pane.table.item(r, 5).text())
                for r in range(pane.table.rowCount())}
    assert statuses["erasure"] == ("erased customer", "done (not synced)")
    save_screenshot(window.docks["requests_pane"], "requests_pane_after_erasure")


def test_the_new_request_dialog_finds_a_customer_by_name(qtbot, services, demo_cache):
    from c360_desktop.ui.panes.requests.pane import NewRequestDialog
    from c360_desktop.ui.workers import TaskRunner

    services.settings.role = "data_steward"
    (_cid, name), = _customers(demo_cache, 1)
    runner = TaskRunner()
    dialog = NewRequestDialog(services, runner, None)
    qtbot.addWidget(dialog)
    dialog._accept()
    assert dialog.error.text() == "Choose the customer who made the request."
    dialog.find_box.setText(name)
    dialog._find()
    qtbot.waitUntil(lambda: dialog.hits.count() > 0, timeout=10_000)
    assert dialog.hits.item(0).text().startswith(name)
    dialog.kind_box.setCurrentIndex(3)
    values = dialog.values()
    assert values["kind"] == "erasure" and values["received_on"] == date.today()
    assert dialog.received_box.maximumDate().toString("yyyy-MM-dd") == date.today().isoformat()
    dialog.resize(520, 360)
    save_screenshot(dialog, "requests_new_dialog")
    runner.wait()


@pytest.mark.parametrize("role", ["manager", "analyst", "field_rep"])
def test_roles_that_do_not_handle_requests_get_no_pane(qtbot, launch, demo_cache, role):
    start, _rec = launch
    launcher = start(Settings(user_name="someone", role=role), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    assert "requests_pane" not in launcher.host.panes
    assert not [a for a in launcher.window.menu("&Go").actions() if "requests" in a.text().lower()]
