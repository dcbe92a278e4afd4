"""The Audit pane: an admin sees the views just made, filters them, verifies the chain and opens
a customer from an entry; roles without the audit permission get no pane at all."""

import pytest
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import Settings
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def _ids(demo_cache, n):
    import sqlite3

    conn = sqlite3.connect(demo_cache)
    try:
        return [tuple(r) for r in conn.execute("SELECT id, display_name FROM customer ORDER BY id LIMIT ?", (n,))]
    finally:
        conn.close()


def test_an_admin_reads_filters_and_verifies_the_trail(qtbot, launch, demo_cache):
    (first, first_name), (second, second_name) = _ids(demo_cache, 2)
    start, _rec = launch
    launcher = start(Settings(user_name="ada.admin", role="admin"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window, profile = launcher.window, launcher.host.panes["profile_pane"]
    for cid in (first, second, first):
        with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
            profile.show_customer(cid)
    (action,) = [a for a in window.menu("&Go").actions() if a.text() == "&Audit trail"]
    pane = launcher.host.panes["audit_pane"]
    pane.action_box.setCurrentText("profile.view")
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000) as shown:
        action.trigger()
    assert window.docks["audit_pane"].isVisible()
    assert shown.args[0] == 3
    assert [pane.table.item(r, 4).text() for r in range(3)] == [first_name, second_name, first_name]
    assert pane.table.item(1, 4).toolTip() == f"customer {second}"
    assert {pane.table.item(r, 2).text() for r in range(3)} == {"ada.admin"}
    pane.customer_box.setText(second)
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000) as shown:
        pane.refresh()
    assert shown.args[0] == 1
    qtbot.waitUntil(lambda: pane.verify_button.isEnabled(), timeout=5_000)
    pane.verify()
    qtbot.waitUntil(lambda: "intact" in pane.verdict.text(), timeout=10_000)
    assert "every link matches" in pane.verdict.text()
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        pane.table.cellDoubleClicked.emit(0, 1)
    assert profile.customer_id == second
    window.docks["audit_pane"].raise_()
    pane.customer_box.clear()
    pane.action_box.setCurrentText("")
    with qtbot.waitSignal(pane.sig_shown, timeout=10_000):
        pane.refresh()
    window.resize(1366, 768)
    QApplication.processEvents()
    save_screenshot(window, "audit_pane")


def test_a_field_rep_has_no_audit_pane(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(Settings(user_name="fred.rep", role="field_rep"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    assert "audit_pane" not in launcher.host.panes
    assert "&Audit trail" not in [a.text() for a in launcher.window.menu("&Go").actions()]


def test_a_search_that_opens_a_customer_is_in_the_trail(qtbot, launch, demo_cache):
    from PySide6.QtCore import Qt

    ((_cid, name),) = _ids(demo_cache, 1)
    start, _rec = launch
    launcher = start(Settings(user_name="ada.admin", role="admin"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    lookup, profile = launcher.host.panes["lookup_pane"], launcher.host.panes["profile_pane"]
    with qtbot.waitSignal(lookup.sig_results_shown, timeout=10_000):
        lookup.search_box.setText(name)
    cid = lookup.model.hit(0).customer_id  # the first hit, which Enter opens
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        qtbot.keyClick(lookup.search_box, Qt.Key.Key_Return)
    services = launcher.services
    qtbot.waitUntil(lambda: len(services.audit.entries()) == 2, timeout=10_000)
    view, search = sorted(services.audit.entries(), key=lambda e: e.action)
    assert (view.action, view.entity_id) == ("profile.view", cid)
    assert (search.action, search.entity_id, search.details["query"]) == ("search", cid, name)
