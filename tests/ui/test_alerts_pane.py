"""The Alerts pane with a live listener on a real broker, the Rules dialog and the dead letters."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from c360_desktop.core.alerts.pipeline import AlertPipeline, Message
from c360_desktop.core.alerts.rules import Audience, RuleEngine
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import encode
from c360_desktop.core.services import Services
from c360_desktop.core.settings import ConnectionProfile, Settings
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.panes.alerts.pane import AlertsPane
from tests.alerts.helpers import expected_alert_ids, malformed, produce, simulated
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


@pytest.fixture
def kafka():
    from server_sync.devbroker import DevKafka
    from server_sync.kafka import kafka_init

    with DevKafka() as broker:
        kafka_init(broker.bootstrap)
        yield broker


def _window(tmp_path, demo_cache, bootstrap=None):
    profile = ConnectionProfile(name="dev", url="postgresql+psycopg2://c360@127.0.0.1:5432/c360",
                                kafka_bootstrap=bootstrap)
    settings = Settings(user_name="tester", role="manager", profiles=[profile], active_profile="dev",
                        sync_every_minutes=0)
    services = Services.open(demo_cache, settings)
    window = MainWindow(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    return services, window


def test_live_alerts_reach_the_pane_and_can_be_handled(qtbot, tmp_path, demo_cache, runner, kafka):
    from c360_desktop.ui.controllers.alerts import AlertsController

    services, window = _window(tmp_path, demo_cache, kafka.bootstrap)
    pane = AlertsPane(services, runner)
    window.add_pane(pane, "Alerts", "alerts_pane", area="bottom")
    opened: list[str] = []
    pane.sig_customer_requested.connect(opened.append)
    controller = AlertsController(window, services, runner, pane, assign=True)
    window.resize(1200, 700)
    window.show()
    qtbot.waitUntil(lambda: pane.model.rowCount() == 0 and pane.summary.text() != "", timeout=5000)

    events = simulated(services.cache, 1500, seed=4)
    bad = malformed(40)
    expected = expected_alert_ids(services.cache, RuleEngine(AlertStore(services.cache).rules()),
                                  Audience("tester", "manager"), events)
    produce(kafka.bootstrap, [(t, encode(e)) for t, e in events] + [(t, v) for t, v, _w in bad])
    qtbot.waitUntil(lambda: pane.model.rowCount() == len(expected), timeout=30_000)
    qtbot.waitUntil(lambda: controller.state.text() == "Alerts: live", timeout=5000)
    assert {r.event_id for r in pane.model.rows()} == expected
    dock = window.docks["alerts_pane"]
    qtbot.waitUntil(lambda: dock.windowTitle() == f"Alerts ({len(expected):,})", timeout=5000)
    qtbot.waitUntil(lambda: pane.dead_button.text() == "Dead letters (40)…", timeout=5000)
    severities = [r.severity for r in pane.model.rows()]
    assert "high" in severities and "medium" in severities
    save_screenshot(window, "alerts_pane_live")

    # Double-click opens the customer and marks the alert read.
    first = next(i for i, r in enumerate(pane.model.rows()) if r.customer_id)
    row = pane.model.row(first)
    pane.open_alert(pane.model.index(first, 0))
    assert opened == [row.customer_id]
    assert pane.unread == len(expected) - 1

    # Acknowledge (Ctrl+Shift+A): it leaves the list, and the change waits in the outbox.
    pane.table.selectRow(first)
    pane.table.setFocus()
    qtbot.keyClick(pane.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: row.id not in {r.id for r in pane.model.rows()}, timeout=5000)
    queued = services.cache.reader().execute(
        "SELECT count(*) FROM outbox WHERE entity = 'alert' AND entity_id = ?", (row.id,)).fetchone()[0]
    assert queued == 1

    # Filters work on what is stored.
    pane.severity.setCurrentIndex(3)  # critical only
    qtbot.waitUntil(lambda: all(r.severity == "critical" for r in pane.model.rows()), timeout=5000)
    controller.stop()
    window.close()
    services.close()


def test_without_kafka_the_status_says_so(qtbot, tmp_path, demo_cache, runner):
    from c360_desktop.ui.controllers.alerts import AlertsController

    services, window = _window(tmp_path, demo_cache)
    pane = AlertsPane(services, runner)
    window.add_pane(pane, "Alerts", "alerts_pane", area="bottom")
    controller = AlertsController(window, services, runner, pane)
    assert controller.state.text() == "Alerts: off"
    window.close()
    services.close()


def test_rules_dialog_validates_tests_and_saves(qtbot, demo_cache, runner):
    from c360_desktop.ui.panes.alerts.rules_dialog import RulesDialog

    services = Services.open(demo_cache, Settings(user_name="tester"))
    store = AlertStore(services.cache)
    events = simulated(services.cache, 1000, seed=8)
    AlertPipeline(services.cache, RuleEngine(store.rules()), Audience("tester", "manager")).handle(
        [Message(t, 0, i, encode(e)) for i, (t, e) in enumerate(events)])
    dialog = RulesDialog(store, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.list.count() == 6
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)

    dialog.add_rule()
    qtbot.keyClicks(dialog.name, "Orders over 300k")
    dialog.conditions.item(0, 0).setText("payload.amont")
    assert "'payload.amont' is not a field of order.placed" in dialog.problems.text()
    assert not save.isEnabled()
    save_screenshot(dialog, "alerts_rules_dialog_invalid")
    dialog.conditions.item(0, 0).setText("payload.amount")
    dialog.conditions.item(0, 2).setText("300000")
    assert dialog.problems.text() == "" and save.isEnabled()
    dialog.test_button.click()
    big = [e for _t, e in events if e["type"] == "order.placed" and float(e["payload"]["amount"]) >= 300_000]
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith(f"{len(big):,} recent events"), timeout=10_000)
    save_screenshot(dialog, "alerts_rules_dialog_tested")
    save.click()
    qtbot.waitUntil(lambda: len(store.rules()) == 7, timeout=5000)
    assert store.rules()[-1].name == "Orders over 300k"
    services.close()


def test_dead_letters_are_viewable(qtbot, demo_cache):
    from c360_desktop.ui.panes.alerts.dead_letters import DeadLettersDialog

    services = Services.open(demo_cache, Settings(user_name="tester"))
    store = AlertStore(services.cache)
    AlertPipeline(services.cache, RuleEngine([]), Audience("tester", "manager")).handle(
        [Message(t, 2, i, v) for i, (t, v, _w) in enumerate(malformed(16))])
    dialog = DeadLettersDialog(store.dead_letters(), store.dead_letter_count())
    qtbot.addWidget(dialog)
    dialog.resize(1100, 450)
    dialog.show()
    assert dialog.table.rowCount() == 16
    reasons = {dialog.table.item(r, 5).text().split(":")[0] for r in range(16)}
    assert "not valid JSON" in reasons
    save_screenshot(dialog, "alerts_dead_letters")
    services.close()
