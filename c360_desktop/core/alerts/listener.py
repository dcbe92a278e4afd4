"""The desktop's Kafka listener: a confluent-kafka consumer on its own long-lived thread.

Each desktop has its own consumer group, so every desktop sees every event. Offsets are committed
only after a batch's alerts, dead letters and events are stored (pipeline.py), and alerts are
keyed by event id: a redelivery after a crash or an outage stores nothing twice. When the broker
goes away librdkafka reconnects with backoff; this thread reports the connection state, never
dies on a bad message (it goes to the dead-letter table) and never skips a batch it could not
store (it retries with backoff until it can, or until it is stopped, uncommitted).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from c360_desktop.core import logs
from c360_desktop.core.alerts.pipeline import AlertPipeline, BatchResult, Message
from c360_desktop.core.events import CID_HEADER, TOPICS

log = logging.getLogger(__name__)
kafka_log = logging.getLogger("c360_desktop.kafka")

ONLINE, OFFLINE, CONNECTING, STOPPED = "online", "offline", "connecting", "stopped"


@dataclass(frozen=True)
class KafkaConfig:
    """Where and how to reach Kafka. The SASL password comes from the keyring and is never logged."""

    bootstrap: str
    group_id: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_user: str | None = None
    sasl_password: str | None = None
    topics: tuple[str, ...] = TOPICS
    ca_file: str | None = None  # PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL)

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (f"KafkaConfig(bootstrap={self.bootstrap!r}, group_id={self.group_id!r}, "
                f"security_protocol={self.security_protocol!r}, sasl_user={self.sasl_user!r})")

    def client_config(self) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group_id,
            "client.id": "c360-desktop",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 50,
            "queued.max.messages.kbytes": 4096,  # read ahead a few MB, not librdkafka's 64 MB
            "socket.keepalive.enable": True,
            "socket.timeout.ms": 10_000,
            "reconnect.backoff.ms": 200,
            "reconnect.backoff.max.ms": 5_000,
            "security.protocol": self.security_protocol,
            "logger": kafka_log,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_user or ""
            conf["sasl.password"] = self.sasl_password or ""
        if self.security_protocol in ("SSL", "SASL_SSL"):
            conf["ssl.endpoint.identification.algorithm"] = "https"  # the certificate must name the broker
            if self.ca_file:
                conf["ssl.ca.location"] = self.ca_file
        return conf


def kafka_tls_warning(bootstrap: str, security_protocol: str) -> str | None:
    """Why events from Kafka travel unprotected, or None (TLS, or brokers on this computer)."""
    from c360_desktop.core.sync.urls import is_loopback

    hosts = [h.rsplit(":", 1)[0] for h in bootstrap.split(",") if h.strip()]
    if security_protocol in ("SSL", "SASL_SSL") or all(is_loopback(h) for h in hosts):
        return None
    return (f"the connection to Kafka at {hosts[0]} is not encrypted ({security_protocol}): "
            "use SSL or SASL_SSL with the company CA")


class AlertListener:
    def __init__(self, config: KafkaConfig, pipeline: AlertPipeline,
                 sink: Callable[[BatchResult], None] | None = None,
                 on_state: Callable[[str, str], None] | None = None,
                 assign: bool = False, batch: int = 500) -> None:
        """``sink`` gets each stored batch, ``on_state`` each change of connection state (both on
        this thread). ``assign``: take every partition directly instead of joining the group
        (same offsets, same commits; faster to start, used by tests and benchmarks)."""
        self.config, self.pipeline = config, pipeline
        self.sink = sink or (lambda _r: None)
        self.on_state = on_state or (lambda _s, _d: None)
        self.assign, self.batch = assign, batch
        self.state, self.detail = CONNECTING, ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="c360-alert-listener", daemon=True)
        self._consumer: Any = None
        self._uncommitted: dict[tuple[str, int], int] = {}
        self.stored_batches = 0

    def start(self) -> AlertListener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.state or detail != self.detail:
            self.state, self.detail = state, detail
            try:
                self.on_state(state, detail)
            except Exception:
                log.exception("alert listener state callback failed")

    def _on_error(self, err: Any) -> None:  # librdkafka's error callback, on this thread
        from confluent_kafka import KafkaError

        if err.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
                          KafkaError._RESOLVE):
            self._set_state(OFFLINE, err.str())
        else:
            log.warning("Kafka: %s", err.str())

    def _connect(self) -> Any:
        try:
            from confluent_kafka import OFFSET_STORED, Consumer, TopicPartition
        except ImportError:
            raise RuntimeError("live alerts need the Kafka client (confluent-kafka), missing from this installation: reinstall C360 Desktop") from None

        self._set_state(CONNECTING, self.config.bootstrap)
        consumer = Consumer({**self.config.client_config(), "error_cb": self._on_error})
        try:
            if self.assign:
                meta = consumer.list_topics(timeout=5)
                parts = [TopicPartition(t, p, OFFSET_STORED) for t in self.config.topics if t in meta.topics
                         for p in meta.topics[t].partitions]
                if not parts:
                    raise RuntimeError(f"none of the topics {', '.join(self.config.topics)} exist on "
                                       f"{self.config.bootstrap} (run c360-server kafka-init)")
                consumer.assign(parts)
            else:
                consumer.subscribe(list(self.config.topics))
        except BaseException:
            consumer.close()
            raise
        return consumer

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if self._consumer is None:
                    self._consumer = self._connect()
                self._poll_once()
                backoff = 0.5
            except Exception as exc:  # the thread never dies: report, back off, go on
                if not isinstance(exc, RuntimeError) and type(exc).__name__ != "KafkaException":
                    log.exception("alert listener error")
                self._set_state(OFFLINE, str(exc))
                if self._consumer is not None and isinstance(exc, RuntimeError):
                    self._close_consumer()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        self._close_consumer()
        self._set_state(STOPPED)

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._flush_commits()
                self._consumer.close()
            except Exception as exc:
                log.info("closing the Kafka consumer: %s", exc)
            self._consumer = None

    def _poll_once(self) -> None:
        msgs = self._consumer.consume(self.batch, 0.02)  # short: a batch waits at most 20 ms to fill
        if not msgs:
            if self._uncommitted:
                self._flush_commits()
            return
        good: list[Message] = []
        positions: dict[tuple[str, int], int] = {}
        cid = ""
        for m in msgs:
            err = m.error()
            if err is not None:
                self._on_error(err)
                continue
            good.append(Message(m.topic(), m.partition(), m.offset(), m.value()))
            positions[(m.topic(), m.partition())] = m.offset() + 1
            cid = cid or message_cid(m.headers())
        if not good:
            return
        with logs.correlated(cid or None):
            result = self._store(good)
            if result is None:
                return  # stopped before the batch could be stored: nothing committed, it comes again
            log.log(logging.INFO if result.alerts or result.dead else logging.DEBUG,
                    "stored %d Kafka messages: %d events, %d alerts, %d duplicates, %d dead letters", len(good), result.events, len(result.alerts), result.duplicates, result.dead)
        self.stored_batches += 1
        self._set_state(ONLINE, self.config.bootstrap)
        try:
            self.sink(result)
        except Exception:
            log.exception("alert sink failed")
        self._uncommitted.update(positions)
        self._flush_commits()

    def _store(self, messages: list[Message]) -> BatchResult | None:
        """Store the batch, retrying (with backoff) as long as the cache refuses; never skip it."""
        wait = 0.2
        while True:
            try:
                return self.pipeline.handle(messages)
            except Exception as exc:
                log.error("could not store %d Kafka messages (will retry): %s", len(messages), exc)
                self._set_state(self.state, f"cannot store alerts: {exc}")
                if self._stop.wait(wait):
                    return None
                wait = min(wait * 2, 10.0)

    def _flush_commits(self) -> None:
        """Commit stored positions; if the broker is away they wait for the next chance (a
        redelivery meanwhile is harmless: alerts are keyed by event id)."""
        if not self._uncommitted or self._consumer is None:
            return
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [TopicPartition(t, p, o) for (t, p), o in self._uncommitted.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
            self._uncommitted.clear()
        except KafkaException as exc:
            log.info("offset commit postponed: %s", exc)


def message_cid(headers: list[tuple[str, bytes | None]] | None) -> str:
    """The correlation id a Kafka message carries in its ``CID_HEADER`` header, or ""."""
    for key, value in headers or ():
        if key == CID_HEADER and value:
            text = value.decode("ascii", "replace")[:40]
            return text if text.isprintable() else ""
    return ""


def consumer_lag(config: KafkaConfig, timeout: float = 5.0) -> dict[str, int]:
    """Per topic, the messages this desktop's consumer group has not stored yet: each
    partition's end offset less the group's committed offset (its start, where nothing is
    committed). Asks without joining the group, so the running listener is not disturbed."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(config.client_config())
    try:
        meta = consumer.list_topics(timeout=timeout)
        lag: dict[str, int] = {}
        for topic in config.topics:
            if topic not in meta.topics:
                continue
            parts = [TopicPartition(topic, p) for p in sorted(meta.topics[topic].partitions)]
            total = 0
            for tp in consumer.committed(parts, timeout=timeout):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=timeout)
                total += max(high - (tp.offset if tp.offset >= 0 else low), 0)
            lag[topic] = total
        return lag
    except KafkaException as exc:
        raise RuntimeError(f"cannot read the consumer group's offsets: {exc.args[0].str()}") from None
    finally:
        consumer.close()


def probe_kafka(config: KafkaConfig, timeout: float = 5.0) -> str:
    """One line on what the broker offers (for the Connections dialog's Test), or a RuntimeError."""
    try:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient
    except ImportError:
        raise RuntimeError("the Kafka client (confluent-kafka) is missing from this installation: reinstall C360 Desktop") from None

    conf = {k: v for k, v in config.client_config().items()
            if k in ("bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.username", "sasl.password",
                     "ssl.endpoint.identification.algorithm", "ssl.ca.location", "logger")}
    started = time.perf_counter()
    try:
        meta = AdminClient(conf).list_topics(timeout=timeout)
    except KafkaException as exc:
        raise RuntimeError(f"cannot reach Kafka at {config.bootstrap}: {exc.args[0].str()}") from None
    ms = (time.perf_counter() - started) * 1000
    present = [t for t in config.topics if t in meta.topics]
    missing = [t for t in config.topics if t not in meta.topics]
    note = f"; missing {', '.join(missing)} (run c360-server kafka-init)" if missing else ""
    return f"Kafka: {len(meta.brokers)} broker(s), {len(present)} of {len(config.topics)} topics; round trip {ms:.0f} ms{note}"


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (tests and the CLI use it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()

