"""c360 sync and c360-server as a user runs them: real processes against the real PostgreSQL."""

import subprocess
import sys
from pathlib import Path

from c360_desktop.core.settings import ConnectionProfile, Settings, save_settings

BIN = Path(sys.executable).parent


def run(tool, *args):
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, timeout=300)


def test_sync_by_profile_reports_what_it_did(tmp_path, central_url):
    save_settings(Settings(profiles=[ConnectionProfile(name="office", url=central_url, territory=["JM-12"])]))
    r = run("c360", "sync", "--profile", "office", "--cache", str(tmp_path / "c.db"))
    assert r.returncode == 0, r.stderr
    assert "pushed 0 changes" in r.stderr and "customer" in r.stderr.splitlines()[-1]
    r = run("c360", "sync", "--profile", "nowhere", "--cache", str(tmp_path / "c.db"))
    assert r.returncode == 2 and "no connection profile 'nowhere'; profiles: office" in r.stderr


def test_server_init_status_and_refusals(pg):
    url = pg.create_database("admin_t")
    r = run("c360-server", "init", "--url", url)
    assert r.returncode == 0 and "central schema at revision c0006" in r.stdout
    assert run("c360-server", "init", "--url", url).returncode == 0  # idempotent
    r = run("c360-server", "status", "--url", url)
    assert r.returncode == 0 and "PostGIS: 3." in r.stdout and "revision c0006, version 6" in r.stdout
    pg.psql("UPDATE c360_alembic_version SET version_num = 'c0099'", "admin_t")
    r = run("c360-server", "init", "--url", url)
    assert r.returncode == 2 and r.stderr.strip() == (
        "c360-server: error: the central schema is at revision c0099, newer than this c360-server knows; "
        "use a newer c360-server")
    # PostGIS not enabled in the database, and a user who may not enable it: one line, nothing written.
    pg.psql("CREATE ROLE mapless LOGIN")
    pg.psql("CREATE DATABASE mapless OWNER mapless")
    mapless = url.replace("postgres@", "mapless@").replace("/admin_t", "/mapless")
    r = run("c360-server", "init", "--url", mapless)
    assert r.returncode == 2 and r.stderr.strip() == (
        "c360-server: error: PostGIS is not enabled in database mapless and user mapless may not enable it: "
        "ask an administrator to run CREATE EXTENSION postgis in mapless; nothing was changed")
    tables = pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "mapless")
    assert tables.strip() == "0"
    r = run("c360-server", "status", "--url", "nonsense")
    assert r.returncode == 2 and "is not a database URL" in r.stderr


def test_a_centre_made_at_schema_1_gains_the_later_tables_with_their_triggers(pg):
    """Downgraded to c0001 (no saved reports, no quality issues), then `c360-server init`: the
    tables come back at schema 3, and a row written there gets its row version from the trigger."""
    from alembic import command
    from sqlalchemy import create_engine

    from server_sync import admin

    url = pg.create_database("old_centre")
    admin.init(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.downgrade(admin._config(conn), "c0001")
    tables = "SELECT count(*) FROM pg_tables WHERE tablename IN ('saved_report', 'quality_issue', 'subject_request', 'erasure')"
    assert pg.psql(tables, "old_centre").strip() == "0"
    r = run("c360-server", "init", "--url", url)
    assert r.returncode == 0 and "revision c0006" in r.stdout, r.stderr
    assert pg.psql(tables, "old_centre").strip() == "4"
    assert pg.psql("SELECT value FROM c360_meta WHERE key = 'schema_version'", "old_centre").strip() == "6"
    pg.psql("INSERT INTO quality_issue (id, rule_id, entity, entity_id, field, status, created_at) VALUES "
            "('00000000-0000-4000-8000-000000000001', 'r', 'customer', 'x', 'f', 'open', now())", "old_centre")
    assert pg.psql("SELECT row_version > 0, updated_at IS NOT NULL FROM quality_issue", "old_centre").strip() == "t|t"
    engine.dispose()
