"""The lead queue pane on demo data: ranked, filtered in SQL, quick actions recorded once."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from c360_desktop.ui.panes.leads.pane import LeadsPane
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_lead_queue_ranks_filters_and_logs_one_activity_per_action(qtbot, services, runner, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened_urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened_urls.append(url.toString())))
    pane = LeadsPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1300, 600)
    pane.show()
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=10_000)
    scores = [lead.score for lead in pane.leads]
    assert scores == sorted(scores, reverse=True)
    assert "scores are rule-based until the lead model has run" in pane.summary.text()  # labelled as such
    save_screenshot(pane, "lead_queue")

    pane.parish.setCurrentIndex(pane.parish.findData("JM-12"))
    pane.band.setCurrentIndex(2)  # hot and warm
    qtbot.waitUntil(lambda: pane.leads and all(r.parish == "JM-12" for r in pane.leads), timeout=10_000)
    assert all(r.band in ("hot", "warm") for r in pane.leads)

    pane.table.selectRow(0)
    lead = pane.current()
    dialog = pane.quick_action("call")
    assert opened_urls and opened_urls[0].startswith("tel:+1")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    logged = []
    pane.sig_activity_logged.connect(logged.append)
    save.click()
    save.click()  # a nervous double click
    dialog.buttons.accepted.emit()  # and once more, however it arrives
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    runner.wait()
    count = services.cache.reader().execute(
        "SELECT count(*) FROM sales_activity WHERE id = ?", (dialog.action_id,)).fetchone()[0]
    assert count == 1 and logged == [dialog.action_id]
    kinds = services.cache.reader().execute(
        "SELECT entity FROM outbox WHERE entity IN ('sales_activity', 'lead') ORDER BY seq").fetchall()
    assert kinds == [("sales_activity",), ("lead",)]
    assert lead.lead_id in {r[0] for r in services.cache.reader().execute(
        "SELECT lead_id FROM lead_rank WHERE last_contact_at IS NOT NULL")}


def test_managers_filter_by_rep_and_source_choose_columns_assign_and_rebalance(qtbot, services, runner):
    conn = services.cache.reader()
    rep_a, rep_b = [r for (r,) in conn.execute(
        "SELECT r.id FROM sales_rep r JOIN territory t ON t.id = r.territory_id WHERE t.code = 'JM-01' ORDER BY r.id")]
    pane = LeadsPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1300, 600)
    pane.show()
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=10_000)

    pane.rep.setCurrentIndex(pane.rep.findData(rep_a))
    qtbot.waitUntil(lambda: pane.leads and all(r.rep_id == rep_a for r in pane.leads), timeout=10_000)
    qtbot.waitUntil(lambda: pane.source.count() > 1, timeout=10_000)  # listed in the background
    pane.source.setCurrentIndex(1)
    source = pane.source.currentData()[0]
    qtbot.waitUntil(lambda: all(r.source == source for r in pane.leads), timeout=10_000)
    pane.source.setCurrentIndex(0)

    # Columns: hidden by the user, remembered by the next pane.
    rep_col = LeadsPane.COLUMNS.index("Rep")
    assert not pane.table.isColumnHidden(rep_col) and pane.table.isColumnHidden(LeadsPane.COLUMNS.index("Source"))
    pane.set_column_visible(rep_col, False)
    again = LeadsPane(services, runner)
    qtbot.addWidget(again)
    assert again.table.isColumnHidden(rep_col)
    pane.set_column_visible(rep_col, True)

    # Assign two of rep A's leads to rep B (multi-select).
    qtbot.waitUntil(lambda: len(pane.leads) >= 2 and all(r.rep_id == rep_a for r in pane.leads), timeout=10_000)
    pane.table.selectRow(0)
    pane.table.selectionModel().select(pane.model.index(1, 0), pane.table.selectionModel().SelectionFlag.Select
                                       | pane.table.selectionModel().SelectionFlag.Rows)
    moved = {lead.lead_id for lead in pane.selected_leads()}
    assert len(moved) == 2
    pane.assign_selected(rep_b)
    qtbot.waitUntil(lambda: "2 lead(s) assigned" in pane.summary.text(), timeout=10_000)
    assert {lid for (lid,) in services.cache.reader().execute(
        "SELECT id FROM lead WHERE rep_id = ?", (rep_b,))} >= moved
    qtbot.waitUntil(lambda: not moved & {r.lead_id for r in pane.leads}, timeout=10_000)  # gone from A's queue

    # Rebalance Kingston between its two reps: the dialog shows loads before and after and applies.
    pane.parish.setCurrentIndex(pane.parish.findData("JM-01"))
    with services.cache.writer() as w:  # everything to rep A first, so there is something to even out
        w.execute("UPDATE lead_rank SET rep_id = ? WHERE rep_id = ?", (rep_a, rep_b))
    dialog = pane.rebalance()
    assert set(dialog.chosen()) == {rep_a, rep_b}  # the parish's reps, ticked
    assert dialog.plan is not None and dialog.plan.moves and dialog.apply_button.isEnabled()
    assert dialog.loads.rowCount() == 2 and dialog.moves.rowCount() == len(dialog.plan.moves)
    save_screenshot(dialog, "rebalance_dialog")
    plan = dialog.plan
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: "Rebalanced" in pane.summary.text(), timeout=10_000)
    owners = dict(services.cache.reader().execute("SELECT id, rep_id FROM lead"))
    assert all(owners[m.lead_id] == m.to_rep for m in plan.moves)


def test_call_and_email_follow_the_leads_marketing_consent(qtbot, services, runner, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString())))
    pane = LeadsPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1300, 600)
    pane.show()
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=10_000)
    leads = services.leads
    row = next(i for i, lead in enumerate(pane.leads) if not leads.withdrawn(lead.customer_id))
    target = pane.leads[row]
    services.profiles.record_consent(target.customer_id, "phone", "marketing", "withdrawn", "phone call", "tester")
    assert leads.withdrawn(target.customer_id).keys() == {"phone"}
    pane.table.selectRow(row)
    assert not pane.actions["call"].isEnabled() and pane.actions["email"].isEnabled()
    assert "withdrew consent to marketing calls on" in pane.actions["call"].toolTip()
    before = services.cache.reader().execute("SELECT count(*) FROM sales_activity").fetchone()[0]
    assert pane.quick_action("call") is None and not opened  # nothing dialled, nothing recorded
    assert "record a service contact" in pane.summary.text()
    assert services.cache.reader().execute("SELECT count(*) FROM sales_activity").fetchone()[0] == before
    save_screenshot(pane, "lead_queue_consent")
    other = next(i for i, lead in enumerate(pane.leads) if i != row and not leads.withdrawn(lead.customer_id))
    pane.table.selectRow(other)
    assert pane.actions["call"].isEnabled() and pane.actions["call"].toolTip() == ""
