"""Sync in the app, against the real PostgreSQL: F5, conflicts pane, offline, Connections dialog."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import ConnectionProfile, Settings, load_settings, settings_path
from c360_desktop.ui import app as app_mod
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


class MemoryKeyring:
    """An in-memory keyring backend (there is no OS keyring on a headless Linux box)."""

    priority = 1

    def __init__(self):
        self.store = {}

    def get_password(self, service, user):
        return self.store.get((service, user))

    def set_password(self, service, user, password):
        self.store[(service, user)] = password

    def delete_password(self, service, user):
        self.store.pop((service, user), None)


@pytest.fixture
def keyring_memory(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    store = MemoryKeyring()
    backend = type("MemoryBackend", (KeyringBackend,), {
        "priority": 1, "get_password": lambda s, a, b: store.get_password(a, b),
        "set_password": lambda s, a, b, c: store.set_password(a, b, c),
        "delete_password": lambda s, a, b: store.delete_password(a, b)})()
    old = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield store
    keyring.set_keyring(old)


@pytest.fixture
def app_for(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(app_mod.Launcher, "quit", lambda self, code, message=None: None)
    launchers = []

    def start(url, parishes=(), kafka=None):
        settings = Settings(user_name="rep.campbell", sync_every_minutes=0, active_profile="test",
                            profiles=[ConnectionProfile(name="test", url=url, territory=list(parishes),
                                                        kafka_bootstrap=kafka)])
        launcher = app_mod.Launcher(QApplication.instance(), settings, str(tmp_path / "cache.db"))
        launchers.append(launcher)
        (tmp_path / "cache.db").unlink(missing_ok=True)
        from c360_desktop.core.storage.cache import open_cache

        open_cache(tmp_path / "cache.db").close()  # an empty cache, as on a new laptop
        launcher.start()
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
        return launcher

    yield start
    for launcher in launchers:
        launcher.window.close()
        launcher.runner.wait()
        launcher.services.close()


def test_f5_syncs_and_a_conflict_is_decided_in_the_pane(qtbot, app_for, central_url, central):
    launcher = app_for(central_url)
    window, sync = launcher.window, launcher.sync
    assert "Online: test" in sync.state.text()
    with qtbot.waitSignal(sync.sig_sync_finished, timeout=60_000) as done:
        qtbot.keyClick(window, Qt.Key.Key_F5)
        assert sync.details_button.isVisible()
        sync.details_button.click()  # a progress bar per table
    assert done.args == [True]
    qtbot.waitUntil(lambda: window.count_label.text().startswith("1,5"), timeout=10_000)
    details = sync.details
    _name, bar, rows, _speed, left = details.rows["customer"]
    n_customers, n_txn = launcher.services.cache.reader().execute(
        'SELECT (SELECT count(*) FROM customer), (SELECT count(*) FROM "transaction")').fetchone()
    assert rows.text() == f"{n_customers:,} of {n_customers:,}" and bar.value() == 1000 and left.text() == "done"
    assert details.rows["transaction"][2].text() == f"{n_txn:,} of {n_txn:,}"
    assert len(details.rows) >= 20  # every synchronised table has its row
    save_screenshot(details, "sync_details")
    services = launcher.services
    cid = services.cache.reader().execute(
        "SELECT id FROM customer WHERE primary_email IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0]
    services.profiles.update_customer(cid, {"primary_email": "mine@example.com"}, "rep.campbell")
    cur = central.cursor()
    cur.execute("UPDATE customer SET primary_email = 'theirs@example.com' WHERE id = %s", (cid,))
    central.commit()
    pane = launcher.host.panes["conflicts_pane"]
    with qtbot.waitSignal(pane.sig_conflicts_shown, timeout=60_000, check_params_cb=lambda n: n == 1):
        sync.sync_now()
    assert launcher.window.docks["conflicts_pane"].isVisible()  # the inbox shows itself when it has something
    assert [pane.table.item(0, c).text() for c in (1, 3, 4)] == ["primary_email", "mine@example.com", "theirs@example.com"]
    save_screenshot(window, "sync_conflicts")
    with qtbot.waitSignal(pane.sig_conflicts_shown, timeout=10_000, check_params_cb=lambda n: n == 0):
        qtbot.mouseClick(pane.mine_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(sync.sig_sync_finished, timeout=60_000):
        sync.sync_now()
    cur.execute("SELECT primary_email FROM customer WHERE id = %s", (cid,))
    assert cur.fetchone() == ("mine@example.com",)


def test_an_unreachable_server_leaves_the_app_usable_and_says_offline(qtbot, app_for):
    from server_sync.devserver import free_port

    launcher = app_for(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/c360")
    sync = launcher.sync
    with qtbot.waitSignal(sync.sig_sync_finished, timeout=60_000) as done:
        sync.sync_now()
    assert done.args == [False]
    assert sync.state.text().startswith("Offline since")
    assert "cannot reach the database server" in sync.state.toolTip()
    assert sync.retry.isActive() and sync.retry_delay_s == 30  # it tries again soon, by itself
    with qtbot.waitSignal(sync.sig_sync_finished, timeout=60_000):
        sync.sync_now()
    assert sync.retry_delay_s == 60  # and then less often
    lookup = launcher.host.panes["lookup_pane"]
    with qtbot.waitSignal(lookup.sig_results_shown, timeout=10_000):
        lookup.search_box.setText("anyone")  # still usable
    save_screenshot(launcher.window, "sync_offline")


def test_connections_dialog_keeps_the_password_in_the_keyring(qtbot, keyring_memory, pg):
    from c360_desktop.core.sync import account_for
    from c360_desktop.ui.widgets.connections import ConnectionsDialog
    from c360_desktop.ui.workers import TaskRunner

    settings = Settings(user_name="rep")
    runner = TaskRunner()
    dialog = ConnectionsDialog(settings, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url.setText(pg.url.replace("postgres@", "postgres:oops@"))
    dialog.name.setText("prod")
    dialog.save_button.click()
    assert "must not contain a password" in dialog.message.text()
    dialog.url.setText(pg.url)
    dialog.territory.setText("St Andrew, JM-12")
    dialog.password.setText("s3cret")
    dialog.save_button.click()
    dialog.use_button.click()
    saved, _ = load_settings()
    assert saved.profile() == ConnectionProfile(name="prod", url=pg.url, territory=["JM-02", "JM-12"])
    assert "s3cret" not in settings_path().read_text()
    assert keyring_memory.get_password("c360-desktop", account_for(pg.url)) == "s3cret"
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Connected: PostgreSQL 15"), timeout=15_000)
    save_screenshot(dialog, "connections_dialog")
    runner.wait()


def test_connections_dialog_takes_kafka_and_tests_it(qtbot, keyring_memory, pg):
    from c360_desktop.ui.widgets.connections import ConnectionsDialog
    from c360_desktop.ui.workers import TaskRunner
    from server_sync.devbroker import DevKafka
    from server_sync.kafka import kafka_init

    settings = Settings(user_name="rep")
    runner = TaskRunner()
    dialog = ConnectionsDialog(settings, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    with DevKafka() as kafka:
        dialog.name.setText("dev")
        dialog.url.setText(pg.url)
        dialog.kafka.setText("not a host list")
        dialog.save_button.click()
        assert "kafka_bootstrap" in dialog.message.text()
        dialog.kafka.setText(kafka.bootstrap)
        dialog.kafka_mechanism.setCurrentText("SCRAM-SHA-256")
        dialog.kafka_user.setText("rep")
        dialog.kafka_password.setText("k4fka")
        dialog.save_button.click()
        saved, _ = load_settings()
        profile = saved.profile("dev")
        assert profile.kafka_bootstrap == kafka.bootstrap and profile.kafka_sasl_user == "rep"
        assert "k4fka" not in settings_path().read_text()
        assert keyring_memory.get_password("c360-desktop", profile.kafka_account) == "k4fka"
        # The test broker speaks plaintext: test without SASL, first before the topics exist.
        dialog.kafka_mechanism.setCurrentText("(none)")
        dialog.test_button.click()
        qtbot.waitUntil(lambda: "Kafka:" in dialog.message.text(), timeout=20_000)
        assert "0 of 4 topics; round trip" in dialog.message.text() and "run c360-server kafka-init" in dialog.message.text()
        kafka_init(kafka.bootstrap)
        dialog.test_button.click()
        qtbot.waitUntil(lambda: "4 of 4 topics" in dialog.message.text(), timeout=20_000)
        save_screenshot(dialog, "connections_dialog_kafka")
        runner.wait()


def test_central_changes_announced_on_kafka_are_pulled_without_waiting(qtbot, app_for, central_url, central,
                                                                      monkeypatch):
    from c360_desktop.ui.controllers.alerts import AlertsController
    from server_sync.devbroker import DevKafka
    from server_sync.kafka import ChangePublisher, kafka_init

    monkeypatch.setattr(AlertsController, "ASSIGN", True)
    with DevKafka() as kafka:
        kafka_init(kafka.bootstrap)
        launcher = app_for(central_url, kafka=kafka.bootstrap)
        sync = launcher.sync
        with qtbot.waitSignal(sync.sig_sync_finished, timeout=120_000):
            sync.sync_now()
        cache = launcher.services.cache
        cid = cache.reader().execute("SELECT id FROM customer ORDER BY id LIMIT 1").fetchone()[0]
        publisher = ChangePublisher(central_url, kafka.bootstrap)
        cur = central.cursor()
        cur.execute("UPDATE customer SET display_name = 'Announced Change' WHERE id = %s", (cid,))
        central.commit()
        assert publisher.publish_once() == 1
        publisher.close()
        # No F5, no schedule: the change event alone brings it in (after a short debounce).
        qtbot.waitUntil(lambda: cache.reader().execute(
            "SELECT display_name FROM customer WHERE id = ?", (cid,)).fetchone()[0] == "Announced Change",
            timeout=30_000)
        launcher.alerts.stop()


def _entries(path):
    import json

    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_one_correlation_id_follows_f5_through_the_worker_and_the_sync(qtbot, app_for, central_url,
                                                                        keyring_memory, log_file):
    """Support searches the log for one id and gets the whole story of one action; the password
    (from the keyring) and the customers' TRNs, phones and e-mails never reach the log."""
    from c360_desktop.core.sync import account_for

    keyring_memory.set_password("c360-desktop", account_for(central_url), "pw-Zq81x-never-logged")
    launcher = app_for(central_url)
    with qtbot.waitSignal(launcher.sync.sig_sync_finished, timeout=60_000) as done:
        qtbot.keyClick(launcher.window, Qt.Key.Key_F5)
    assert done.args == [True]
    found = _entries(log_file)
    (started,) = [e for e in found if e["msg"].startswith("task SyncController.sync_now.work started")]
    cid = started["cid"]
    assert len(cid) == 12 and started["thread"] != "MainThread"  # logged by the worker
    story = [e["msg"] for e in found if e["cid"] == cid]
    assert story[0] == started["msg"] and story[-1].startswith("task SyncController.sync_now.work finished")
    assert any(m.startswith("sync with 127.0.0.1 started") for m in story)
    assert any(m.startswith("pulled ") and " rows of customer in " in m for m in story)
    assert any(m.startswith("pull finished: ") for m in story)
    assert not [e for e in found if e["msg"].startswith(("pulled ", "pull finished")) and e["cid"] != cid]

    # the main flows: a search, a 360 view, an edit pushed by a second sync
    services = launcher.services
    customer_id, name = services.cache.reader().execute(
        "SELECT id, display_name FROM customer WHERE trn IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    lookup = launcher.host.panes["lookup_pane"]
    with qtbot.waitSignal(lookup.sig_results_shown, timeout=10_000):
        lookup.search_box.setText(name)
    with qtbot.waitSignal(launcher.host.panes["profile_pane"].sig_profile_shown, timeout=10_000):
        launcher.host.open_customer(customer_id)
    services.profiles.update_customer(customer_id, {"primary_email": "moved.on@example.com"}, "rep.campbell")
    (waiting,) = services.cache.reader().execute("SELECT count(*) FROM outbox WHERE pushed_at IS NULL").fetchone()
    assert waiting == 3  # the edit, and the audit entries of the view and of the edit
    with qtbot.waitSignal(launcher.sync.sig_sync_finished, timeout=60_000):
        launcher.sync.sync_now()
    text = log_file.read_text("utf-8")
    assert "pushing 3 local changes" in text and "push finished: 3 applied" in text
    assert "pw-Zq81x-never-logged" not in text
    rows = services.cache.reader().execute(
        "SELECT trn, primary_phone, primary_email FROM customer").fetchall()
    leaked = {v for row in rows for v in row if v and v in text}  # the new e-mail among them
    assert not leaked, f"personal data in the log: {sorted(leaked)[:5]}"


def test_the_central_connection_names_its_correlation_id(central_url):
    """The server sees the id too (pg_stat_activity, and its log with %a in log_line_prefix)."""
    from sqlalchemy import text

    from c360_desktop.core import logs
    from c360_desktop.core.sync.central import Central

    with logs.correlated("feedc0ffee12"):
        central = Central(central_url)
    try:
        (name,) = central.run(text("SELECT current_setting('application_name')"))[0]
    finally:
        central.close()
    assert name == "c360-desktop feedc0ffee12"
