"""Producing test streams and working out, independently of Kafka, which events deserve an alert."""

from __future__ import annotations

import random
from collections.abc import Iterable

from confluent_kafka import Producer

from c360_desktop.core.alerts.pipeline import CustomerFacts
from c360_desktop.core.alerts.rules import Audience, RuleEngine
from c360_desktop.core.events import encode
from c360_desktop.core.storage.cache import Cache
from server_sync.simulate import EventSimulator


def customer_ids(cache: Cache) -> list[str]:
    return [r[0] for r in cache.reader().execute("SELECT id FROM customer ORDER BY id")]


def simulated(cache: Cache, n: int, seed: int = 7) -> list[tuple[str, dict]]:
    sim = EventSimulator(customer_ids(cache), seed=seed)
    return [sim.event() for _ in range(n)]


def produce(bootstrap: str, messages: Iterable[tuple[str, bytes]], rate: float | None = None) -> int:
    """Produce every message (at ``rate`` per second if given) and wait until the broker has them."""
    import time

    started = time.perf_counter()
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "queue.buffering.max.messages": 500_000,
                  "message.max.bytes": 4_000_000, "message.timeout.ms": 120_000})
    n = 0
    for topic, value in messages:
        while True:
            try:
                p.produce(topic, value=value)
                break
            except BufferError:
                p.poll(0.05)
        n += 1
        if n % 1000 == 0:
            p.poll(0)
            if rate:
                ahead = n / rate - (time.perf_counter() - started)
                if ahead > 0:
                    time.sleep(ahead)
    assert p.flush(120) == 0, "the broker did not take every test message"
    return n


def expected_alert_ids(cache: Cache, engine: RuleEngine, audience: Audience, events: list[tuple[str, dict]]) -> set[str]:
    """Event ids that deserve an alert for this audience, evaluated directly (no Kafka, no pipeline)."""
    from c360_desktop.core.events import decode

    facts = CustomerFacts(cache)
    decoded = [decode(t, encode(e)) for t, e in events]
    facts.prefetch(ev.customer_id for ev in decoded if ev.customer_id)
    out = set()
    for ev in decoded:
        f = facts.get(ev.customer_id)
        m = engine.evaluate(ev, f)
        if m is not None and any(audience.includes(r, f) for r in m.rules):
            out.add(ev.event_id)
    return out


def malformed(n: int, seed: int = 3) -> list[tuple[str, bytes, str]]:
    """(topic, value, what is wrong) of every kind a producer bug or a hostile client can send."""
    from datetime import UTC, datetime
    from uuid import UUID

    rng = random.Random(seed)
    good = {"event_id": "", "type": "order.placed", "schema_version": 1,
            "occurred_at": datetime.now(UTC).isoformat(), "source": "test", "customer_id": None,
            "payload": {"order_id": "SO-1", "amount": "100.00"}}
    out = []
    for i in range(n):
        e = dict(good, event_id=str(UUID(int=rng.getrandbits(128), version=4)))
        kind = i % 8
        if kind == 0:
            out.append(("sales-activities", b'{"event_id": "broken', "bad JSON"))
        elif kind == 1:
            out.append(("sales-activities", encode({**e, "schema_version": "two"}), "wrong type"))
        elif kind == 2:
            out.append(("sales-activities", encode({k: v for k, v in e.items() if k != "occurred_at"}), "missing field"))
        elif kind == 3:
            out.append(("sales-activities", encode({**e, "payload": {"order_id": "x", "amount": "lots"}}), "bad payload"))
        elif kind == 4:
            out.append(("sales-activities", encode({**e, "type": "order.teleported"}), "unknown type"))
        elif kind == 5:
            out.append(("sales-activities", encode({**e, "schema_version": 9, "payload": {"order_id": "x"}}),
                        "newer version lacking a field"))
        elif kind == 6 and i % 500 == 6:  # a few only: each is over a megabyte
            out.append(("sales-activities", b"[" + b"1," * 600_000 + b"1]", "huge payload"))
        elif kind == 6:
            out.append(("sales-activities", encode({**e, "schema_version": 0}), "impossible version"))
        else:
            out.append(("sales-activities", b"\xff\xfe\x00binary", "not text"))
    return out
