"""Next best actions honour marketing consent (issue 21, item 7): no offer, and no keep-warm
message, on a channel whose latest consent record is a withdrawal."""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import datetime, timedelta

import pandas as pd

from c360_desktop.core.leads.queue import (
    next_best_action,
    refresh_lead_ranks,
    refresh_lead_ranks_for_customers,
)
from c360_desktop.core.storage.cache import open_cache
from tests.core.test_leads_and_geo import NOW, facts

WORDS = {"e-mail": "email", "SMS": "sms", "WhatsApp": "whatsapp"}


def test_an_offer_goes_by_a_channel_still_consented_or_not_at_all():
    assert next_best_action(facts(segment="Occasional"), 50, NOW) == (
        "Send an offer", "Occasional customers respond to offers; by e-mail")
    action, why = next_best_action(facts(segment="Occasional", withdrawn=frozenset({"email"})), 50, NOW)
    assert action == "Send an offer" and why.endswith("by SMS (no e-mail: consent withdrawn)")
    refused = frozenset({"email", "sms", "whatsapp"})
    action, why = next_best_action(facts(segment="Occasional", withdrawn=refused), 50, NOW)
    assert action != "Send an offer"
    action, why = next_best_action(facts(withdrawn=refused, last_contact_at=NOW - timedelta(days=3)), 30, NOW)
    assert action == "Keep warm" and "service contact only" in why


def test_a_customer_who_refused_marketing_calls_gets_a_visit_where_the_rules_say_call():
    no_calls = frozenset({"phone"})
    cases = [  # (facts, score, the rules' action, the action once calls are refused)
        (dict(segment="At risk"), 50, "Retention call", "Retention visit"),
        (dict(status="qualified", last_contact_at=NOW - timedelta(days=3)), 90, "Call now", "Visit now"),
        (dict(last_contact_at=NOW - timedelta(days=20)), 30, "Follow-up call", "Follow-up visit"),
        (dict(last_contact_at=NOW - timedelta(days=3)), 30, "Keep warm", "Keep warm"),  # no call: unchanged
    ]
    for kw, score, called, visited in cases:
        assert next_best_action(facts(**kw), score, NOW)[0] == called
        action, why = next_best_action(facts(**kw, withdrawn=no_calls), score, NOW)
        assert action == visited
        assert why.endswith("(no marketing calls: consent withdrawn)") == (called != visited)


def _latest_withdrawn(path) -> set[tuple[str, str]]:
    """(customer, channel) whose latest marketing consent is a withdrawal, recounted with pandas."""
    conn = sqlite3.connect(path)
    try:
        frame = pd.read_sql("SELECT customer_id, channel, status, recorded_at FROM consent "
                            "WHERE purpose = 'marketing' AND deleted_at IS NULL", conn)
    finally:
        conn.close()
    latest = frame.sort_values("recorded_at").groupby(["customer_id", "channel"]).tail(1)
    return set(map(tuple, latest[latest["status"] == "withdrawn"][["customer_id", "channel"]].values))


def test_no_action_in_the_demo_queue_uses_a_withdrawn_channel(demo_cache):
    withdrawn = _latest_withdrawn(demo_cache)
    cache = open_cache(demo_cache)
    try:
        with cache.writer() as w:
            refresh_lead_ranks(w, now=datetime(2026, 11, 27, 18))
        rows = cache.reader().execute("SELECT customer_id, next_action, next_action_reason FROM lead_rank").fetchall()
        named = [(cid, WORDS[m.group(1)]) for cid, _a, why in rows
                 if (m := re.search(r"by (e-mail|SMS|WhatsApp)", why))]
        assert len(named) > 100
        assert [n for n in named if n in withdrawn] == []
        rerouted = [r for r in rows if "consent withdrawn" in r[2]]
        assert rerouted, "the demo has offers sent another way because a channel was refused"

        # a customer withdraws on every channel: the offer to them stops at once
        cid = next(c for c, a, _w in rows if a == "Send an offer")
        later = (datetime(2026, 11, 27, 18) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        with cache.writer() as w:
            w.executemany("INSERT INTO consent (id, row_version, customer_id, channel, purpose, status, recorded_at, "
                          "source) VALUES (?, 0, ?, ?, 'marketing', 'withdrawn', ?, 'phone call')",
                          [(str(uuid.uuid4()), cid, ch, later) for ch in ("email", "sms", "whatsapp")])
            refresh_lead_ranks_for_customers(w, [cid])
        actions = [a for (a,) in cache.reader().execute(
            "SELECT next_action FROM lead_rank WHERE customer_id = ?", (cid,))]
        assert actions and "Send an offer" not in actions
    finally:
        cache.close()


def test_a_consent_change_is_checked_and_hostile_text_is_data(services):
    import pytest

    from c360_desktop.core.validation import InvalidValue

    cid = services.cache.reader().execute("SELECT id FROM customer ORDER BY id LIMIT 1").fetchone()[0]
    before = services.cache.reader().execute("SELECT count(*) FROM consent").fetchone()
    for kw, field in ((dict(channel="fax"), "channel"), (dict(purpose="spam"), "purpose"),
                      (dict(status="maybe"), "status"), (dict(source="  "), "source"),
                      (dict(legal_basis="because"), "legal basis"),
                      (dict(source="x" * 31), "source")):
        args = {"channel": "sms", "purpose": "marketing", "status": "withdrawn", "source": "phone call", **kw}
        with pytest.raises(InvalidValue, match=field):
            services.profiles.record_consent(cid, author="rep", **args)
    assert services.cache.reader().execute("SELECT count(*) FROM consent").fetchone() == before  # nothing half-written
    hostile = "'); DROP TABLE consent;--"
    services.profiles.record_consent(cid, "sms", "marketing", "withdrawn", hostile[:30], "rep")
    (latest,) = [k for k in services.profiles.consents(cid) if k.channel == "sms" and k.purpose == "marketing"]
    assert latest.status == "withdrawn" and latest.source == hostile[:30] and latest.pending_sync
    assert services.profiles.get(cid).consents  # the 360 view carries them
