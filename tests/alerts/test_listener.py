"""The listener against a real Kafka-protocol broker: exactly one alert per alert-worthy event
through outages (paused broker, cut connections), malformed floods and offline periods."""

from __future__ import annotations

import threading
import time

import pytest

from c360_desktop.core.alerts.listener import ONLINE, AlertListener, KafkaConfig, wait_until
from c360_desktop.core.alerts.pipeline import AlertPipeline, BatchResult
from c360_desktop.core.alerts.rules import Audience, RuleEngine
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import encode
from c360_desktop.core.storage.cache import open_cache
from tests.alerts.helpers import expected_alert_ids, malformed, produce, simulated

AUDIENCE = Audience("me", "manager")


class Desk:
    """One desktop: its cache, its pipeline, its listener and what the listener handed over."""

    def __init__(self, cache_path, bootstrap, group="desk-1", assign=True):
        self.cache = open_cache(cache_path)
        self.store = AlertStore(self.cache)
        self.engine = RuleEngine(self.store.rules())
        self.pipeline = AlertPipeline(self.cache, self.engine, AUDIENCE)
        self.results: list[BatchResult] = []
        self.states: list[str] = []
        self.listener = AlertListener(KafkaConfig(bootstrap, group), self.pipeline, self.results.append,
                                      lambda s, _d: self.states.append(s), assign=assign)

    def start(self):
        self.listener.start()
        return self

    def handled(self):
        return sum(r.events + r.dead for r in list(self.results))

    def alert_event_ids(self):
        rows = self.cache.reader().execute("SELECT event_id FROM alert").fetchall()
        return [r[0] for r in rows]

    def stop(self):
        self.listener.stop()
        self.cache.close()


def _stream_with_outage(cache_path, bootstrap, outage, n=100_000):
    desk = Desk(cache_path, bootstrap)
    events = simulated(desk.cache, n, seed=21)
    expected = expected_alert_ids(desk.cache, desk.engine, AUDIENCE, events)
    producer = threading.Thread(target=produce, args=(bootstrap, ((t, encode(e)) for t, e in events), 15_000))
    producer.start()
    desk.start()
    assert wait_until(lambda: desk.handled() > n // 3, 120), "the listener did not get going"
    outage()
    producer.join(180)
    assert wait_until(lambda: desk.handled() >= n, 180), f"only {desk.handled():,} of {n:,} events arrived"
    time.sleep(0.5)
    stored = desk.alert_event_ids()
    alive = desk.listener.alive
    desk.stop()
    return expected, stored, alive, desk


@pytest.mark.slow
def test_paused_broker_mid_stream_loses_and_duplicates_nothing(kafka, demo_cache):
    def outage():
        kafka.pause()
        time.sleep(4)
        kafka.resume()

    expected, stored, alive, _desk = _stream_with_outage(demo_cache, kafka.bootstrap, outage)
    assert alive
    assert len(expected) > 1000
    assert len(stored) == len(set(stored)), "an alert was stored twice"
    assert set(stored) == expected, f"{len(expected - set(stored))} lost, {len(set(stored) - expected)} unexpected"


@pytest.mark.slow
def test_cut_connection_mid_stream_loses_and_duplicates_nothing(proxied_kafka, demo_cache):
    broker, proxy = proxied_kafka

    def outage():
        proxy.cut()
        time.sleep(4)
        proxy.restore()

    expected, stored, alive, desk = _stream_with_outage(demo_cache, broker.bootstrap, outage)
    assert alive
    assert len(stored) == len(set(stored)), "an alert was stored twice"
    assert set(stored) == expected, f"{len(expected - set(stored))} lost, {len(set(stored) - expected)} unexpected"
    assert "offline" in desk.states and desk.states[-1] == "stopped"
    after_outage = desk.states[desk.states.index("offline"):]
    assert ONLINE in after_outage, "the status never came back online"


@pytest.mark.slow
def test_ten_thousand_malformed_messages_go_to_dead_letters_and_the_stream_goes_on(kafka, demo_cache):
    desk = Desk(demo_cache, kafka.bootstrap)
    events = simulated(desk.cache, 20_000, seed=5)
    bad = malformed(10_000)
    expected = expected_alert_ids(desk.cache, desk.engine, AUDIENCE, events)
    mixed: list[tuple[str, bytes]] = []
    good = iter(events)
    for topic, value, _why in bad:
        mixed.append((topic, value))
        for _ in range(2):
            t, e = next(good)
            mixed.append((t, encode(e)))
    produce(kafka.bootstrap, mixed)
    desk.start()
    assert wait_until(lambda: desk.handled() >= len(mixed), 120), f"{desk.handled():,} of {len(mixed):,}"
    assert desk.listener.alive
    assert desk.store.dead_letter_count() == 10_000
    letters = desk.store.dead_letters(limit=10_000)
    assert all(d.reason for d in letters)
    text = " | ".join({d.reason.split(":")[0] for d in letters})
    for expected_reason in ("not valid JSON", "exceeds the 1,048,576-byte limit", "schema_version", "type", "occurred_at"):
        assert expected_reason in text, f"no dead letter says {expected_reason!r}: {text}"
    stored = desk.alert_event_ids()
    assert sorted(stored) == sorted(expected)
    desk.stop()


def test_an_offline_desktop_catches_up_once_when_it_reconnects(kafka, demo_cache):
    desk = Desk(demo_cache, kafka.bootstrap).start()
    first = simulated(desk.cache, 3000, seed=1)
    produce(kafka.bootstrap, ((t, encode(e)) for t, e in first))
    assert wait_until(lambda: desk.handled() >= 3000, 60)
    desk.stop()  # the laptop goes offline; events keep coming
    desk2 = Desk(demo_cache, kafka.bootstrap)
    missed = simulated(desk2.cache, 4000, seed=2)
    produce(kafka.bootstrap, ((t, encode(e)) for t, e in missed))
    expected = expected_alert_ids(desk2.cache, desk2.engine, AUDIENCE, first + missed)
    desk2.start()  # back online: same desktop, same group
    assert wait_until(lambda: desk2.handled() >= 4000, 60)
    time.sleep(1.0)
    assert desk2.handled() == 4000, "events stored before going offline came again"
    stored = desk2.alert_event_ids()
    assert len(stored) == len(set(stored)) and set(stored) == expected
    desk2.stop()


def test_joining_the_consumer_group_works_as_in_production(kafka, demo_cache):
    """Production subscribes as a group (Tansu takes some seconds to settle a join)."""
    desk = Desk(demo_cache, kafka.bootstrap, group="desk-subscribe", assign=False).start()
    events = simulated(desk.cache, 500, seed=9)
    produce(kafka.bootstrap, ((t, encode(e)) for t, e in events))
    assert wait_until(lambda: desk.handled() >= 500, 90)
    assert desk.states[0] == "connecting" and ONLINE in desk.states
    desk.stop()


def test_an_unreachable_broker_is_reported_and_the_thread_stays_up(demo_cache):
    from server_sync.devserver import free_port

    desk = Desk(demo_cache, f"127.0.0.1:{free_port()}").start()
    assert wait_until(lambda: "offline" in desk.states, 20)
    assert desk.listener.alive
    desk.stop()
