"""Territory figures, lead rebalancing and assignment, proximity alerts: on the demo cache."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from c360_desktop.core.alerts.proximity import hot_leads_near, raise_proximity_alerts
from c360_desktop.core.geo.map_page import load_points, page_data, write_page
from c360_desktop.core.geo.places import haversine_km
from c360_desktop.core.geo.territory import Period, default_period, report
from c360_desktop.core.leads.queue import (
    Rebalance,
    assign_leads,
    expected_value_jmd,
    suggest_rebalance,
)
from c360_desktop.core.storage.cache import open_cache


def test_parish_figures_add_up_to_what_the_rows_say(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    period = default_period(conn, 90)
    assert period.end - period.start == timedelta(days=90)
    rep = report(conn, period)
    # Recount from the raw rows, in Python: sales by the parish written on the customer's address.
    parish_of = dict(conn.execute("SELECT id, parish FROM customer WHERE deleted_at IS NULL"))
    sales, prior = defaultdict(int), defaultdict(int)
    start, end, before = (f"{d:%Y-%m-%d} 00:00:00" for d in (period.start, period.end, period.prior.start))
    for cid, when, cents in conn.execute('SELECT customer_id, occurred_at, total_cents FROM "transaction" '
                                         "WHERE deleted_at IS NULL"):
        if start <= when < end:
            sales[parish_of[cid]] += cents
        elif before <= when < start:
            prior[parish_of[cid]] += cents
    by_code = {r.parish: r for r in rep.parishes}
    assert len(by_code) == 14
    for code, row in by_code.items():
        assert row.sales_jmd == pytest.approx(sales[code] / 100)
        assert row.prior_sales_jmd == pytest.approx(prior[code] / 100)
        if prior[code]:
            assert row.growth_pct == pytest.approx(100 * (sales[code] - prior[code]) / prior[code])
    open_leads = conn.execute("SELECT count(*) FROM lead WHERE deleted_at IS NULL "
                              "AND status IN ('new', 'contacted', 'qualified')").fetchone()[0]
    assert sum(r.open_leads for r in rep.parishes) == open_leads == sum(r.open_leads for r in rep.reps)
    assert rep.churn_basis.startswith("rule:")  # no churn model has scored anyone yet
    assert all(0 <= r.churn_risk <= 1 for r in rep.parishes if r.churn_risk is not None)
    activities = conn.execute("SELECT count(*) FROM sales_activity WHERE deleted_at IS NULL AND occurred_at >= ? "
                              "AND occurred_at < ?", (start, end)).fetchone()[0]
    assert sum(r.activities for r in rep.reps) == activities
    cache.close()


def test_a_churn_model_replaces_the_rule_once_it_has_scored(demo_cache):
    cache = open_cache(demo_cache)
    with cache.writer() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM customer WHERE parish = 'JM-12'")]
        conn.executemany("INSERT INTO score (id, row_version, customer_id, model, model_version, value, scored_at) "
                         "VALUES (?, 0, ?, 'churn', 'xgb-7', 0.25, '2026-11-01 00:00:00')",
                         [(f"s{i}", cid) for i, cid in enumerate(ids)])
    rep = report(cache.reader(), Period(date(2026, 9, 1), date(2026, 11, 27)))
    assert rep.churn_basis == "model xgb-7"
    row = next(r for r in rep.parishes if r.parish == "JM-12")
    assert row.churn_risk == pytest.approx(0.25)
    assert next(r for r in rep.parishes if r.parish == "JM-01").churn_risk is None  # nobody scored there
    cache.close()


def test_the_map_page_carries_every_placed_customer_and_no_remote_link(demo_cache, tmp_path):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    points = load_points(conn)
    (placed,) = conn.execute("SELECT count(*) FROM customer_place WHERE lat IS NOT NULL AND search_key IS NOT NULL"
                             ).fetchone()
    assert len(points) == placed
    data = page_data(report(conn, default_period(conn)), points.segments, "growth", "band")
    page = write_page(tmp_path / "map", points, data)
    html = page.read_text()
    assert "http://" not in html and "https://cdn" not in html and "//cdn" not in html
    assert "leaflet.js" in html and "C360.init(" in html
    body = (tmp_path / "map" / "points.js").read_text()
    shipped = json.loads(body[body.index("{"):body.rindex("}") + 1])
    assert sorted(shipped["key"]) == sorted(k for (k,) in conn.execute(
        "SELECT search_key FROM customer_place WHERE lat IS NOT NULL AND search_key IS NOT NULL"))
    with pytest.raises(ValueError, match="map metric 'profit'"):
        page_data(report(conn, default_period(conn)), points.segments, "profit")
    cache.close()


def _territory_reps(conn, code):
    return [r for (r,) in conn.execute("SELECT r.id FROM sales_rep r JOIN territory t ON t.id = r.territory_id "
                                       "WHERE t.code = ? ORDER BY r.id", (code,))]


def test_rebalance_evens_expected_value_with_few_moves_and_assign_applies_it(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    reps = _territory_reps(conn, "JM-02")
    # Make it lopsided: every open lead of the territory to the first rep.
    leads = [r[0] for r in conn.execute("SELECT lead_id FROM lead_rank WHERE rep_id IN (?, ?)", reps)]
    assert assign_leads(cache, {lid: reps[0] for lid in leads}, "manager") > 0
    plan = suggest_rebalance(cache.reader(), reps)
    assert plan.before[reps[1]] == 0 and plan.before[reps[0]] > 0
    assert Rebalance.spread(plan.after) < 0.1 * Rebalance.spread(plan.before)
    assert len(plan.moves) < len(leads)  # not a reshuffle of everything
    assert all(m.from_rep == reps[0] and m.to_rep == reps[1] for m in plan.moves)
    # The plan's loads are what the leads are worth.
    value = {lid: expected_value_jmd(s, v) for lid, s, v in cache.reader().execute(
        "SELECT lead_id, score, estimated_value_cents FROM lead_rank WHERE rep_id IN (?, ?)", reps)}
    assert sum(m.expected_value_jmd for m in plan.moves) == pytest.approx(plan.after[reps[1]], abs=0.1)
    assert sum(plan.after.values()) == pytest.approx(sum(value.values()))

    before = cache.reader().execute("SELECT count(*) FROM outbox WHERE entity = 'lead'").fetchone()[0]
    assert assign_leads(cache, {m.lead_id: m.to_rep for m in plan.moves}, "manager") == len(plan.moves)
    conn = cache.reader()
    loads = defaultdict(float)
    for rep_id, score, cents in conn.execute("SELECT rep_id, score, estimated_value_cents FROM lead_rank "
                                             "WHERE rep_id IN (?, ?)", reps):
        loads[rep_id] += expected_value_jmd(score, cents)
    assert loads == pytest.approx(plan.after)
    queued = conn.execute("SELECT payload FROM outbox WHERE entity = 'lead' ORDER BY seq").fetchall()[before:]
    assert len(queued) == len(plan.moves)
    assert all(json.loads(p)["changes"]["rep_id"] == reps[1] for (p,) in queued)
    # Applying it again changes nothing.
    assert assign_leads(cache, {m.lead_id: m.to_rep for m in plan.moves}, "manager") == 0
    assert suggest_rebalance(cache.reader(), reps).moves == []
    with pytest.raises(ValueError, match="at least two reps"):
        suggest_rebalance(conn, reps[:1])
    with pytest.raises(ValueError, match="no sales rep"):
        assign_leads(cache, {leads[0]: "nobody"}, "manager")
    cache.close()


def test_rebalance_hands_out_unassigned_leads(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    reps = _territory_reps(conn, "JM-12")
    with cache.writer() as w:
        w.execute("UPDATE lead_rank SET rep_id = NULL WHERE parish = 'JM-12'")
    plan = suggest_rebalance(cache.reader(), reps, ["JM-12"])
    n = cache.reader().execute("SELECT count(*) FROM lead_rank WHERE parish = 'JM-12'").fetchone()[0]
    assert len(plan.moves) == n and all(m.from_rep is None for m in plan.moves)
    assert sum(plan.count_after.values()) == n and min(plan.count_after.values()) > 0
    cache.close()


def test_proximity_alerts_for_hot_leads_in_range_once_a_day(demo_cache):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    lead_id, cid, lat, lon = conn.execute(
        "SELECT r.lead_id, r.customer_id, p.lat, p.lon FROM lead_rank r JOIN customer_place p "
        "ON p.customer_id = r.customer_id WHERE p.lat IS NOT NULL ORDER BY r.lead_id LIMIT 1").fetchone()
    with cache.writer() as w:
        w.execute("UPDATE lead_rank SET band = 'hot', score = 88 WHERE lead_id = ?", (lead_id,))
    hot = {(r[0], r[1]) for r in cache.reader().execute(
        "SELECT r.lead_id, p.customer_id, p.lat, p.lon FROM lead_rank r JOIN customer_place p "
        "ON p.customer_id = r.customer_id WHERE r.band = 'hot' AND p.lat IS NOT NULL")
        if haversine_km(lat + 0.01, lon, r[2], r[3]) <= 3}
    found = hot_leads_near(cache.reader(), lat + 0.01, lon, 3)
    assert {(h.lead_id, h.customer_id) for h in found} == hot and (lead_id, cid) in hot
    assert [h.distance_km for h in found] == sorted(h.distance_km for h in found)

    morning = datetime(2026, 11, 27, 9, tzinfo=UTC)
    raised = raise_proximity_alerts(cache, lat + 0.01, lon, 3, "Test corner", now=morning)
    assert {a.customer_id for a in raised} == {c for _l, c in hot}
    mine = next(a for a in raised if a.customer_id == cid)
    assert mine.severity == "high" and "km away" in mine.title and "Near Test corner" in mine.body
    # Later the same day, a little further on: nothing new. Next day: again.
    assert raise_proximity_alerts(cache, lat + 0.011, lon, 3, "Test corner", now=morning.replace(hour=15)) == []
    assert len(raise_proximity_alerts(cache, lat + 0.01, lon, 3, "x", now=morning.replace(day=28))) == len(raised)
    stored = cache.reader().execute("SELECT count(*) FROM alert WHERE type = 'proximity.hot_lead'").fetchone()[0]
    assert stored == 2 * len(raised)
    # Out of range: nothing.
    assert raise_proximity_alerts(cache, 17.0, -76.0, 1, "sea", now=morning) == []
    cache.close()
