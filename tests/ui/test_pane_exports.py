"""Every table pane exports what it shows (as shown: a masked field stays masked), through the
same worker and manifest as reports."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.conftest import save_screenshot

pytestmark = [pytest.mark.ui]


def _export(qtbot, button, tables, out):
    assert tables, "the pane offers its table"
    handle = button.start(tables[0], out, "xlsx")
    qtbot.waitUntil(lambda: handle.done, timeout=30_000)
    return load_workbook(out)


def test_lookup_results_export_as_shown(qtbot, services, runner, tmp_path):
    from c360_desktop.ui.panes.lookup.pane import LookupPane

    pane = LookupPane(services, runner)
    qtbot.addWidget(pane)
    pane.show()
    pane.search_box.setText("Brown")
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=30_000)
    tables = pane.export_button._tables()
    wb = _export(qtbot, pane.export_button, tables, tmp_path / "found.xlsx")
    ws = wb["Report"]
    shown = [[pane.model.data(pane.model.index(r, c)) for c in range(pane.model.columnCount())]
             for r in range(pane.model.rowCount())]
    assert ws.max_row == len(shown) + 1
    assert [c.value for c in ws[2]][:2] == shown[0][:2]
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert "search: 'Brown'" in about["Filters"] and about["Rows"] == len(shown)
    save_screenshot(pane, "lookup_with_export")


def test_the_lead_queue_and_alerts_export_as_shown(qtbot, services, runner, tmp_path):
    from datetime import date

    from c360_desktop.ui.panes.alerts.pane import AlertsPane
    from c360_desktop.ui.panes.leads.pane import LeadsPane

    leads = LeadsPane(services, runner)
    qtbot.addWidget(leads)
    leads.show()
    leads.refresh()
    qtbot.waitUntil(lambda: leads.model.rowCount() > 0, timeout=30_000)
    tables = leads.export_button._tables()
    assert "the first" in tables[0].title and "c360 leads --json" in tables[0].title
    ws = _export(qtbot, leads.export_button, tables, tmp_path / "leads.xlsx")["Report"]
    assert ws.max_row == leads.model.rowCount() + 1

    services.reports.raise_budget_alerts(date(2026, 11, 26))
    alerts = AlertsPane(services, runner)
    qtbot.addWidget(alerts)
    alerts.show()
    alerts.refresh()
    qtbot.waitUntil(lambda: alerts.model.rowCount() > 0, timeout=30_000)
    ws = _export(qtbot, alerts.export_button, alerts.export_button._tables(), tmp_path / "alerts.xlsx")["Report"]
    assert any("will pass its budget" in str(c.value) for row in ws.iter_rows() for c in row)


def test_sync_conflicts_export_as_shown(qtbot, services, runner, tmp_path):
    import json

    from c360_desktop.ui.panes.conflicts.pane import ConflictsPane

    with services.cache.writer() as conn:
        (cid, name) = conn.execute("SELECT id, display_name FROM customer ORDER BY id LIMIT 1").fetchone()
        conn.execute("INSERT INTO sync_conflict (entity, entity_id, field, base, mine, theirs, theirs_row_version, "
                     "outbox_key, created_at) VALUES ('customer', ?, 'primary_phone', ?, ?, ?, 7, 'k1', "
                     "'2026-11-27 10:00:00')", (cid, json.dumps("+18765550100"), json.dumps("+18765550111"),
                                                 json.dumps("+18765550122")))
    pane = ConflictsPane(services, runner)
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.table.rowCount() == 1, timeout=30_000)
    ws = _export(qtbot, pane.export_button, pane.export_button._tables(), tmp_path / "conflicts.xlsx")["Report"]
    assert [c.value for c in ws[2]][:2] == [name, "primary_phone"]
