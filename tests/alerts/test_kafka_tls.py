"""Kafka over TLS (issue 21, item 5): the desktop's Kafka client with security protocol SSL and
the company CA reaches a real Kafka-protocol broker through TLS, receives an event and raises its
alert; a client with another CA, or without TLS, gets nothing through. The broker bundled for
tests (Tansu 0.6) does not serve TLS itself, so TLS is terminated by a proxy in front of it, as a
load balancer does for many Kafka installations. SASL cannot be tested: Tansu has no SASL."""

from __future__ import annotations

import pytest

from c360_desktop.core.alerts.listener import (
    AlertListener,
    KafkaConfig,
    kafka_tls_warning,
    probe_kafka,
    wait_until,
)
from c360_desktop.core.alerts.pipeline import AlertPipeline
from c360_desktop.core.alerts.rules import Audience, RuleEngine
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import encode
from c360_desktop.core.storage.cache import open_cache
from server_sync.devbroker import DevKafka, TlsProxy
from server_sync.devserver import free_port
from tests.alerts.helpers import expected_alert_ids, simulated
from tests.sync.test_tls import _ca, _server_cert

pytestmark = pytest.mark.slow


def test_events_arrive_over_verified_tls_and_nothing_gets_through_otherwise(tmp_path, demo_cache):
    from confluent_kafka import Producer

    ca_key, ca_cert, ca = _ca(tmp_path, "company-ca")
    _other_key, _other_cert, other_ca = _ca(tmp_path, "someone-else")
    crt, key = _server_cert(tmp_path, ca_key, ca_cert, ["localhost", "127.0.0.1"])  # as advertised
    front = free_port()
    with DevKafka(advertised_port=front) as kafka, TlsProxy(kafka.port, str(crt), str(key), port=front):
        bootstrap = f"localhost:{front}"
        good = KafkaConfig(bootstrap, "desk-tls", security_protocol="SSL", ca_file=str(ca))
        assert probe_kafka(good, 10).startswith("Kafka: 1 broker(s)")
        for bad in (KafkaConfig(bootstrap, "desk-x", security_protocol="SSL", ca_file=str(other_ca)),
                    KafkaConfig(bootstrap, "desk-y")):  # PLAINTEXT to a TLS port
            with pytest.raises(RuntimeError, match=f"cannot reach Kafka at {bootstrap}"):
                probe_kafka(bad, 3)

        cache = open_cache(demo_cache)
        try:
            engine = RuleEngine(AlertStore(cache).rules())
            audience = Audience("me", "manager")
            events = simulated(cache, 300, seed=5)
            expected = expected_alert_ids(cache, engine, audience, events)
            assert expected
            producer = Producer({"bootstrap.servers": bootstrap, "security.protocol": "SSL",
                                 "ssl.ca.location": str(ca), "ssl.endpoint.identification.algorithm": "https"})
            for topic, event in events:
                producer.produce(topic, value=encode(event))
            assert producer.flush(30) == 0
            listener = AlertListener(good, AlertPipeline(cache, engine, audience), assign=True)
            listener.start()
            try:
                assert wait_until(lambda: {r[0] for r in cache.reader().execute("SELECT event_id FROM alert")}
                                  >= set(expected), 60), "the alerts did not arrive over TLS"
            finally:
                listener.stop()
        finally:
            cache.close()


def test_a_kafka_profile_without_tls_to_another_host_is_warned_about():
    assert kafka_tls_warning("kafka.bluemahoe.com.jm:9092", "SASL_PLAINTEXT") == (
        "the connection to Kafka at kafka.bluemahoe.com.jm is not encrypted (SASL_PLAINTEXT): use SSL or "
        "SASL_SSL with the company CA")
    assert kafka_tls_warning("kafka.bluemahoe.com.jm:9093", "SASL_SSL") is None
    assert kafka_tls_warning("127.0.0.1:9092,localhost:9093", "PLAINTEXT") is None
    config = KafkaConfig("k:9093", "g", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                         sasl_user="desk", sasl_password="s3cret-pass", ca_file="/etc/ca.pem")
    conf = config.client_config()
    assert conf["ssl.ca.location"] == "/etc/ca.pem" and conf["ssl.endpoint.identification.algorithm"] == "https"
    assert "s3cret-pass" not in repr(config)
