"""A steward's approved fix reaches the real central PostgreSQL, with its issue and audit entry,
and a colleague's desktop sees the issue closed."""

from __future__ import annotations

import pytest

from c360_desktop.core.quality.service import QualityService
from c360_desktop.core.security import Role, User
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync


def _one(central, sql, *params):
    cur = central.cursor()
    cur.execute(sql, params)
    rows = cur.fetchall()
    central.commit()
    return rows


@pytest.fixture
def desktops(tmp_path, central_url, central):
    # a bad import at the centre: three phones written locally instead of in E.164
    bad = _one(central, "SELECT id, primary_phone FROM customer WHERE primary_phone LIKE '+1876%%' "
               "ORDER BY id LIMIT 3")
    for cid, phone in bad:
        d = phone[2:]
        _one(central, "UPDATE customer SET primary_phone = %s WHERE id = %s RETURNING id",
             f"{d[:3]}-{d[3:6]}-{d[6:]}", cid)
    caches = []
    for name in ("sam", "dee"):
        cache = open_cache(tmp_path / f"{name}.db")
        sync(cache, central_url)
        caches.append((cache, QualityService(cache, lambda n=name: User(n, Role.DATA_STEWARD, ()))))
    yield caches, dict(bad)
    for cache, _q in caches:
        cache.close()


def test_an_approved_fix_reaches_the_centre_and_a_colleague_sees_it_closed(desktops, central_url, central):
    ((sam_cache, sam), (dee_cache, dee)), bad = desktops
    failing = {f.entity_id for f in sam.failures("customer.phone.valid")}
    assert failing == set(bad)
    assert sam.raise_issues("customer.phone.valid", assignee="dee") == 3
    sync(sam_cache, central_url)
    sync(dee_cache, central_url)
    mine = dee.issues(assignee="dee")
    assert {i.entity_id for i in mine} == set(bad) and not any(i.pending_sync for i in mine)

    issue = mine[0]
    dee.approve(issue.id, note="checked")
    pushed, _ = sync(dee_cache, central_url)
    assert pushed.applied == 3 and not pushed.conflicts
    assert _one(central, "SELECT primary_phone, updated_by FROM customer WHERE id = %s", issue.entity_id) == [
        (bad[issue.entity_id], "dee")]
    assert _one(central, "SELECT status, decided_by, decision_note FROM quality_issue WHERE id = %s", issue.id) == [
        ("approved", "dee", "checked")]
    ((action, actor, details),) = _one(central, "SELECT action, actor, details FROM audit_event "
                                       "WHERE entity_id = %s", issue.id)
    assert (action, actor) == ("quality.approve", "dee")
    assert details["to"] == bad[issue.entity_id] and details["field"] == "primary_phone"

    sync(sam_cache, central_url)
    assert [i.id for i in sam.issues(status="approved")] == [issue.id]
    assert issue.entity_id not in {f.entity_id for f in sam.failures("customer.phone.valid")}
