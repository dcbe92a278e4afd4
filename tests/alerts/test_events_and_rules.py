"""Event schemas, the version policy, rules as data, and the pipeline, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from c360_desktop.core.alerts.pipeline import AlertPipeline, Message
from c360_desktop.core.alerts.rules import (
    AlertRule,
    Audience,
    RuleEngine,
    default_rules,
    rule_errors,
)
from c360_desktop.core.alerts.store import AlertStore
from c360_desktop.core.events import BadEvent, decode, encode, make_event
from c360_desktop.core.storage.cache import open_cache
from tests.alerts.helpers import malformed, simulated


def test_every_simulated_event_reads_back():
    from server_sync.simulate import EventSimulator

    sim = EventSimulator(["c1", "c2"], seed=2)
    for _ in range(2000):
        topic, env = sim.event()
        ev = decode(topic, encode(env))
        assert ev.type == env["type"] and ev.event_id == env["event_id"]


def test_newer_versions_are_read_when_the_needed_fields_are_there():
    env = make_event("order.placed", {"order_id": "SO-1", "amount": "10.00"})
    newer = {**env, "schema_version": 4, "payload": {"order_id": "SO-1", "amount": "10.00", "channel": "web"},
             "trace": "abc"}
    ev = decode("sales-activities", encode(newer))
    assert ev.data.amount == 10 and ev.data.model_extra == {"channel": "web"}
    with pytest.raises(BadEvent, match=r"payload.amount: Field required \(schema_version 4 is newer"):
        decode("sales-activities", encode({**newer, "payload": {"order_id": "SO-1"}}))


@pytest.mark.parametrize(("value", "reason"), [
    (b"{", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"", "not valid JSON"),
    (None, "empty message"),
    (b"x" * 1_100_000, "exceeds the 1,048,576-byte limit"),
])
def test_malformed_messages_say_what_is_wrong(value, reason):
    with pytest.raises(BadEvent, match=reason):
        decode("sales-activities", value)


def test_wrong_fields_are_named():
    env = make_event("order.placed", {"order_id": "SO-1", "amount": "10.00"})
    with pytest.raises(BadEvent, match="payload.amount: Input should be a valid decimal"):
        decode("sales-activities", encode({**env, "payload": {"order_id": "SO-1", "amount": "lots"}}))
    with pytest.raises(BadEvent, match="occurred_at: must carry a time zone"):
        decode("sales-activities", encode({**env, "occurred_at": "2026-11-28T10:00:00"}))
    with pytest.raises(BadEvent, match="unknown event type 'order.teleported'"):
        decode("sales-activities", encode({**env, "type": "order.teleported"}))
    with pytest.raises(BadEvent, match="belongs on topic 'sales-activities', not 'marketing-events'"):
        decode("marketing-events", encode(env))


def test_rule_validation_reports_every_problem_by_field():
    problems = rule_errors({"name": "Big", "event_types": ["order.placed"],
                            "conditions": [{"field": "payload.amont", "op": ">=", "value": 5},
                                           {"field": "customer.segment", "op": ">", "value": 3},
                                           {"field": "payload.amount", "op": ">=", "value": "lots"}],
                            "email": ["not-an-address"], "notify": ["everybody"]})
    text = "\n".join(problems)
    assert "'payload.amont' is not a field of order.placed" in text
    assert "customer.segment is text, so '>' cannot compare it" in text
    assert "payload.amount >= needs a number, not 'lots'" in text
    assert "'not-an-address' is not an e-mail address" in text
    assert "'everybody' is not an audience" in text
    assert rule_errors(default_rules()[0].model_dump()) == []


def _event(kind, payload, customer=None, when=None):
    return decode({"order.placed": "sales-activities", "lead.score_changed": "sales-activities",
                   "campaign.spend": "marketing-events"}.get(kind, "customer-interactions"),
                  encode(make_event(kind, payload, customer_id=customer, occurred_at=when)))


@pytest.mark.parametrize(("event", "facts", "severity", "rule"), [
    (("social.mention", {"platform": "x", "text": "late again", "complaint": True, "sentiment": -0.8}),
     {"lifetime_spend": 300_000, "name": "A"}, "high", "High-value customer complains"),
    (("social.mention", {"platform": "x", "text": "late again", "complaint": True, "sentiment": -0.8}),
     {"lifetime_spend": 3_000_000, "name": "A"}, "critical", "High-value customer complains"),
    (("social.mention", {"platform": "x", "text": "late again", "complaint": True}),
     {"lifetime_spend": 1_000, "name": "A"}, None, None),
    (("lead.score_changed", {"lead_id": "l1", "old_score": 40, "new_score": 70}), {"name": "A"}, "medium",
     "Lead score jumped"),
    (("lead.score_changed", {"lead_id": "l1", "old_score": 60, "new_score": 70}), {"name": "A"}, None, None),
    (("order.placed", {"order_id": "1", "amount": "1200000"}), {"name": "A"}, "high", "Big order"),
    (("order.placed", {"order_id": "1", "amount": "1200"}), {"name": "A"}, None, None),
    (("campaign.spend", {"campaign_id": "c", "spend_to_date": "110", "budget": "100"}), None, "high",
     "Campaign over budget"),
    (("support.ticket_opened", {"ticket_id": "T1"}), {"name": "A", "churn_risk": 0.7}, "high",
     "At-risk customer opened a ticket"),
    (("support.ticket_opened", {"ticket_id": "T1"}), {"name": "A", "churn_risk": 0.1, "days_since_purchase": 10},
     None, None),
    (("interaction.logged", {"channel": "phone", "competitor": "KingsTrade"}), {"name": "A"}, "medium",
     "Competitor mentioned"),
])
def test_the_default_rules_cover_the_requested_situations(event, facts, severity, rule):
    ev = _event(*event, customer="c1")
    match = RuleEngine(default_rules()).evaluate(ev, facts)
    if severity is None:
        assert match is None
    else:
        assert match is not None and match.severity == severity and match.rule.name == rule
        assert match.reasons and match.reasons[0].startswith(rule)


def test_audience_keeps_only_the_alerts_meant_for_this_user():
    rule = AlertRule(name="r", event_types=["order.placed"], notify=["territory"])
    rep = Audience("ann", "field_rep", frozenset({"JM-12"}))
    assert rep.includes(rule, {"parish": "JM-12"}) and not rep.includes(rule, {"parish": "JM-01"})
    assert not Audience("bob", "manager").includes(rule, {"parish": "JM-12"})
    assert Audience("bob", "manager").includes(rule.model_copy(update={"notify": ["user:bob"]}), None)


def test_a_batch_handed_over_twice_is_stored_once(demo_cache):
    cache = open_cache(demo_cache)
    store = AlertStore(cache)
    pipeline = AlertPipeline(cache, RuleEngine(store.rules()), Audience("me", "manager"))
    events = simulated(cache, 3000)
    bad = malformed(200)
    batch = [Message(t, 0, i, encode(e)) for i, (t, e) in enumerate(events)]
    batch += [Message(t, 1, i, v) for i, (t, v, _why) in enumerate(bad)]
    first = pipeline.handle(batch)
    again = pipeline.handle(batch)
    assert first.alerts and not again.alerts and again.duplicates >= len(first.alerts)
    count = cache.reader().execute("SELECT count(*) FROM alert").fetchone()[0]
    assert count == len(first.alerts)
    assert store.dead_letter_count() == 200
    reasons = {d.reason.split(":")[0] for d in store.dead_letters()}
    assert "not valid JSON" in reasons and "schema_version" in reasons
    cache.close()


def test_old_events_raise_no_alert_and_titles_name_the_customer(demo_cache):
    cache = open_cache(demo_cache)
    customer, name = cache.reader().execute("SELECT id, display_name FROM customer LIMIT 1").fetchone()
    pipeline = AlertPipeline(cache, RuleEngine(default_rules()), Audience("me", "manager"), max_age=timedelta(days=7))
    fresh = make_event("order.placed", {"order_id": "1", "amount": "500000"}, customer_id=customer)
    stale = make_event("order.placed", {"order_id": "2", "amount": "500000"}, customer_id=customer,
                       occurred_at=datetime.now(UTC) - timedelta(days=30))
    result = pipeline.handle([Message("sales-activities", 0, 0, encode(fresh)),
                              Message("sales-activities", 0, 1, encode(stale))])
    assert [a.event_id for a in result.alerts] == [fresh["event_id"]]
    assert result.alerts[0].title == f"{name} ordered JMD 500,000"
    cache.close()


def test_rules_are_saved_tested_and_acknowledgements_queued(demo_cache):
    cache = open_cache(demo_cache)
    store = AlertStore(cache)
    rules = store.rules()
    assert [r.name for r in rules] == [r.name for r in default_rules()]
    mine = AlertRule(name="Any order over 100k", event_types=["order.placed"],
                     conditions=[{"field": "payload.amount", "op": ">", "value": 100_000}])
    store.save_rules([*rules, mine])
    assert store.rules()[-1] == mine
    pipeline = AlertPipeline(cache, RuleEngine(store.rules()), Audience("me", "manager"))
    events = simulated(cache, 2000)
    result = pipeline.handle([Message(t, 0, i, encode(e)) for i, (t, e) in enumerate(events)])
    hits = store.test_rule(mine)
    big = [e for _t, e in events if e["type"] == "order.placed" and float(e["payload"]["amount"]) > 100_000]
    assert {ev.event_id for ev, _s, _t in hits} == {e["event_id"] for e in big}
    alert = result.alerts[0]
    assert store.unread_count() == len(result.alerts)
    assert store.acknowledge([alert.id], "me") == 1
    outbox = cache.reader().execute("SELECT entity, entity_id, operation FROM outbox WHERE entity = 'alert'").fetchall()
    assert outbox[0] == ("alert", alert.id, "upsert")
    assert alert.id not in {a.id for a in store.alerts()}
    assert alert.id in {a.id for a in store.alerts(show_done=True)}
    cache.close()
