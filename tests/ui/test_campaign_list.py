"""Tools > Campaign list (issue 21, item 7): the list a campaign may use, honouring consent, with
the left-out counts, and exported by the Export button as every other table is."""

from __future__ import annotations

from c360_desktop.core.settings import Settings
from c360_desktop.ui.widgets.campaign_list import CampaignListDialog
from tests.conftest import save_screenshot


def test_the_campaign_list_shows_who_may_be_reached_and_exports(qtbot, launch, demo_cache, tmp_path):
    start, _rec = launch
    launcher = start(Settings(user_name="mgr", role="manager"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    action = next(a for a in launcher.window.findChildren(type(launcher.lock.lock_action))
                  if a.text() == "&Campaign list…")
    assert action.shortcut().toString() == "Ctrl+Shift+L"
    action.trigger()
    dialog = next(w for w in launcher.window.findChildren(CampaignListDialog))
    assert [dialog.channel.itemText(i) for i in range(dialog.channel.count())] == [
        "E-mail", "SMS", "WhatsApp", "Phone calls"]
    qtbot.waitUntil(lambda: "may receive marketing" in dialog.summary.text(), timeout=10_000)
    _table, found = launcher.services.reports.campaign_list("email")
    assert dialog.summary.text().startswith(found.summary())
    assert dialog.table.rowCount() == min(len(found.frame), 200)
    dialog.channel.setCurrentIndex(dialog.channel.findData("sms"))
    qtbot.waitUntil(lambda: "by SMS" in dialog.summary.text(), timeout=10_000)
    dialog.parish.setCurrentIndex(dialog.parish.findData("JM-06"))
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0 or dialog.table.item(0, 1).text() == "St. Ann",
                    timeout=10_000)
    qtbot.waitUntil(lambda: "Working" not in dialog.summary.text(), timeout=10_000)
    assert all(dialog.table.item(r, 1).text() == "St. Ann" for r in range(dialog.table.rowCount()))
    save_screenshot(dialog, "campaign_list")
    out = tmp_path / "sms.csv"
    handle = dialog.export.start(dialog.table_data, out, "csv")
    qtbot.waitUntil(lambda: handle.done, timeout=10_000)
    assert out.exists() and "St. Ann" in out.read_text("utf-8-sig")
    assert dialog.export.isEnabled()


def test_a_field_rep_may_look_but_not_export(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(Settings(user_name="rep", role="field_rep"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    dialog = CampaignListDialog(launcher.services, launcher.runner, launcher.window)
    qtbot.waitUntil(lambda: "may receive marketing" in dialog.summary.text(), timeout=10_000)
    assert not dialog.export.isEnabled() and "may not export" in dialog.export.toolTip()
    dialog.close()
