"""Health checks against a real Kafka-protocol broker: reachable, and the listener's lag."""

from c360_desktop.core.alerts import kafka_config
from c360_desktop.core.alerts.listener import wait_until
from c360_desktop.core.events import encode
from c360_desktop.core.health.service import AMBER, GREEN, RED, HealthService
from c360_desktop.core.settings import ConnectionProfile, Settings
from tests.alerts.helpers import simulated
from tests.alerts.test_listener import Desk


def settings_for(bootstrap):
    return Settings(user_name="rep", active_profile="hq", desktop_id="health-desk",
                    profiles=[ConnectionProfile(name="hq", url="postgresql+psycopg2://rep@127.0.0.1/c360",
                                                kafka_bootstrap=bootstrap)])


def by_name(checks):
    return {c.name: c for c in checks}


def test_lag_counts_what_the_listener_has_not_stored_then_falls_to_zero(kafka, demo_cache, services):
    settings = settings_for(kafka.bootstrap)
    health = HealthService(services.cache, settings)
    from confluent_kafka import Producer

    # one message per produce request: Tansu numbers offsets per record batch, where Apache
    # Kafka numbers every message; sent one by one, both count the same
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 0, "batch.num.messages": 1,
                         "max.in.flight.requests.per.connection": 1})
    for topic, event in simulated(services.cache, 1_500, seed=4):
        producer.produce(topic, value=encode(event))
        producer.poll(0)
    assert producer.flush(60) == 0
    checks = by_name(health.kafka())
    assert checks["Kafka"].status == GREEN and "4 of 4 topics" in checks["Kafka"].reason
    lag = checks["alert listener lag"]
    assert lag.value == "1,500" and lag.status == AMBER  # nothing stored yet, over the threshold
    config = kafka_config(settings)
    desk = Desk(demo_cache, kafka.bootstrap, group=config.group_id, assign=False).start()
    try:
        assert wait_until(lambda: desk.handled() >= 1_500, 90)
        assert wait_until(lambda: by_name(health.kafka())["alert listener lag"].value == "0", 30)
    finally:
        desk.stop()
    assert by_name(health.kafka())["alert listener lag"].status == GREEN


def test_an_unreachable_broker_is_red(services):
    from server_sync.devserver import free_port

    checks = by_name(HealthService(services.cache, settings_for(f"127.0.0.1:{free_port()}"), timeout=2).kafka())
    assert checks["Kafka"].status == RED and "cannot reach Kafka" in checks["Kafka"].reason
