"""Consent in the 360 view: a rep records a withdrawal the customer made on the phone; the tab,
the outbox, the audit trail and the lead queue all follow."""

import sqlite3

import pytest
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import Settings
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_a_withdrawal_by_phone_is_saved_queued_audited_and_stops_the_offer(qtbot, launch, demo_cache):
    conn = sqlite3.connect(demo_cache)
    cid = conn.execute(
        "SELECT r.customer_id FROM lead_rank r WHERE r.next_action = 'Send an offer' "
        "AND r.next_action_reason LIKE '%by e-mail' ORDER BY r.customer_id LIMIT 1").fetchone()[0]
    conn.close()
    start, _rec = launch
    launcher = start(Settings(user_name="rep.campbell", role="field_rep"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    profile = launcher.host.panes["profile_pane"]
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        profile.show_customer(cid)
    tab = profile.consent
    profile.tabs.setCurrentWidget(tab)
    shown = {(tab.table.item(r, 0).text(), tab.table.item(r, 1).text()): tab.table.item(r, 2).text()
             for r in range(tab.table.rowCount())}
    assert shown[("Marketing", "E-mail")] == "Granted"
    tab.channel_box.setCurrentIndex(tab.channel_box.findData("email"))
    tab.source_box.setCurrentText("phone call")
    tab.basis_box.setCurrentIndex(tab.basis_box.findData("legitimate_interests"))
    with qtbot.waitSignal(tab.sig_consent_saved, timeout=10_000):
        tab.withdraw_button.click()
    qtbot.waitUntil(lambda: any(tab.table.item(r, 2).text() == "Withdrawn" for r in range(tab.table.rowCount())),
                    timeout=10_000)
    row = next(r for r in range(tab.table.rowCount()) if tab.table.item(r, 1).text() == "E-mail")
    assert tab.table.item(row, 2).text() == "Withdrawn" and tab.table.item(row, 4).text() == "phone call"
    assert tab.table.item(row, 5).text() == "Legitimate interests"
    assert tab.table.item(row, 6).text() == "rep.campbell  · waiting to sync"
    assert "sent to the central database at the next sync" in tab.message.text()
    window = launcher.window
    window.docks["profile_pane"].raise_()
    window.resize(1366, 768)
    QApplication.processEvents()
    save_screenshot(window, "consent_tab")

    reader = launcher.services.cache.reader()
    assert reader.execute("SELECT count(*) FROM outbox WHERE entity = 'consent' AND pushed_at IS NULL").fetchone() == (1,)
    assert reader.execute("SELECT count(*) FROM audit_event WHERE action = 'consent.withdrawn' AND entity_id = ?",
                          (cid,)).fetchone() == (1,)
    assert reader.execute("SELECT legal_basis FROM consent WHERE customer_id = ? ORDER BY recorded_at DESC LIMIT 1",
                          (cid,)).fetchone() == ("legitimate_interests",)
    reasons = [r for (r,) in reader.execute("SELECT next_action_reason FROM lead_rank WHERE customer_id = ?", (cid,))]
    assert reasons and not any(r.endswith("by e-mail") for r in reasons)
