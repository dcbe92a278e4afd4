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
