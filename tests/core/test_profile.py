"""The 360 profile: figures agree with the records, the timeline pages completely, notes queue."""

import json

import pytest
from pydantic import ValidationError

from c360_desktop.core.profile.service import CustomerNotFound


def busiest(services):
    return services.cache.reader().execute(
        "SELECT customer_id FROM customer_summary ORDER BY txn_count DESC LIMIT 1").fetchone()[0]


def test_profile_figures_match_the_records(services):
    cid = busiest(services)
    p = services.profiles.get(cid)
    conn = services.cache.reader()
    count, total, last = conn.execute(
        'SELECT count(*), sum(total_cents), max(occurred_at) FROM "transaction" WHERE customer_id = ?', (cid,)).fetchone()
    assert p.transactions.count == count
    assert int(p.transactions.lifetime_spend * 100) == total
    assert p.transactions.last_purchase.strftime("%Y-%m-%d %H:%M:%S") == last
    sources = conn.execute("SELECT count(*) FROM identity_link WHERE customer_id = ?", (cid,)).fetchone()[0]
    assert len(p.source_records) == sources >= 1
    assert all(c.value.startswith("+1") for c in p.contact_points if c.kind == "phone")
    assert p.scores == ()  # no model has run on the demo cache: the pane says so


def test_open_leads_are_the_open_ones(services):
    cid = services.cache.reader().execute(
        "SELECT customer_id FROM lead WHERE status IN ('new', 'contacted', 'qualified') LIMIT 1").fetchone()[0]
    leads = services.profiles.get(cid).open_leads
    assert leads and all(lead.status in ("new", "contacted", "qualified") for lead in leads)


def test_timeline_pages_through_everything_newest_first(services):
    cid = busiest(services)
    conn = services.cache.reader()
    expected = conn.execute('SELECT count(*) FROM "transaction" WHERE customer_id = ?', (cid,)).fetchone()[0] + \
        conn.execute("SELECT count(*) FROM interaction WHERE customer_id = ?", (cid,)).fetchone()[0]
    items, before = [], None
    while page := services.profiles.timeline(cid, before, limit=37):
        items += page
        before = page[-1].cursor
    assert len(items) == expected == len({i.id for i in items})
    assert [i.cursor for i in items] == sorted((i.cursor for i in items), reverse=True)
    assert {i.kind for i in items} >= {"purchase"}


def test_a_note_is_saved_with_exactly_one_outbox_entry(services):
    cid = busiest(services)
    note = services.profiles.add_note(cid, "  Wants a quote for 40 bags of cement.  ", "tester")
    conn = services.cache.reader()
    assert conn.execute("SELECT body, author FROM note WHERE id = ?", (note.id,)).fetchone() == (
        "Wants a quote for 40 bags of cement.", "tester")
    rows = conn.execute("SELECT idempotency_key, operation, payload FROM outbox WHERE entity_id = ?", (note.id,)).fetchall()
    assert len(rows) == 1 and rows[0][1] == "insert"
    assert json.loads(rows[0][2])["body"] == "Wants a quote for 40 bags of cement."
    assert services.profiles.notes(cid)[0].pending_sync


def test_bad_notes_write_nothing(services):
    cid = busiest(services)
    conn = services.cache.reader()
    before = conn.execute("SELECT (SELECT count(*) FROM note), (SELECT count(*) FROM outbox)").fetchone()
    with pytest.raises(CustomerNotFound):
        services.profiles.add_note("no-such-customer", "hello", "tester")
    with pytest.raises(ValidationError):
        services.profiles.add_note(cid, "   ", "tester")
    assert conn.execute("SELECT (SELECT count(*) FROM note), (SELECT count(*) FROM outbox)").fetchone() == before


def test_unknown_customer(services):
    with pytest.raises(CustomerNotFound, match="no customer with id 'nope'"):
        services.profiles.get("nope")
