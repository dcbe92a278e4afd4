"""Alerts and the central side: the change publisher drives incremental pulls, acknowledgements
sync, topics are created, e-mail goes out. Real PostgreSQL, real broker, real SMTP on loopback."""

from __future__ import annotations

import pytest

from c360_desktop.core.alerts.listener import AlertListener, KafkaConfig, wait_until
from c360_desktop.core.alerts.pipeline import AlertPipeline, Message
from c360_desktop.core.alerts.rules import AlertRule, Audience, RuleEngine
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import encode, make_event
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync
from server_sync import cli as server_cli
from server_sync.kafka import ChangePublisher


@pytest.fixture
def synced_cache(tmp_path, central_url):
    cache = open_cache(tmp_path / "cache.db")
    sync(cache, central_url)
    yield cache
    cache.close()


def _execute(central, sql, *params):
    cur = central.cursor()
    cur.execute(sql, params)
    central.commit()


def test_central_changes_are_announced_and_pulled_once(synced_cache, central_url, central, kafka):
    cache = synced_cache
    changed: list[dict[str, int]] = []
    pipeline = AlertPipeline(cache, RuleEngine([]), Audience("me", "manager"))
    listener = AlertListener(KafkaConfig(kafka.bootstrap, "desk-changes"), pipeline,
                             lambda r: changed.append(r.changed_tables) if r.changed_tables else None,
                             assign=True).start()
    publisher = ChangePublisher(central_url, kafka.bootstrap)
    assert publisher.publish_once() == 0, "a new publisher starts at the end: nothing old is announced"
    cid = cache.reader().execute("SELECT id FROM customer ORDER BY id LIMIT 1").fetchone()[0]
    _execute(central, "UPDATE customer SET display_name = 'Renamed Centrally' WHERE id = %s", cid)
    assert publisher.publish_once() == 1
    publisher.close()
    assert wait_until(lambda: any("customer" in c for c in changed), 20)
    # What the app does on such an event: an incremental pull, which brings the change.
    _pushed, pulled = sync(cache, central_url)
    assert pulled.rows >= 1
    assert cache.reader().execute("SELECT display_name FROM customer WHERE id = ?", (cid,)).fetchone()[0] == \
        "Renamed Centrally"
    # A restarted publisher resumes from its stored position: the old change is not sent again.
    _execute(central, "UPDATE customer SET display_name = 'Renamed Twice' WHERE id = %s", cid)
    again = ChangePublisher(central_url, kafka.bootstrap)
    assert again.publish_once() == 1
    assert again.publish_once() == 0
    again.close()
    listener.stop()


def test_acknowledgements_reach_the_centre_and_the_first_one_stands(tmp_path, central_url, central):
    caches = []
    for name in ("a.db", "b.db"):
        c = open_cache(tmp_path / name)
        sync(c, central_url)
        caches.append(c)
    cid = caches[0].reader().execute("SELECT id FROM customer ORDER BY id LIMIT 1").fetchone()[0]
    event = make_event("order.placed", {"order_id": "SO-9", "amount": "900000"}, customer_id=cid)
    rule = AlertRule(name="Big", event_types=["order.placed"],
                     conditions=[{"field": "payload.amount", "op": ">=", "value": 1}])
    ids = []
    for c in caches:  # both desktops raise the same alert from the same event
        result = AlertPipeline(c, RuleEngine([rule]), Audience("me", "manager")).handle(
            [Message("sales-activities", 0, 0, encode(event))])
        ids.append(result.alerts[0].id)
    assert ids[0] == ids[1]
    AlertStore(caches[0]).acknowledge([ids[0]], "ann")
    AlertStore(caches[1]).acknowledge([ids[1]], "bob")
    pushed_a, _ = sync(caches[0], central_url)
    pushed_b, _ = sync(caches[1], central_url)
    assert pushed_a.applied == 1 and pushed_b.applied == 1 and not pushed_a.conflicts and not pushed_b.conflicts
    cur = central.cursor()
    cur.execute("SELECT updated_by, acknowledged_at IS NOT NULL FROM alert WHERE id = %s", (ids[0],))
    assert cur.fetchall() == [("ann", True)]
    central.commit()
    for c in caches:
        c.close()


def test_kafka_init_creates_the_topics_once(kafka, capsys):
    from server_sync.devbroker import DevKafka

    with DevKafka() as fresh:
        assert server_cli.main(["kafka-init", "--bootstrap", fresh.bootstrap, "--partitions", "2"]) == 0
        assert "created customer-interactions, system-changes, marketing-events, sales-activities" in capsys.readouterr().out
        assert server_cli.main(["kafka-init", "--bootstrap", fresh.bootstrap]) == 0
        assert "all topics exist already" in capsys.readouterr().out


def test_kafka_init_names_an_unreachable_broker(capsys):
    from server_sync.devserver import free_port

    port = free_port()
    assert server_cli.main(["kafka-init", "--bootstrap", f"127.0.0.1:{port}", "--timeout", "2"]) == 2
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in capsys.readouterr().err


def test_simulate_sends_events_for_the_central_customers(central_url, kafka, capsys):
    assert server_cli.main(["simulate", "--url", central_url, "--bootstrap", kafka.bootstrap,
                            "--rate", "5000", "--count", "300"]) == 0
    assert "sent 300 events" in capsys.readouterr().out


def test_rules_can_send_email_through_smtp(demo_cache):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    from c360_desktop.core.alerts.notify import EmailNotifier, SmtpConfig
    from server_sync.devserver import free_port

    received = []

    class Keep(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cache = open_cache(demo_cache)
        rule = AlertRule(name="Big", event_types=["order.placed"], email=["manager@example.com"],
                         conditions=[{"field": "payload.amount", "op": ">=", "value": 1000}])
        result = AlertPipeline(cache, RuleEngine([rule]), Audience("me", "manager")).handle(
            [Message("sales-activities", 0, 0, encode(make_event("order.placed", {"order_id": "1", "amount": "5000"}))),
             Message("sales-activities", 0, 1, encode(make_event("order.placed", {"order_id": "2", "amount": "50"})))])
        notifier = EmailNotifier(cache, SmtpConfig("127.0.0.1", port)).start()
        notifier.submit(result.alerts)
        assert wait_until(lambda: len(received) == 1, 20)
        notifier.stop()
        assert received[0]["To"] == "manager@example.com"
        assert received[0]["Subject"].startswith("[C360 medium] Big:")
        assert received[0]["X-C360-Event-Id"] == result.alerts[0].event_id
        emailed = cache.reader().execute("SELECT count(*) FROM alert_local WHERE emailed_at IS NOT NULL").fetchone()[0]
        assert emailed == 1
        cache.close()
    finally:
        controller.stop()


def test_an_unreachable_mail_server_is_recorded_on_the_alert(demo_cache):
    from c360_desktop.core.alerts.notify import EmailNotifier, SmtpConfig
    from server_sync.devserver import free_port

    cache = open_cache(demo_cache)
    rule = AlertRule(name="Big", event_types=["order.placed"], email=["manager@example.com"])
    result = AlertPipeline(cache, RuleEngine([rule]), Audience("me", "manager")).handle(
        [Message("sales-activities", 0, 0, encode(make_event("order.placed", {"order_id": "1", "amount": "5000"})))])
    notifier = EmailNotifier(cache, SmtpConfig("127.0.0.1", free_port(), timeout=2)).start()
    notifier.submit(result.alerts)
    assert wait_until(lambda: notifier.failed == 1, 20)
    notifier.stop()
    error = cache.reader().execute("SELECT email_error FROM alert_local").fetchone()[0]
    assert "ConnectionRefusedError" in error
    cache.close()


def test_two_publishers_share_the_tables_without_missing_or_repeating(central_url, central, kafka, capsys):
    """publish-changes --tables: one publisher for customers, another for notes; each announces
    its own tables' changes once, and a table no one was given is refused by name."""
    notes = ChangePublisher(central_url, kafka.bootstrap, tables=["note"])
    customers = ChangePublisher(central_url, kafka.bootstrap, tables=["customer"])
    _execute(central, "UPDATE customer SET display_name = 'Split Publisher' WHERE id = "
             "(SELECT id FROM customer ORDER BY id LIMIT 1)")
    assert notes.publish_once() == 0 and customers.publish_once() == 1 and customers.publish_once() == 0
    notes.close()
    customers.close()
    with pytest.raises(SystemExit):
        server_cli.build_parser().parse_args(["publish-changes", "--url", central_url, "--bootstrap", "x:1",
                                              "--tables", "customer,nonsense"])
    assert "not a synchronised table: nonsense" in " ".join(capsys.readouterr().err.split())
    args = server_cli.build_parser().parse_args(["publish-changes", "--url", central_url, "--bootstrap", "x:1",
                                                 "--tables", "customer, note"])
    assert args.tables == ["customer", "note"]
