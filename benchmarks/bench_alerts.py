"""Live alerts: latency, rule-evaluation throughput and GUI responsiveness, beside baselines.

1. Latency, event produced -> alert present in the Alerts pane's model, at a steady rate (default
   1,000 events/s) through a real Kafka-protocol broker (Tansu) into the real pane, offscreen:
     ours       the app's listener settings (fetch.wait.max.ms 50) and batched hand-over
     baseline   the same with librdkafka's default fetch settings (fetch.wait.max.ms 500)
2. Rule evaluation with 50 rules over simulated events against a demo cache:
     ours       compiled rules indexed by event type, customer attributes loaded once per batch
     naive      per event and per rule, the customer's attributes queried from the cache and the
                conditions interpreted from their definitions
3. Longest GUI event-loop stall while a burst of 10,000 alert-worthy events arrives:
     ours       the controller drains the listener's queue every 50 ms within a 10 ms budget
     naive      every alert handed to the GUI thread as its own queued call and inserted alone

    python -m benchmarks.bench_alerts --customers 20000
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.common import demo_cache, pct  # noqa: E402
from c360_desktop.core.alerts.rules import AlertRule, Audience, RuleEngine, default_rules  # noqa: E402
from c360_desktop.core.events import decode, encode  # noqa: E402
from server_sync.simulate import EventSimulator  # noqa: E402

AUDIENCE = Audience("bench", "manager")
EVERY_ORDER = AlertRule(name="Every order", event_types=["order.placed"], severity="low")


def fifty_rules() -> list[AlertRule]:
    rules = list(default_rules())
    segments = ["Champions", "Loyal", "At risk", "Hibernating", "New", "Potential"]
    i = 0
    while len(rules) < 50:
        kind = i % 4
        if kind == 0:
            r = {"name": f"Order over {50_000 * (i + 1):,}", "event_types": ["order.placed"],
                 "conditions": [{"field": "payload.amount", "op": ">=", "value": 50_000 * (i + 1)},
                                {"field": "customer.segment", "op": "==", "value": segments[i % len(segments)]}]}
        elif kind == 1:
            r = {"name": f"Negative mention {i}", "event_types": ["social.mention", "interaction.logged"],
                 "conditions": [{"field": "payload.sentiment", "op": "<=", "value": -0.5 - i / 200},
                                {"field": "customer.lifetime_spend", "op": ">=", "value": 10_000 * i}]}
        elif kind == 2:
            r = {"name": f"Ticket in parish {i}", "event_types": ["support.ticket_opened"],
                 "conditions": [{"field": "customer.parish", "op": "==", "value": f"JM-{1 + i % 14:02d}"},
                                {"field": "payload.priority", "op": "in", "value": ["high", "urgent"]}]}
        else:
            r = {"name": f"Lead jump {i}", "event_types": ["lead.score_changed"], "match": "any",
                 "conditions": [{"field": "payload.jump", "op": ">=", "value": 15 + i % 20},
                                {"field": "customer.open_leads", "op": ">=", "value": 2}]}
        rules.append(AlertRule.model_validate(r))
        i += 1
    return rules


# ---- 2. rule evaluation ----

def naive_evaluate(conn: Any, rules: list[AlertRule], ev: Any) -> bool:
    """The straightforward way: look the customer up for every rule, interpret each condition."""
    import operator

    ops = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt,
           "<=": operator.le}
    hit = False
    for rule in rules:
        if ev.type not in rule.event_types:
            continue
        facts = None
        if ev.customer_id:
            row = conn.execute(
                "SELECT c.display_name, c.parish, s.name, cs.lifetime_spend_cents, cs.open_leads FROM customer c "
                "LEFT JOIN segment s ON s.id = c.segment_id LEFT JOIN customer_summary cs ON cs.customer_id = c.id "
                "WHERE c.id = ?", (ev.customer_id,)).fetchone()
            if row:
                facts = {"name": row[0], "parish": row[1], "segment": row[2], "lifetime_spend": (row[3] or 0) / 100,
                         "open_leads": row[4] or 0}
        results = []
        for c in rule.conditions:
            scope, _, attr = c.field.partition(".")
            v = getattr(ev.data, attr, None) if scope == "payload" else (facts or {}).get(attr)
            if v is not None and not isinstance(v, str | bool | list):
                v = float(v)
            if c.op == "exists":
                results.append(v is not None)
            elif c.op == "in":
                results.append(v is not None and str(v) in [str(x) for x in c.value])
            elif v is None:
                results.append(False)
            else:
                results.append(ops[c.op](v, c.value))
        if (all(results) if rule.match == "all" else any(results)) or not rule.conditions:
            hit = True
    return hit


def bench_rules(cache_path: Path, events: int) -> None:
    from c360_desktop.core.alerts.pipeline import CustomerFacts
    from c360_desktop.core.storage.cache import open_cache

    cache = open_cache(cache_path)
    ids = [r[0] for r in cache.reader().execute("SELECT id FROM customer")]
    sim = EventSimulator(ids, seed=3)
    decoded = [decode(t, encode(e)) for t, e in (sim.event() for _ in range(events))]
    rules = fifty_rules()
    engine = RuleEngine(rules)
    started = time.perf_counter()
    facts = CustomerFacts(cache)
    ours_hits = 0
    for i in range(0, len(decoded), 500):  # per batch, as the listener hands them over
        batch = decoded[i:i + 500]
        facts.prefetch(ev.customer_id for ev in batch if ev.customer_id and ev.type in engine.needs_customer)
        for ev in batch:
            if engine.evaluate(ev, facts.get(ev.customer_id)) is not None:
                ours_hits += 1
    ours_s = time.perf_counter() - started
    conn = cache.reader()
    sample = decoded[: max(2000, events // 10)]
    started = time.perf_counter()
    naive_hits = sum(naive_evaluate(conn, rules, ev) for ev in sample)
    naive_s = time.perf_counter() - started
    print(f"\nRULE EVALUATION, 50 rules, {len(ids):,} customers in the cache")
    print(f"  ours      {len(decoded) / ours_s:>10,.0f} events/s   ({len(decoded):,} events, {ours_hits:,} alerts)")
    print(f"  naive     {len(sample) / naive_s:>10,.0f} events/s   ({len(sample):,} events, {naive_hits:,} alerts)")
    cache.close()


# ---- 1 and 3: through the broker into the pane ----

def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _pane_setup(cache_path: Path, bootstrap: str, rules: list[AlertRule], fetch_wait_ms: int | None) -> Any:
    from PySide6.QtCore import QSettings

    from c360_desktop.core.alerts.store import AlertStore
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import ConnectionProfile, Settings
    from c360_desktop.ui.controllers.alerts import AlertsController
    from c360_desktop.ui.main_window import MainWindow
    from c360_desktop.ui.panes.alerts.pane import AlertsPane
    from c360_desktop.ui.workers import TaskRunner

    profile = ConnectionProfile(name="bench", url="postgresql+psycopg2://c360@127.0.0.1:1/c360",
                                kafka_bootstrap=bootstrap)
    settings = Settings(user_name="bench", role="manager", profiles=[profile], active_profile="bench",
                        sync_every_minutes=0, desktop_id=f"bench-{time.time_ns()}")
    services = Services.open(cache_path, settings)
    AlertStore(services.cache).save_rules(rules)
    runner = TaskRunner()
    window = MainWindow(QSettings(str(Path(tempfile.mkdtemp()) / "w.ini"), QSettings.Format.IniFormat))
    pane = AlertsPane(services, runner)
    window.add_pane(pane, "Alerts", "alerts_pane", area="bottom")
    if fetch_wait_ms is not None:
        import c360_desktop.core.alerts.listener as listener_mod

        original = listener_mod.KafkaConfig.client_config

        def patched(self: Any) -> dict[str, Any]:
            conf = original(self)
            conf["fetch.wait.max.ms"] = fetch_wait_ms
            conf.pop("queued.max.messages.kbytes", None)
            return conf

        listener_mod.KafkaConfig.client_config = patched  # type: ignore[method-assign]
        controller = AlertsController(window, services, runner, pane, assign=True)
        listener_mod.KafkaConfig.client_config = original  # type: ignore[method-assign]
    else:
        controller = AlertsController(window, services, runner, pane, assign=True)
    import gc

    from c360_desktop.ui.workers import collect_garbage_on_gui_thread

    window.gc_timer = collect_garbage_on_gui_thread(window)  # the app's garbage-collection policy
    gc.collect()
    gc.freeze()
    window.show()
    return services, runner, window, pane, controller


def _wait(app: Any, predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.001)
    return predicate()


def bench_latency(cache_path: Path, rate: int, seconds: float, fetch_wait_ms: int | None, label: str) -> None:
    from confluent_kafka import Producer
    from PySide6.QtCore import QModelIndex

    from server_sync.devbroker import DevKafka
    from server_sync.kafka import kafka_init

    app = _app()
    work = Path(tempfile.mkdtemp()) / "cache.db"
    shutil.copyfile(cache_path, work)
    with DevKafka() as kafka:
        kafka_init(kafka.bootstrap)
        services, runner, window, pane, controller = _pane_setup(
            work, kafka.bootstrap, [*default_rules(), EVERY_ORDER], fetch_wait_ms)
        _wait(app, lambda: controller.state.text() == "Alerts: live" or pane.model.rowCount() >= 0, 5)
        produced: dict[str, float] = {}
        seen: dict[str, float] = {}

        def inserted(_parent: QModelIndex, first: int, last: int) -> None:
            now = time.perf_counter()
            for i in range(first, last + 1):
                seen.setdefault(pane.model.row(i).event_id, now)

        pane.model.rowsInserted.connect(inserted)
        ids = [r[0] for r in services.cache.reader().execute("SELECT id FROM customer")]
        sim = EventSimulator(ids, seed=11)
        total = int(rate * seconds)
        messages = [sim.event() for _ in range(total)]
        producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 0})
        time.sleep(2.0)  # let the listener settle on its partitions

        def produce() -> None:
            started = time.perf_counter()
            for n, (topic, env) in enumerate(messages):
                target = started + n / rate
                while (delay := target - time.perf_counter()) > 0:
                    time.sleep(min(delay, 0.002))
                producer.produce(topic, value=encode(env))
                produced[env["event_id"]] = time.perf_counter()
                producer.poll(0)
            producer.flush(30)

        thread = threading.Thread(target=produce)
        thread.start()
        expected = {e["event_id"] for _t, e in messages if e["type"] == "order.placed"}
        _wait(app, lambda: not thread.is_alive() and expected <= seen.keys(), seconds + 60)
        thread.join()
        lat = [(seen[e] - produced[e]) * 1000 for e in expected if e in seen and e in produced]
        print(f"  {label:10} p50 {pct(lat, 50):7.1f} ms   p95 {pct(lat, 95):7.1f} ms   max {max(lat):7.1f} ms"
              f"   ({len(lat):,} alerts of {total:,} events at {rate:,}/s)")
        controller.stop()
        window.close()
        runner.wait()
        services.close()
        time.sleep(1.0)


def bench_stall(cache_path: Path, burst: int, naive: bool) -> None:
    from confluent_kafka import Producer
    from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

    from server_sync.devbroker import DevKafka
    from server_sync.kafka import kafka_init

    app = _app()
    work = Path(tempfile.mkdtemp()) / "cache.db"
    shutil.copyfile(cache_path, work)
    every = AlertRule(name="Everything", event_types=["order.placed", "interaction.logged", "social.mention",
                                                      "support.ticket_opened", "lead.score_changed",
                                                      "activity.logged", "campaign.response"], severity="low")
    with DevKafka() as kafka:
        kafka_init(kafka.bootstrap)
        services, runner, window, pane, controller = _pane_setup(work, kafka.bootstrap, [every], None)
        if naive:
            from c360_desktop.ui.panes.alerts.pane import from_new

            class Relay(QObject):
                one = Signal(object)

            relay = Relay()
            relay.one.connect(lambda a: pane.model.prepend([from_new(a)]))  # queued: one call per alert
            listener = controller.listener
            listener.sink = lambda result: [relay.one.emit(a) for a in result.alerts]
        time.sleep(2.0)
        ids = [r[0] for r in services.cache.reader().execute("SELECT id FROM customer")]
        sim = EventSimulator(ids, seed=12)
        msgs = [sim.event() for _ in range(burst)]
        msgs = [(t, e) for t, e in msgs if e["type"] != "campaign.spend"]
        producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 5})
        for t, e in msgs:
            producer.produce(t, value=encode(e))
        producer.flush(30)
        delivered = [0]
        pane.model.rowsInserted.connect(lambda _p, first, last: delivered.__setitem__(0, delivered[0] + last - first + 1))
        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.nsecsElapsed()]

        def tick() -> None:
            now = clock.nsecsElapsed()
            gaps.append((now - last[0]) / 1e6)
            last[0] = now

        timer = QTimer()
        timer.setInterval(1)
        timer.timeout.connect(tick)
        timer.start()
        ok = _wait(app, lambda: delivered[0] >= len(msgs), 120)
        timer.stop()
        label = "naive" if naive else "ours"
        print(f"  {label:10} longest stall {max(gaps):7.1f} ms   p99 tick gap {pct(gaps, 99):6.1f} ms"
              f"   ({len(msgs):,} alerts{'' if ok else ', INCOMPLETE'})")
        controller.stop()
        window.close()
        runner.wait()
        services.close()
        time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--cache", help="use this cache instead of the benchmark demo cache")
    parser.add_argument("--rate", type=int, default=1000, help="events per second for the latency run")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rule-events", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--only", choices=("rules", "latency", "stall"), help="run one part only")
    args = parser.parse_args()
    cache = Path(args.cache) if args.cache else demo_cache(args.customers)
    if args.only in (None, "rules"):
        bench_rules(cache, args.rule_events)
    if args.only in (None, "latency"):
        print(f"\nLATENCY, event produced -> alert in the pane's model, {args.rate:,} events/s for {args.seconds:.0f} s")
        bench_latency(cache, args.rate, args.seconds, None, "ours")
        bench_latency(cache, args.rate, args.seconds, 500, "baseline")
    if args.only in (None, "stall"):
        print(f"\nGUI EVENT LOOP during a burst of {args.burst:,} alert-worthy events (1 ms timer)")
        bench_stall(cache, args.burst, naive=False)
        bench_stall(cache, args.burst, naive=True)


if __name__ == "__main__":
    main()
