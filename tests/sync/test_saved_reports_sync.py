"""Saved reports and annotations reach colleagues through the real central PostgreSQL: saved on
one desktop, pushed, pulled by another; a rename and a delete travel the same way."""

from __future__ import annotations

import pytest

from c360_desktop.core.reports.saved import Definition
from c360_desktop.core.reports.service import ReportService
from c360_desktop.core.security import Role, User
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync


@pytest.fixture
def desktops(tmp_path, central_url):
    caches = []
    for name in ("ann", "bob"):
        cache = open_cache(tmp_path / f"{name}.db")
        sync(cache, central_url)
        caches.append((cache, ReportService(cache, lambda n=name: User(n, Role.ANALYST, ()), engine="sqlite")))
    yield caches
    for cache, reports in caches:
        reports.close()
        cache.close()


def test_a_saved_report_and_its_note_reach_a_colleague_and_changes_come_back(desktops, central_url, central):
    (ann_cache, ann), (bob_cache, bob) = desktops
    weekly = Definition(("revenue", "customers"), ("parish",), "last_week", chart="map")
    saved = ann.save("Weekly by parish", weekly)
    ann.annotate(saved.id, "Kingston figures exclude the wholesale depot.", {"Parish": "Kingston"})
    pushed, _ = sync(ann_cache, central_url)
    assert pushed.applied == 2 and not ann.saved_report(saved.id).pending_sync
    cur = central.cursor()
    cur.execute("SELECT name, owner FROM saved_report WHERE id = %s", (saved.id,))
    assert cur.fetchone() == ("Weekly by parish", "ann")
    central.commit()

    sync(bob_cache, central_url)
    seen = bob.saved_report("weekly by parish")
    assert seen.owner == "ann" and seen.definition == weekly
    assert [(a.body, a.point, a.author) for a in seen.annotations] == [
        ("Kingston figures exclude the wholesale depot.", {"Parish": "Kingston"}, "ann")]

    bob.rename(seen.id, "Weekly revenue by parish")
    sync(bob_cache, central_url)
    sync(ann_cache, central_url)
    assert [r.name for r in ann.saved()] == ["Weekly revenue by parish"]

    ann.delete(saved.id)
    sync(ann_cache, central_url)
    sync(bob_cache, central_url)
    assert bob.saved() == []


def test_targets_imported_on_one_desktop_reach_another(desktops, central_url, tmp_path):
    (ann_cache, ann), (bob_cache, bob) = desktops
    f = tmp_path / "targets.csv"
    f.write_text("measure,month,target,parish\nrevenue,2026-12,40000000,\nrevenue,2026-12,2500000,St Ann\n", "utf-8")
    assert ann.import_targets(f) == (2, 0)
    pushed, _ = sync(ann_cache, central_url)
    assert pushed.applied == 2
    sync(bob_cache, central_url)
    assert sorted((t.dimension_value or "", t.value) for t in bob.targets()) == [("", 4e7), ("JM-06", 2.5e6)]
