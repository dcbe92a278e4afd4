"""Retention at the centre (issue 21, item 9): old rows deleted and inactive customers anonymised
by policy, their audit history with them; a dry run changes nothing; the result reaches a cache by
the ordinary pull; bad policy files are named by entry and field."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync

SERVER = str(Path(sys.executable).with_name("c360-server"))
AS_OF = "2026-11-27"


def _server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SERVER, "retention", "run", *args], capture_output=True, text=True, timeout=300)


def _one(cur, sql: str, *params):
    cur.execute(sql, params)
    return cur.fetchone()[0]


def test_policies_delete_old_rows_anonymise_the_inactive_and_reach_the_cache(central_url, central, tmp_path):
    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps([
        {"id": "interactions-5y", "table": "interaction", "action": "delete", "older_than_days": 5 * 365},
        {"id": "inactive-3y", "table": "customer", "action": "anonymise", "older_than_days": 3 * 365},
    ]))
    cache = open_cache(tmp_path / "cache.db")
    sync(cache, central_url)
    cur = central.cursor()
    old_cut = datetime(2021, 11, 28)  # 5 * 365 days before AS_OF
    want_old = _one(cur, "SELECT count(*) FROM interaction WHERE occurred_at < %s AND deleted_at IS NULL", old_cut)
    inactive_sql = """SELECT c.id FROM customer c WHERE c.status != 'anonymised'
        AND (c.created_at IS NULL OR c.created_at < %(cut)s)
        AND NOT EXISTS (SELECT 1 FROM "transaction" t WHERE t.customer_id = c.id AND t.occurred_at >= %(cut)s)
        AND NOT EXISTS (SELECT 1 FROM interaction i WHERE i.customer_id = c.id AND i.occurred_at >= %(cut)s)
        AND NOT EXISTS (SELECT 1 FROM sales_activity a WHERE a.customer_id = c.id AND a.occurred_at >= %(cut)s)"""
    cur.execute(inactive_sql, {"cut": datetime(2023, 11, 28)})
    inactive = [r[0] for r in cur.fetchall()]
    assert want_old > 100 and len(inactive) > 5
    victim = inactive[0]
    cur.execute("SELECT display_name, trn FROM customer WHERE id = %s", (victim,))
    name, trn = cur.fetchone()
    # An edit at the centre writes the row's before and after into the audit history.
    cur.execute("UPDATE customer SET postal_zone = 'Kingston 10' WHERE id = %s", (victim,))
    central.commit()
    assert _one(cur, "SELECT count(*) FROM audit_log WHERE row_id = %s", victim) == 1
    central.commit()

    dry = _server("--url", central_url, "--policies", str(policies), "--as-of", AS_OF, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    counted = {o["policy"]: o["rows"] for o in json.loads(dry.stdout)["outcomes"]}
    assert counted == {"interactions-5y": want_old, "inactive-3y": len(inactive)}
    assert _one(cur, "SELECT count(*) FROM interaction WHERE deleted_at IS NOT NULL") == 0  # nothing changed
    central.commit()

    done = _server("--url", central_url, "--policies", str(policies), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert f"removed {want_old + len(inactive):,} rows in all" in done.stdout
    assert _one(cur, "SELECT count(*) FROM interaction WHERE occurred_at < %s AND deleted_at IS NULL", old_cut) == 0
    assert _one(cur, "SELECT count(*) FROM interaction WHERE deleted_at IS NOT NULL AND body IS NOT NULL") == 0
    cur.execute("SELECT display_name, trn, primary_phone, status FROM customer WHERE id = %s", (victim,))
    assert cur.fetchone() == ("Anonymised customer", None, None, "anonymised")
    assert _one(cur, "SELECT count(*) FROM contact_point WHERE customer_id = %s AND value != ''", victim) == 0
    assert _one(cur, "SELECT count(*) FROM audit_log WHERE row_id = %s", victim) == 0
    assert _one(cur, "SELECT count(*) FROM audit_log WHERE before::text LIKE %s OR after::text LIKE %s",
                f"%{trn}%", f"%{trn}%") == 0
    assert _one(cur, "SELECT count(*) FROM audit_event WHERE action = 'retention.run'") == 1
    central.commit()

    # The cache follows on its next pull: the old interactions deleted and emptied, the customer
    # anonymised (no longer found by their name), their figures kept.
    spend = cache.reader().execute("SELECT lifetime_spend_cents FROM customer_summary WHERE customer_id = ?",
                                   (victim,)).fetchone()
    sync(cache, central_url)
    conn = cache.reader()
    assert conn.execute("SELECT count(*) FROM interaction WHERE deleted_at IS NOT NULL AND body IS NULL"
                        ).fetchone()[0] == want_old
    assert conn.execute("SELECT display_name, trn FROM customer WHERE id = ?", (victim,)).fetchone() == (
        "Anonymised customer", None)
    assert conn.execute("SELECT lifetime_spend_cents FROM customer_summary WHERE customer_id = ?",
                        (victim,)).fetchone() == spend
    from c360_desktop.core.search.service import CustomerSearch

    assert victim not in {h.customer_id for h in CustomerSearch(cache).search(name)}
    cache.close()
    again = _server("--url", central_url, "--policies", str(policies), "--as-of", AS_OF, "--json")
    assert {o["policy"]: o["rows"] for o in json.loads(again.stdout)["outcomes"]} == {"interactions-5y": 0,
                                                                                       "inactive-3y": 0}


@pytest.mark.parametrize(("content", "message"), [
    ("{", "is not JSON"),
    ("[]", "must hold a list of policies"),
    ('[{"id": "x", "table": "customer", "action": "delete", "older_than_days": 400}]',
     "policy 1, entry: Value error, anonymise is for the customer table"),
    ('[{"id": "x", "table": "payroll", "action": "delete", "older_than_days": 400}]', "policy 1, table: Value error, is not a table"),
    ('[{"id": "x", "table": "note", "action": "delete", "older_than_days": 3}]', "policy 1, older_than_days"),
    ('[{"id": "x", "table": "note", "action": "delete", "older_than_days": 400, "colour": "red"}]', "policy 1, colour"),
])
def test_a_bad_policy_file_is_named_by_entry_and_field_and_nothing_runs(central_url, central, tmp_path, content,
                                                                        message):
    policies = tmp_path / "policies.json"
    policies.write_text(content)
    done = _server("--url", central_url, "--policies", str(policies))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    cur = central.cursor()
    assert _one(cur, "SELECT count(*) FROM audit_event WHERE action = 'retention.run'") == 0
    central.commit()


def test_a_cache_drops_its_old_local_records(demo_cache):
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings

    services = Services.open(demo_cache, Settings(user_name="ana"))
    try:
        with services.cache.writer() as w:
            for days_ago, offset in ((200, 1), (10, 2)):
                w.execute("INSERT INTO dead_letter (topic, partition, \"offset\", received_at, reason, size) "
                          "VALUES ('t', 0, ?, datetime('now', ?), 'bad', 1)", (offset, f"-{days_ago} days"))
        dry = services.retention_local(dry_run=True)
        assert {o.table: o.rows for o in dry.outcomes}["dead_letter"] == 1
        done = services.retention_local()
        assert {o.table: o.rows for o in done.outcomes}["dead_letter"] == 1
        assert services.cache.reader().execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 1
    finally:
        services.close()
