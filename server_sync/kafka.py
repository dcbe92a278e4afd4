"""Kafka on the central side: topic set-up, the change publisher and the event simulator's producer.

The change publisher watches every synchronised table with the same exact cursor the desktops'
pulls use (writing transaction, id; never past a transaction still running) and emits one
``rows.changed`` event on ``system-changes`` per table per batch, naming the ids and the highest
row_version. Its position is stored in the central database only after Kafka has acknowledged
the events, so a publisher killed at any point resumes where it left off: an event may be sent
twice (desktops de-duplicate by event id and an extra pull is harmless), never lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from c360_desktop.core import logs
from c360_desktop.core.events import CID_HEADER, TOPICS, encode, make_event
from c360_desktop.core.storage.schema import SYNCED_TABLES

if TYPE_CHECKING:
    from server_sync.metrics import PublisherMetrics

log = logging.getLogger(__name__)


class KafkaAdminError(Exception):
    """A one-line message for the command line."""


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True,
            "client.id": "c360-server", "logger": logging.getLogger("server_sync.kafka.client"), **extra}


def kafka_init(bootstrap: str, partitions: int = 3, replication: int = 1, timeout: float = 15.0) -> list[str]:
    """Create the topics that do not exist yet; returns what was created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": logging.getLogger("server_sync.kafka.client")})
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise KafkaAdminError(f"cannot reach Kafka at {bootstrap}: {exc.args[0].str()}") from None
    wanted = [NewTopic(t, partitions, replication) for t in TOPICS if t not in existing]
    if not wanted:
        return []
    for topic, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except KafkaException as exc:
            raise KafkaAdminError(f"could not create topic {topic}: {exc.args[0].str()}") from None
    return [t.topic for t in wanted]


_STATE_DDL = ("CREATE TABLE IF NOT EXISTS c360_publisher_position (table_name VARCHAR(50) PRIMARY KEY, "
              "position BIGINT NOT NULL, cursor_id VARCHAR(36) NOT NULL)")


def stored_positions(central: Any) -> dict[str, tuple[int, str]] | None:
    """The publisher's stored position per table, or None where it has never run."""
    from sqlalchemy import text

    exists = central.run(text("SELECT to_regclass('c360_publisher_position') IS NOT NULL")
                         if central.dialect.name == "postgresql" else
                         text("SELECT CASE WHEN OBJECT_ID('c360_publisher_position') IS NULL THEN 0 ELSE 1 END"))
    central.rollback()
    if not exists[0][0]:
        return None
    rows = central.run(text("SELECT table_name, position, cursor_id FROM c360_publisher_position"))
    central.rollback()
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def pending_changes(central: Any, positions: dict[str, tuple[int, str]], tables: Sequence[str]) -> dict[str, int]:
    """Per table, the changed rows past its position (below every running writer)."""
    try:
        return {name: central.pending(name, positions.get(name, (0, "")), None) for name in tables}
    finally:
        central.rollback()


class ChangePublisher:
    def __init__(self, url: str, bootstrap: str, password: str | None = None, batch: int = 1000,
                 tables: Sequence[str] = SYNCED_TABLES, from_start: bool = False,
                 metrics: PublisherMetrics | None = None) -> None:
        """A publisher with no stored position starts at the current end of each table (desktops
        pull what exists already), or at the very start with ``from_start``. With ``metrics`` it
        counts what it does there (server_sync.metrics)."""
        from confluent_kafka import Producer

        from c360_desktop.core.sync.central import Central

        self.central = Central(url, password)
        self.tables = list(tables)
        self.batch = batch
        self.producer = Producer(producer_config(bootstrap))
        self.published = 0
        self.metrics = metrics
        self._stop = threading.Event()
        self._ddl()
        known = self.positions()
        for name in self.tables:
            if name not in known:
                self._save(name, (0, "") if from_start else self._end(name))

    def _ddl(self) -> None:
        import contextlib

        with contextlib.closing(self.central.raw.cursor()) as cur:
            cur.execute(_STATE_DDL)
        self.central.commit()

    def positions(self) -> dict[str, tuple[int, str]]:
        from sqlalchemy import column, select, table

        t = table("c360_publisher_position", column("table_name"), column("position"), column("cursor_id"))
        rows = self.central.run(select(t.c.table_name, t.c.position, t.c.cursor_id))
        self.central.rollback()
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    def _changes(self, name: str, after: tuple[int, str]) -> list[tuple[str, int, int]]:
        """(id, row_version, position) of rows changed past the cursor, below every running writer."""
        from sqlalchemy import and_, or_, select, tuple_

        t = self.central._table(name)
        pos, bound = self.central._position(t)
        x, last_id = after
        past = (tuple_(pos, t.c.id) > tuple_(x, last_id) if self.central.dialect.name == "postgresql"
                else or_(pos > x, and_(pos == x, t.c.id > last_id)))  # SQL Server has no row values
        stmt = (select(t.c.id, t.c.row_version, pos).where(and_(past, pos < bound))
                .order_by(pos, t.c.id).limit(self.batch))
        rows = self.central.run(stmt)
        self.central.rollback()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def _end(self, name: str) -> tuple[int, str]:
        """The cursor of the last row every writer has finished with."""
        from sqlalchemy import select

        t = self.central._table(name)
        pos, bound = self.central._position(t)
        rows = self.central.run(select(pos, t.c.id).where(pos < bound).order_by(pos.desc(), t.c.id.desc()).limit(1))
        self.central.rollback()
        return (int(rows[0][0]), rows[0][1]) if rows else (0, "")

    def _save(self, name: str, cursor: tuple[int, str]) -> None:
        from sqlalchemy import column, insert, table, update

        t = table("c360_publisher_position", column("table_name"), column("position"), column("cursor_id"))
        if not self.central.write(update(t).where(t.c.table_name == name).values(position=cursor[0],
                                                                                 cursor_id=cursor[1])):
            self.central.write(insert(t).values(table_name=name, position=cursor[0], cursor_id=cursor[1]))
        self.central.commit()

    def publish_once(self) -> int:
        """One pass over every table; returns the events sent. Each pass has its own correlation
        id, on its log lines and in the ``CID_HEADER`` of the events it sends."""
        with logs.correlated():
            return self._publish_pass()

    def _publish_pass(self) -> int:
        from confluent_kafka import KafkaException

        sent = 0
        positions = self.positions()
        for name in self.tables:
            cursor = positions.get(name, (0, ""))
            while not self._stop.is_set():
                batch_started = time.perf_counter()
                rows = self._changes(name, cursor)
                if not rows:
                    break
                event = make_event("rows.changed", {"table": name, "ids": [r[0] for r in rows],
                                                    "row_version": max(r[1] for r in rows)},
                                   source="c360-change-publisher")
                failures: list[str] = []

                def delivered(err: Any, _msg: Any, failures: list[str] = failures) -> None:
                    if err is not None:
                        failures.append(str(err))

                self.producer.produce("system-changes", key=name, value=encode(event), on_delivery=delivered,
                                      headers=[(CID_HEADER, logs.current().encode())])
                if self.producer.flush(30) or failures:
                    raise KafkaException(f"Kafka did not acknowledge the change event for {name}: "
                                         f"{failures[0] if failures else 'timed out'}")
                cursor = (rows[-1][2], rows[-1][0])
                self._save(name, cursor)  # only after Kafka has it: at least once, never lost
                log.info("published %s: %d rows changed, up to row_version %d", name, len(rows),
                         max(r[1] for r in rows))
                if self.metrics is not None:
                    self.metrics.events.labels(name).inc()
                    self.metrics.batch_seconds.observe(time.perf_counter() - batch_started)
                sent += 1
                if len(rows) < self.batch:
                    break
        self.published += sent
        if self.metrics is not None:
            self.metrics.last_pass.set(time.time())
        return sent

    def lag(self) -> dict[str, int]:
        """Per table, the changed rows past the stored position that no event has announced yet
        (counted below every running writer, as the publisher itself reads)."""
        out = pending_changes(self.central, self.positions(), self.tables)
        if self.metrics is not None:
            for name, rows in out.items():
                self.metrics.lag.labels(name).set(rows)
        return out

    def run(self, interval: float = 1.0, on_pass: Callable[[int], None] | None = None,
            lag_every: float = 15.0) -> None:
        last_lag = 0.0
        while not self._stop.is_set():
            try:
                n = self.publish_once()
                if on_pass:
                    on_pass(n)
                if self.metrics is not None and time.monotonic() - last_lag >= lag_every:
                    self.lag()
                    last_lag = time.monotonic()
            except Exception as exc:
                log.warning("change publisher: %s (retrying)", exc)
                if self.metrics is not None:
                    self.metrics.errors.inc()
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.producer.flush(10)
        self.central.close()


def simulate(bootstrap: str, customer_ids: list[str], rate: float, count: int | None = None,
             seed: int = 1, campaigns: Sequence[Any] = (), progress: Callable[[int], None] | None = None) -> int:
    """Produce simulated events at ``rate`` per second (``count`` of them, or until interrupted)."""
    from confluent_kafka import Producer

    from server_sync.simulate import EventSimulator

    sim = EventSimulator(customer_ids, campaigns, seed=seed)
    producer = Producer(producer_config(bootstrap))
    sent, started = 0, time.perf_counter()
    try:
        while count is None or sent < count:
            topic, event = sim.event()
            producer.produce(topic, key=event["customer_id"] or event["type"], value=encode(event))
            sent += 1
            producer.poll(0)
            ahead = sent / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
            if progress and sent % 1000 == 0:
                progress(sent)
    finally:
        producer.flush(30)
    return sent
