"""Prometheus metrics of the change publisher (prometheus-client), served on /metrics.

    c360_publisher_events_total{table}          change events Kafka acknowledged
    c360_publisher_errors_total                 passes that failed and were retried
    c360_publisher_batch_seconds                one batch: read, send, acknowledgement, position
    c360_publisher_lag_rows{table}              changed rows not yet announced (every 15 s)
    c360_publisher_last_pass_timestamp_seconds  when the last pass ended (a stuck publisher stops it)

Each publisher has its own registry, so several in one process (tests) do not collide.
"""

from __future__ import annotations

from typing import Any


class PublisherMetrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.events = Counter("c360_publisher_events", "Change events Kafka acknowledged", ["table"],
                              registry=self.registry)
        self.errors = Counter("c360_publisher_errors", "Publisher passes that failed and were retried",
                              registry=self.registry)
        self.batch_seconds = Histogram("c360_publisher_batch_seconds",
                                       "Seconds to read, send and acknowledge one batch and save its position",
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                                       registry=self.registry)
        self.lag = Gauge("c360_publisher_lag_rows", "Changed rows not yet announced", ["table"],
                         registry=self.registry)
        self.last_pass = Gauge("c360_publisher_last_pass_timestamp_seconds", "When the last pass ended (Unix time)",
                               registry=self.registry)

    def serve(self, port: int, address: str = "127.0.0.1") -> Any:
        """Serve /metrics on a daemon thread; returns the HTTP server (``shutdown()`` stops it)."""
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, address, registry=self.registry)
        return server

    def text(self) -> str:
        """The exposition text, as a scrape would read it."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode()
