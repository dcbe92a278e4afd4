"""Pushing local changes: exactly once, merged field by field, conflicts kept for the user."""

import json

import pytest

from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync
from c360_desktop.core.sync.central import Central
from c360_desktop.core.sync.push import Pusher, three_way


@pytest.fixture
def synced(tmp_path, central_url):
    cache = open_cache(tmp_path / "cache.db")
    sync(cache, central_url)
    yield cache, ProfileService(cache)
    cache.close()


def a_customer(cache):
    return cache.reader().execute(
        "SELECT id, display_name, primary_email FROM customer WHERE kind = 'individual' "
        "AND primary_email IS NOT NULL ORDER BY id LIMIT 1").fetchone()


def central_row(central, sql, *params):
    cur = central.cursor()
    cur.execute(sql, params)
    row = cur.fetchone()
    central.commit()
    return row


def test_three_way_merge_rules():
    base = {"a": 1, "b": 1, "c": 1}
    assert three_way(base, {"a": 2}, {"a": 1}) == ({"a": 2}, [])  # only we changed it
    assert three_way(base, {"b": 2}, {"b": 2}) == ({}, [])  # both made the same change
    assert three_way(base, {"c": 2}, {"c": 3}) == ({}, ["c"])  # both changed it, differently


def test_a_note_written_offline_reaches_the_centre_once_even_if_replayed(synced, central_url, central):
    cache, profiles = synced
    cid = a_customer(cache)[0]
    note = profiles.add_note(cid, "Visited: wants 40 bags of cement before Christmas.", "rep.campbell")
    pushed, _ = sync(cache, central_url)
    assert pushed.applied == 1
    # a crash after the central commit but before the local mark: the change is sent again
    with cache.writer() as conn:
        conn.execute("UPDATE outbox SET pushed_at = NULL")
    pushed, _ = sync(cache, central_url)
    assert pushed.already_applied == 1 and pushed.applied == 0
    assert central_row(central, "SELECT count(*) FROM note WHERE id = %s", note.id) == (1,)
    assert central_row(central, "SELECT count(*) FROM applied_change") == (1,)
    # the note came back with its central row version; nothing is waiting any more
    rv = cache.reader().execute("SELECT row_version FROM note WHERE id = ?", (note.id,)).fetchone()[0]
    assert rv > 0 and not profiles.notes(cid)[0].pending_sync


def test_edits_of_different_fields_are_both_kept(synced, central_url, central):
    cache, profiles = synced
    cid, name, _email = a_customer(cache)
    profiles.update_customer(cid, {"primary_email": "new.address@example.com"}, "rep.campbell")
    cur = central.cursor()
    cur.execute("UPDATE customer SET display_name = %s, updated_by = 'office' WHERE id = %s", (name + " Jr.", cid))
    central.commit()
    pushed, _ = sync(cache, central_url)
    assert pushed.merged == 1 and pushed.conflicts == []
    assert central_row(central, "SELECT display_name, primary_email FROM customer WHERE id = %s", cid) == (
        name + " Jr.", "new.address@example.com")
    assert cache.reader().execute("SELECT display_name, primary_email FROM customer WHERE id = ?", (cid,)).fetchone() == (
        name + " Jr.", "new.address@example.com")


def test_edits_of_the_same_field_become_a_conflict_not_an_overwrite(synced, central_url, central):
    cache, profiles = synced
    cid, _name, email = a_customer(cache)
    profiles.update_customer(cid, {"primary_email": "mine@example.com"}, "rep.campbell")
    cur = central.cursor()
    cur.execute("UPDATE customer SET primary_email = 'theirs@example.com' WHERE id = %s", (cid,))
    central.commit()
    pushed, _ = sync(cache, central_url)
    assert pushed.conflicts == [("customer", cid, "primary_email")]
    assert pushed.conflicts_note == "1 conflict to review"
    assert central_row(central, "SELECT primary_email FROM customer WHERE id = %s", cid) == ("theirs@example.com",)
    row = cache.reader().execute(
        "SELECT base, mine, theirs, resolved_at FROM sync_conflict WHERE entity_id = ?", (cid,)).fetchone()
    assert [json.loads(v) for v in row[:3]] == [email, "mine@example.com", "theirs@example.com"]
    assert row[3] is None  # waiting in the inbox for the user


def test_conflicts_survive_a_replay(synced, central_url, central):
    cache, profiles = synced
    cid, _name, _email = a_customer(cache)
    profiles.update_customer(cid, {"primary_email": "mine@example.com"}, "rep.campbell")
    cur = central.cursor()
    cur.execute("UPDATE customer SET primary_email = 'theirs@example.com' WHERE id = %s", (cid,))
    central.commit()
    c = Central(central_url)
    try:
        pusher = Pusher(cache, c)
        key, entity, entity_id, op, payload, base_rv = pusher.pending()[0][1:]
        pusher._apply(key, entity, entity_id, op, json.loads(payload), base_rv)  # centre commits; we "crash"
    finally:
        c.close()
    assert cache.reader().execute("SELECT count(*) FROM sync_conflict").fetchone() == (0,)
    pushed, _ = sync(cache, central_url)
    assert pushed.already_applied == 1
    assert cache.reader().execute("SELECT field FROM sync_conflict").fetchall() == [("primary_email",)]


def test_bad_edits_are_refused_before_anything_is_queued(synced):
    from c360_desktop.core.validation import InvalidValue

    cache, profiles = synced
    cid = a_customer(cache)[0]
    for changes, message in (({"primary_phone": "555-1234"}, "area code"), ({"parish": "Narnia"}, "not a Jamaican parish"),
                             ({"row_version": 1}, "not a field that can be edited"), ({"display_name": ""}, "must not be empty")):
        with pytest.raises(InvalidValue, match=message):
            profiles.update_customer(cid, changes, "rep")
    assert cache.reader().execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_resolving_a_conflict_either_way(synced, central_url, central):
    from c360_desktop.core.sync.conflicts import ConflictInbox

    cache, profiles = synced
    inbox = ConflictInbox(cache, profiles)
    cid, _name, _email = a_customer(cache)
    for mine, theirs in (("mine1@example.com", "theirs1@example.com"), ("mine2@example.com", "theirs2@example.com")):
        profiles.update_customer(cid, {"primary_email": mine}, "rep")
        cur = central.cursor()
        cur.execute("UPDATE customer SET primary_email = %s WHERE id = %s", (theirs, cid))
        central.commit()
        sync(cache, central_url)
    first, second = inbox.open()
    assert (first.label, first.field, first.mine, first.theirs) == (
        profiles.get(cid).display_name, "primary_email", "mine1@example.com", "theirs1@example.com")
    inbox.keep_theirs(first.seq)
    inbox.keep_mine(second.seq, "rep")
    assert inbox.open() == []
    pushed, _ = sync(cache, central_url)
    assert pushed.applied == 2 and pushed.conflicts == []  # the edit and its audit entry
    assert central_row(central, "SELECT primary_email FROM customer WHERE id = %s", cid) == ("mine2@example.com",)


def test_identity_work_syncs_imports_merges_and_review_decisions(tmp_path, central_url, central):
    """Imported source records, a merge and a 'not a match' decision reach the real central
    PostgreSQL; a second desktop pulls them: the merged customer is retired there too and the
    decided pair is not asked again."""
    from c360_desktop.core.identity.golden import merge
    from c360_desktop.core.identity.importing import apply, plan
    from c360_desktop.core.identity.review import build_queue, decide, pending
    from plugins.quickbooks import QuickBooksIIF
    from tests.core.test_import import IIF

    one = open_cache(tmp_path / "one.db")
    two = open_cache(tmp_path / "two.db")
    sync(one, central_url)
    path = tmp_path / "customers.iif"
    path.write_text(IIF, encoding="utf-8")
    assert apply(one, plan(path, QuickBooksIIF()), "analyst").inserted == 3
    a, b = one.reader().execute("SELECT id FROM customer WHERE kind = 'individual' AND deleted_at IS NULL "
                                "ORDER BY id LIMIT 2").fetchall()
    merge(one, a[0], [b[0]], "analyst")
    assert build_queue(one, low=0.01, high=0.99) > 0
    pair = pending(one.reader(), 1)[0]
    decide(one, pair.id, "no_match", "analyst")
    pushed, _ = sync(one, central_url)
    assert pushed.applied >= 5 and not pushed.conflicts
    assert central_row(central, "SELECT count(*) FROM source_record WHERE system = 'quickbooks:customers' AND lineage IS NOT NULL "
                                "AND external_id = 'Brown, Marcia'") == (1,)
    assert central_row(central, "SELECT status, deleted_at IS NOT NULL FROM customer WHERE id = %s", b[0]) == \
        ("merged", True)
    assert central_row(central, "SELECT count(*) FROM audit_event WHERE action = 'identity_review.no_match'") == (1,)

    sync(two, central_url)
    assert two.reader().execute("SELECT status FROM customer WHERE id = ?", (b[0],)).fetchone() == ("merged",)
    build_queue(two, low=0.01, high=0.99)
    asked = {(p.customer_a, p.customer_b) for p in pending(two.reader(), 100_000)}
    assert (pair.customer_a, pair.customer_b) not in asked
    one.close()
    two.close()


def test_a_consent_withdrawal_and_its_audit_entry_reach_the_centre(synced, central_url, central):
    cache, profiles = synced
    cid = a_customer(cache)[0]
    profiles.record_consent(cid, "whatsapp", "marketing", "withdrawn", "in person", "rep.campbell", "contract")
    pushed, _ = sync(cache, central_url)
    assert pushed.applied == 2 and pushed.conflicts == []  # the consent row and its audit entry
    assert central_row(central, "SELECT status, source, updated_by, legal_basis FROM consent WHERE customer_id = %s "
                       "AND channel = 'whatsapp' ORDER BY recorded_at DESC LIMIT 1", cid) == (
        "withdrawn", "in person", "rep.campbell", "contract")
    assert central_row(central, "SELECT actor FROM audit_event WHERE action = 'consent.withdrawn' "
                       "AND entity_id = %s", cid) == ("rep.campbell",)
    (latest,) = [k for k in profiles.consents(cid) if k.channel == "whatsapp"]
    assert latest.status == "withdrawn" and not latest.pending_sync and latest.legal_basis == "contract"
