"""Next best actions honour marketing consent (issue 21, item 7): no offer, and no keep-warm
message, on a channel whose latest consent record is a withdrawal."""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import datetime, timedelta

import pandas as pd
import pytest

from c360_desktop.core.leads.queue import (
    next_best_action,
    refresh_lead_ranks,
    refresh_lead_ranks_for_customers,
)
from c360_desktop.core.models import LATEST_CONSENT
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


def test_a_campaign_list_holds_only_who_may_be_reached_and_counts_the_rest(services, tmp_path):
    """Campaign exports honour consent (issue 21, item 7): a withdrawal or an objection always
    leaves the customer out, and each count matches the consent table itself."""
    from datetime import date

    reader = services.cache.reader()
    services.settings.role = "manager"
    table, found = services.reports.campaign_list("email")
    latest = dict(reader.execute(
        f"SELECT k.customer_id, k.status FROM consent k WHERE k.purpose = 'marketing' AND k.channel = 'email' "
        f"AND k.deleted_at IS NULL AND {LATEST_CONSENT}").fetchall())
    emails = dict(reader.execute("SELECT id, primary_email FROM customer WHERE deleted_at IS NULL").fetchall())
    want = {c for c, s in latest.items() if s == "granted" and emails.get(c)}
    assert set(found.frame["customer_id"]) == want and len(want) > 50
    assert found.withdrawn == sum(1 for c, s in latest.items() if s == "withdrawn" and c in emails)
    assert found.unrecorded == sum(1 for c in emails if c not in latest)
    assert len(found.frame) + found.left_out == len(emails)
    assert "customer_id" not in table.frame.columns and list(table.frame.columns)[:2] == ["Customer", "Parish"]

    # one of them withdraws, another objects to direct marketing: both leave the list
    gone, objecting = sorted(want)[:2]
    services.profiles.record_consent(gone, "email", "marketing", "withdrawn", "e-mail", "tester")
    services.settings.role = "data_steward"
    services.privacy.open_request(objecting, "objection", date.today(), "email", "no more offers")
    services.settings.role = "manager"
    _table, again = services.reports.campaign_list("email")
    ids = set(again.frame["customer_id"])
    assert gone not in ids and objecting not in ids and len(ids) == len(want) - 2
    assert again.withdrawn == found.withdrawn + 1 and again.objected == 1
    wider = services.reports.campaign_list("email", include_unrecorded=True)[1]
    assert gone not in set(wider.frame["customer_id"]) and wider.unrecorded == 0
    assert len(wider.frame) > len(again.frame)
    assert "Legitimate interests (no record)" in set(wider.frame["Legal basis"])

    # a field rep's list stays in their parishes
    from c360_desktop.core.reports.semantic import ReportError
    from c360_desktop.core.settings import ConnectionProfile

    services.settings.role = "field_rep"
    services.settings.profiles = [ConnectionProfile(name="hq", url="postgresql://hq.example/c360", territory=["JM-06"])]
    services.settings.active_profile = "hq"
    _t, rep = services.reports.campaign_list("email")
    parish_of = dict(reader.execute("SELECT id, parish FROM customer").fetchall())
    assert {parish_of[c] for c in rep.frame["customer_id"]} == {"JM-06"}
    with pytest.raises(ReportError, match="outside your territory"):
        services.reports.campaign_list("email", parishes=["JM-01"])


def test_the_campaign_list_command_writes_the_file_and_says_who_was_left_out(demo_cache, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    c360 = str(Path(sys.executable).with_name("c360"))
    out = tmp_path / "list.csv"
    r = subprocess.run([c360, "campaign-list", "--channel", "sms", "--parish", "St Ann", "--out", str(out),
                        "--cache", str(demo_cache)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "customers may receive marketing by SMS; left out:" in r.stderr and "withdrew consent" in r.stderr
    lines = out.read_text("utf-8-sig").splitlines()
    assert lines and "St. Ann" in "\n".join(lines)
    r = subprocess.run([c360, "campaign-list", "--channel", "fax", "--cache", str(demo_cache)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice: 'fax'" in r.stderr
