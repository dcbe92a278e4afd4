"""Health checks on the cache, sync state, models and disk (the server checks are in
tests/sync/test_health_central.py and tests/alerts/test_health_kafka.py)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from c360_desktop.core.health.service import AMBER, GREEN, RED, overall
from c360_desktop.core.progress import Progress
from c360_desktop.core.settings import ConnectionProfile

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def stamp(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def by_name(checks):
    return {c.name: c for c in checks}


def test_an_offline_demo_cache_is_healthy_where_it_can_be_and_says_what_is_missing(services):
    checks = by_name(services.health.checks(now=NOW))
    assert checks["central database"].status == AMBER and "no connection profile" in checks["central database"].reason
    assert checks["Kafka"].status == AMBER and "not configured" in checks["Kafka"].reason
    assert checks["cache integrity"].status == GREEN and checks["cache integrity"].value.endswith(" ms")
    assert checks["cache size"].status == GREEN
    assert checks["last sync"].status == GREEN and checks["outbox backlog"].status == GREEN
    assert checks["disk space"].status == GREEN
    assert checks["models"].status == AMBER and "no model trained yet" in checks["models"].reason
    assert overall(list(checks.values())) == AMBER


@pytest.mark.parametrize("hours_ago, status", [(2, GREEN), (30, AMBER), (24 * 8, RED)])
def test_last_sync_ages_through_amber_to_red(services, hours_ago, status):
    services.settings.profiles = [ConnectionProfile(name="hq", url="postgresql+psycopg2://rep@db.example/c360")]
    services.settings.active_profile = "hq"
    with services.cache.writer() as conn:
        conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('last_sync_at', ?)", (stamp(hours_ago),))
    (check,) = [c for c in services.health.sync_checks(NOW) if c.name == "last sync"]
    assert check.status == status


def test_a_waiting_change_is_amber_and_a_refused_one_red(services):
    customer = services.cache.reader().execute("SELECT id FROM customer LIMIT 1").fetchone()[0]
    services.profiles.update_customer(customer, {"primary_email": "new@example.com"}, "tester")
    backlog = by_name(services.health.sync_checks(datetime.now(UTC)))["outbox backlog"]
    assert backlog.status == GREEN and backlog.value == "2"  # the edit and its audit entry, just made: they go out at the next sync
    with services.cache.writer() as conn:
        conn.execute("UPDATE outbox SET created_at = ?", (stamp(3),))
    backlog = by_name(services.health.sync_checks(NOW))["outbox backlog"]
    assert backlog.status == AMBER and "the oldest for 3 h" in backlog.reason
    with services.cache.writer() as conn:
        conn.execute("UPDATE outbox SET last_error = 'refused: row is gone'")
    assert by_name(services.health.sync_checks(NOW))["outbox backlog"].status == RED


def _model(services, model, trained_hours_ago, worst=None):
    from c360_desktop.core.analytics import registry

    v = registry.ModelVersion(version=f"{model}-v1", model=model, trained_at=stamp(trained_hours_ago),
                              data_from=None, data_to=None, rows=100, features=["x"], params={}, metrics={},
                              report={}, reference={}, content_hash="0" * 64, scored=100, seconds=1.0)
    with services.cache.writer() as conn:
        registry.record(conn, v)
        if worst is not None:
            conn.execute("INSERT INTO model_drift (version, checked_at, psi, worst) VALUES (?, ?, ?, ?)",
                         (v.version, stamp(1), json.dumps({"x": worst}), worst))


def test_models_turn_amber_when_old_or_shifted_and_red_past_the_drift_threshold(services):
    _model(services, "churn", 24 * 3)
    _model(services, "clv", 24 * 40)
    _model(services, "leads", 24 * 2, worst=0.15)
    _model(services, "segments", 24 * 2, worst=0.4)
    checks = by_name(services.health.model_checks(NOW))
    assert checks["model: churn"].status == GREEN and "drift not checked yet" in checks["model: churn"].reason
    assert checks["model: clv"].status == AMBER and "older than 35 days" in checks["model: clv"].reason
    assert checks["model: leads"].status == AMBER and "PSI) 0.15" in checks["model: leads"].reason
    assert checks["model: segments"].status == RED


def test_free_pages_past_a_quarter_of_the_file_ask_for_compaction(services):
    with services.cache.writer() as conn:
        conn.execute("PRAGMA auto_vacuum")  # none on our caches: deleted rows leave free pages
        conn.execute("DELETE FROM interaction")
        conn.execute('DELETE FROM "transaction"')
    conn = services.cache.connect()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the freed pages reach the file
    conn.close()
    size_check = by_name(services.health.cache_checks(False, Progress()))
    check = size_check["cache size"]
    assert check.status == AMBER and "VACUUM" in check.reason
    assert size_check["cache integrity"].status == AMBER  # not checked this time


def test_cli_health_json_and_exit_codes(demo_cache, capsys):
    from c360_desktop.cli import main

    assert main(["health", "--cache", str(demo_cache), "--json"]) == 0  # amber is not a failure
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == AMBER and {c["name"] for c in out["checks"]} >= {"cache integrity", "disk space"}
    assert main(["health", "--cache", str(demo_cache), "--strict", "--no-integrity"]) == 1
    text = capsys.readouterr().out
    assert "warn  central database" in text and text.rstrip().endswith("overall: amber")
