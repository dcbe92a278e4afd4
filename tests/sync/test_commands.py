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
    assert r.returncode == 0 and "central schema at revision c0003" in r.stdout
    assert run("c360-server", "init", "--url", url).returncode == 0  # idempotent
    r = run("c360-server", "status", "--url", url)
    assert r.returncode == 0 and "PostGIS: 3." in r.stdout and "revision c0003, version 3" in r.stdout
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
