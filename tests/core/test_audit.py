"""The hash-chained audit log (issue 21, item 6): what is recorded, that it reaches the outbox,
that nothing in it can be changed quietly, and who may read it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from c360_desktop.core.audit.service import AuditRefused
from c360_desktop.core.identity import golden
from c360_desktop.core.reports.export import Table

C360 = str(Path(sys.executable).with_name("c360"))


def _customers(services, n):
    return [r[0] for r in services.cache.reader().execute(
        "SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT ?", (n,))]


def _verify(cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([C360, "audit", "verify", "--cache", str(cache)], capture_output=True, text=True,
                          timeout=120)


def test_views_edits_exports_and_merges_are_chained_and_queued_for_the_centre(services, tmp_path):
    import pandas as pd

    services.settings.role = "manager"
    a, b, c = _customers(services, 3)
    services.profiles.get(a)
    services.profiles.update_customer(a, {"town": "Mandeville"}, "tester")
    services.reports.export(Table("Top customers", "", pd.DataFrame({"n": [1, 2]})), tmp_path / "top.csv", "csv")
    ledger = golden.merge(services.cache, b, [c], "tester")
    golden.unmerge(services.cache, ledger, "tester")
    services.settings.role = "admin"
    got = services.audit.entries()
    assert [e.action for e in reversed(got)] == ["profile.view", "profile.edit", "export", "merge", "unmerge"]
    by = {e.action: e for e in got}
    assert by["profile.view"].entity_id == a and by["profile.edit"].details == {"fields": ["town"]}
    assert "Mandeville" not in json.dumps([e.details for e in got])  # which fields, never the values
    assert by["export"].details["rows"] == 2 and by["merge"].details["merged"] == [c]
    assert services.audit.verify().ok and services.audit.verify().checked == 5
    queued = {r[0] for r in services.cache.reader().execute(
        "SELECT entity_id FROM outbox WHERE entity = 'audit_event'")}
    assert {e.event_id for e in got} <= queued
    assert [e.action for e in services.audit.entries(action="profile")] == ["profile.edit", "profile.view"]
    assert [e.action for e in services.audit.entries(customer_id=c)] == []  # the merge is filed under b
    assert len(services.audit.entries(customer_id=b)) == 2


def test_the_chain_refuses_changes_and_removals(services):
    services.audit.record("test.first")
    with services.cache.writer() as w:
        assert w.execute("SELECT count(*) FROM audit_chain").fetchone()[0] == 1
    for sql in ("UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), services.cache.writer() as w:
            w.execute(sql)
    assert services.audit.verify().ok


def test_verify_passes_untouched_and_names_the_first_entry_a_changed_byte_altered(services, demo_cache):
    for i in range(6):
        services.audit.record("test.step", details={"marker": f"STEP-{i}-OF-SIX"})
    services.close()
    ok = _verify(demo_cache)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 6 entries" in ok.stdout
    raw = demo_cache.read_bytes()
    assert not Path(f"{demo_cache}-wal").exists() or Path(f"{demo_cache}-wal").stat().st_size == 0
    assert raw.count(b"STEP-3-OF-SIX") >= 1
    demo_cache.write_bytes(raw.replace(b"STEP-3-OF-SIX", b"STEP-3-OF-SIZ"))  # one byte, in place
    bad = _verify(demo_cache)
    assert bad.returncode == 1
    assert "altered at entry 4" in bad.stdout and "3 entries before it match" in bad.stdout


def test_a_removed_event_breaks_the_chain_at_that_entry(services):
    ids = [services.audit.record("test.step", details={"i": i}) for i in range(4)]
    with services.cache.writer() as w:
        w.execute("DELETE FROM audit_event WHERE id = ?", (ids[1],))
    verdict = services.audit.verify()
    assert not verdict.ok and verdict.first_bad == 2 and "removed" in verdict.problem


def test_only_stewards_and_admins_read_the_trail_and_a_refusal_is_recorded(services):
    services.settings.role = "field_rep"
    with pytest.raises(AuditRefused, match="may not read the audit trail"):
        services.audit.entries()
    services.settings.role = "data_steward"
    assert [e.action for e in services.audit.entries()] == ["audit.refused"]


def test_hostile_text_in_filters_is_data(services):
    services.settings.role = "admin"
    services.audit.record("test.step")
    for hostile in ("x' OR '1'='1", "%", "_", "'; DROP TABLE audit_chain; --", "<script>alert(1)</script>"):
        assert services.audit.entries(actor=hostile) == []
        assert services.audit.entries(action=hostile) == []
    assert services.audit.verify().ok and len(services.audit.entries()) == 1


def _plant_usual(services, actor, per_hour, days=5):
    """Earlier views of ``actor``: ``per_hour`` in one hour on each of the last days (as pulled)."""
    import uuid
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with services.cache.writer() as w:
        for d in range(1, days + 1):
            at = (now - timedelta(days=d)).strftime("%Y-%m-%d %H:%M:%S")
            w.executemany("INSERT INTO audit_event (id, actor, action, entity, entity_id, occurred_at, details) "
                          "VALUES (?, ?, 'profile.view', 'customer', NULL, ?, '{}')",
                          [(str(uuid.uuid4()), actor, at) for _ in range(per_hour)])


def _anomalies(services):
    return [r[0] for r in services.cache.reader().execute(
        "SELECT title FROM alert WHERE type = 'audit_anomaly' ORDER BY created_at, title")]


def test_far_more_views_than_usual_raise_one_alert_for_that_hour(services):
    from c360_desktop.core.audit import anomaly

    ids = _customers(services, 130)
    services.settings.user_name = "ana"
    _plant_usual(services, "ana", 10)  # usual 10: the floor of 60 decides
    for cid in ids[:60]:
        services.profiles.get(cid)
    assert _anomalies(services) == []
    for cid in ids[60:70]:
        services.profiles.get(cid)
    assert _anomalies(services) == ["ana viewed 61 profiles in an hour"]  # one alert, not ten
    services.settings.user_name = "bo"
    _plant_usual(services, "bo", 20)  # usual 20: five times that is 100
    assert anomaly.usual_views(services.cache.reader(), "bo", datetime.now(UTC).replace(tzinfo=None)) == 20
    for cid in ids[:100]:
        services.profiles.get(cid)
    assert "bo viewed" not in " ".join(_anomalies(services))
    services.profiles.get(ids[100])
    assert "bo viewed 101 profiles in an hour" in _anomalies(services)


def test_a_bulk_export_raises_an_alert_and_a_small_one_does_not(services, tmp_path):
    import pandas as pd

    services.settings.role = "manager"
    services.reports.export(Table("few", "", pd.DataFrame({"n": range(10)})), tmp_path / "few.csv", "csv")
    assert _anomalies(services) == []
    services.reports.export(Table("many", "", pd.DataFrame({"n": range(1500)})), tmp_path / "many.csv", "csv")
    assert _anomalies(services) == ["tester exported 1,500 rows"]


def test_a_command_line_search_is_in_the_trail(demo_cache):
    from c360_desktop.core.audit import log

    r = subprocess.run([C360, "search", "Campbell", "--cache", str(demo_cache)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(demo_cache)
    try:
        (entry,) = log.entries(conn)
        assert log.verify(conn).ok
    finally:
        conn.close()
    assert entry.action == "search" and entry.details == {"query": "Campbell", "hits": len(r.stdout.splitlines())}
