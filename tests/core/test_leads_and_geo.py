"""Lead queue (rule-based scores that say why, next best actions) and proximity, on demo data."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from c360_desktop.core.geo.places import haversine_km, near
from c360_desktop.core.leads.queue import LeadFacts, LeadQueue, band, next_best_action, rule_score
from c360_desktop.core.storage.cache import open_cache

NOW = datetime(2026, 11, 27, 18, 0)


def facts(**kw):
    base = dict(status="contacted", source="website", created_at=NOW - timedelta(days=30),
                last_contact_at=NOW - timedelta(days=3), estimated_value_jmd=50_000.0, lifetime_spend_jmd=20_000.0,
                segment="Regular", churn_risk=None)
    return LeadFacts(**{**base, **kw})


@pytest.mark.parametrize(("kw", "score", "action"), [
    (dict(churn_risk=0.72), 50, "Retention call"),
    (dict(segment="At risk"), 50, "Retention call"),
    (dict(last_contact_at=NOW - timedelta(hours=30)), 80, "Call now"),
    (dict(last_contact_at=None, created_at=NOW - timedelta(hours=25)), 75, "Call now"),
    (dict(last_contact_at=NOW - timedelta(hours=2)), 80, "Keep warm"),
    (dict(segment="Occasional"), 50, "Send an offer"),
    (dict(segment="Dormant"), 50, "Send an offer"),
    (dict(status="qualified"), 50, "Book a meeting"),
    (dict(last_contact_at=None), 50, "Introduce yourself"),
    (dict(last_contact_at=NOW - timedelta(days=20)), 50, "Follow-up call"),
    (dict(), 50, "Keep warm"),
])
def test_next_best_action_follows_the_documented_rules(kw, score, action):
    got, reason = next_best_action(facts(**kw), score, NOW)
    assert got == action and reason


def test_rule_score_says_why_and_stays_in_range():
    rich = facts(status="qualified", source="referral", created_at=NOW - timedelta(days=2),
                 estimated_value_jmd=10_000_000, lifetime_spend_jmd=900_000)
    score, parts = rule_score(rich, NOW)
    assert score == 100 and band(score) == "hot"
    assert {p["feature"] for p in parts} >= {"status", "estimated value", "source", "freshness", "customer value"}
    assert sum(p["points"] for p in parts) >= 100  # clamped to 100
    poor, parts = rule_score(facts(status="new", source=None, created_at=NOW - timedelta(days=200),
                                   estimated_value_jmd=None), NOW)
    assert 0 <= poor < 45 and band(poor) == "cold"
    assert any(p["feature"] == "freshness" and p["points"] < 0 for p in parts)


def test_the_demo_cache_ranks_every_open_lead(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    open_leads = conn.execute("SELECT count(*) FROM lead WHERE status IN ('new', 'contacted', 'qualified')").fetchone()[0]
    assert open_leads > 100
    assert conn.execute("SELECT count(*) FROM lead_rank").fetchone()[0] == open_leads
    queue = LeadQueue(cache.reader)
    ranked = queue.query(limit=10_000)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert {r.scored_by for r in ranked} == {"rules"}  # no lead model yet: labelled as such
    parish = ranked[0].parish
    mine = queue.query(parishes=[parish], bands=["hot", "warm"], sort="value")
    assert mine and all(r.parish == parish and r.band in ("hot", "warm") for r in mine)
    values = [r.estimated_value_cents or 0 for r in mine]
    assert values == sorted(values, reverse=True)
    why = queue.explain(ranked[0].lead_id)
    assert why[0]["points"] and why[0]["why"]
    with pytest.raises(ValueError, match="cannot sort by 'colour'"):
        queue.query(sort="colour")
    cache.close()


def test_ranking_the_whole_queue_again_keeps_its_sort_indexes_and_a_failure_keeps_the_old_ranks(demo_cache):
    from c360_desktop.core.leads.queue import refresh_lead_ranks

    cache = open_cache(demo_cache)
    conn = cache.reader()
    schema = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lead_rank' ORDER BY name"
    indexes = conn.execute(schema).fetchall()
    assert len(indexes) >= 8
    before = conn.execute("SELECT lead_id, score FROM lead_rank ORDER BY lead_id").fetchall()
    with pytest.raises(RuntimeError), cache.writer() as w:
        refresh_lead_ranks(w)
        raise RuntimeError("a failure after the rows went in")
    assert conn.execute(schema).fetchall() == indexes
    assert conn.execute("SELECT lead_id, score FROM lead_rank ORDER BY lead_id").fetchall() == before
    with cache.writer() as w:
        n = refresh_lead_ranks(w)
    assert conn.execute(schema).fetchall() == indexes and n == len(before)
    plan = " ".join(str(r[-1]) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT lead_id FROM lead_rank ORDER BY score DESC LIMIT 50"))
    assert "ix_lead_rank_score" in plan  # the queue's sort still walks its index
    cache.close()


def test_near_finds_exactly_the_customers_within_the_radius(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    # Customers with coordinates of their own, and the others placed at their town (geocode.py).
    everyone = conn.execute("SELECT customer_id, lat, lon FROM customer_place WHERE lat IS NOT NULL").fetchall()
    assert conn.execute("SELECT count(*) FROM customer_place WHERE precision = 'town'").fetchone()[0] > 0
    rng = random.Random(3)
    for lat, lon, radius in [(18.0358, -77.5050, 5), (17.9970, -76.7936, 2), (18.47, -77.92, 10),
                             *[(rng.uniform(17.8, 18.5), rng.uniform(-78.3, -76.2), rng.uniform(1, 20)) for _ in range(5)]]:
        want = sorted((round(haversine_km(lat, lon, a, b), 3), cid) for cid, a, b in everyone
                      if haversine_km(lat, lon, a, b) <= radius)
        got = near(conn, lat, lon, radius, limit=100_000)
        assert [(n.distance_km, n.customer_id) for n in got] == want
        assert [(n.distance_km, n.customer_id) for n in near(conn, lat, lon, radius, limit=10)] == want[:10]
    with pytest.raises(ValueError, match="is not a position"):
        near(conn, 95, 0, 5)
    with pytest.raises(ValueError, match="radius 0 km"):
        near(conn, 18, -77, 0)
    cache.close()


def test_cli_leads_and_near(demo_cache, capsys):
    import json

    from c360_desktop.cli import main

    assert main(["leads", "--cache", str(demo_cache), "--territory", "JM-12", "--json", "--limit", "500"]) == 0
    leads = json.loads(capsys.readouterr().out)
    assert leads and all(r["parish"] == "JM-12" for r in leads)
    assert [r["score"] for r in leads] == sorted((r["score"] for r in leads), reverse=True)
    assert all(r["band"] in ("hot", "warm", "cold") and r["next_action"] and r["next_action_reason"] for r in leads)
    assert all(r["explanation"] for r in leads)
    assert main(["near", "--cache", str(demo_cache), "--lat", "18.0358", "--lon", "-77.5050", "--radius-km", "5",
                 "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all(f["distance_km"] <= 5 for f in found)
    assert [f["distance_km"] for f in found] == sorted(f["distance_km"] for f in found)
    assert {"lat", "lon", "distance_km"} <= set(found[0])
    with pytest.raises(SystemExit):
        main(["near", "--cache", str(demo_cache), "--lat", "north", "--lon", "-77"])
    assert "'north' is not a latitude" in capsys.readouterr().err


def test_a_quick_action_records_one_activity_even_if_submitted_twice(demo_cache):
    import uuid

    from c360_desktop.core.leads.queue import log_activity

    cache = open_cache(demo_cache)
    lead = cache.reader().execute("SELECT lead_id FROM lead_rank WHERE status = 'new' LIMIT 1").fetchone()[0]
    action = str(uuid.uuid4())
    assert log_activity(cache, lead, "call", "reached", "Wants a quote", "rep", action) is True
    assert log_activity(cache, lead, "call", "reached", "Wants a quote", "rep", action) is False  # double click
    conn = cache.reader()
    assert conn.execute("SELECT count(*) FROM sales_activity WHERE lead_id = ?", (lead,)).fetchone()[0] >= 1
    assert conn.execute("SELECT count(*) FROM sales_activity WHERE id = ?", (action,)).fetchone()[0] == 1
    assert conn.execute("SELECT status FROM lead WHERE id = ?", (lead,)).fetchone()[0] == "contacted"
    queued = conn.execute("SELECT entity, operation FROM outbox ORDER BY seq").fetchall()
    assert queued == [("sales_activity", "insert"), ("lead", "update")]
    rank = conn.execute("SELECT status, last_contact_at FROM lead_rank WHERE lead_id = ?", (lead,)).fetchone()
    assert rank[0] == "contacted" and rank[1] is not None
    with pytest.raises(ValueError, match="activity kind 'fax'"):
        log_activity(cache, lead, "fax", "", "", "rep", str(uuid.uuid4()))
    cache.close()


def test_geocoding_takes_the_parish_from_the_address():
    from c360_desktop.core.geo.geocode import geocode

    mandeville = geocode("Mandevile", "Manchester")  # a typo
    assert (mandeville.parish, mandeville.town, mandeville.precision) == ("JM-12", "Mandeville", "town")
    assert geocode("Mo Bay", None).town == "Montego Bay" and geocode("Mo Bay", None).parish == "JM-08"
    assert geocode("Half-Way-Tree", "Saint Andrew").town == "Half Way Tree"
    # The address says Clarendon: a Montego Bay there is not taken, the parish stands.
    wrong = geocode("Montego Bay", "Clarendon")
    assert (wrong.parish, wrong.town, wrong.precision) == ("JM-13", None, "parish") and "Clarendon" in wrong.note
    # "Kingston 5" is a postal zone in St Andrew: the written parish wins over the town's name.
    assert geocode("Kingston 5", "St. Andrew").parish == "JM-02"
    own = geocode("May Pen", "Clarendon", 17.97, -77.25)
    assert (own.lat, own.lon, own.precision, own.town) == (17.97, -77.25, "exact", "May Pen")
    nowhere = geocode("Atlantis", "Narnia")
    assert nowhere.precision == "none" and "Narnia" in nowhere.note


def test_places_follow_the_customers_address(demo_cache, tmp_path):
    import shutil

    from c360_desktop.core.geo.places import refresh_geo

    path = tmp_path / "copy.db"
    shutil.copy(demo_cache, path)
    cache = open_cache(path)
    with cache.writer() as conn:
        cid, key = conn.execute("SELECT id, search_key FROM customer WHERE lat IS NOT NULL LIMIT 1").fetchone()
        conn.execute("UPDATE customer SET lat = NULL, lon = NULL, town = 'Ocho Rios', parish = 'JM-06' "
                     "WHERE id = ?", (cid,))
        refresh_geo(conn, [cid])
    conn = cache.reader()
    place = conn.execute("SELECT parish, town, lat, lon, precision FROM customer_place WHERE customer_id = ?",
                         (cid,)).fetchone()
    assert place == ("JM-06", "Ocho Rios", 18.40760, -77.10312, "town")
    assert conn.execute("SELECT min_lat, min_lon FROM customer_geo WHERE key = ?", (key,)).fetchone() == \
        pytest.approx((18.4076, -77.10312), abs=1e-4)
    assert cid in [n.customer_id for n in near(conn, 18.4076, -77.1031, 0.5, limit=10_000)]
    cache.close()
