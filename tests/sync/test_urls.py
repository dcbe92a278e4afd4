"""Central database URLs: no secret hides in one, and what users copy from psql works."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from c360_desktop.core.settings import ConnectionProfile, load_settings
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import SyncError, sync
from c360_desktop.core.sync.urls import UrlError, central_url

BIN = Path(sys.executable).parent



@pytest.fixture
def cache(tmp_path):
    c = open_cache(tmp_path / "cache.db")
    yield c
    c.close()


SECRET_URLS = [
    "postgresql://rep@db.example/c360?password=hunter2",
    "postgresql://rep@db.example/c360?sslmode=require&PASSWORD=hunter2",
    "postgresql+psycopg2://rep@db.example/c360?sslpassword=hunter2",
    "mssql+pyodbc://rep@db.example/c360?driver=FreeTDS&PWD=hunter2",
    "mssql+pyodbc://rep@db.example/c360?odbc_connect=DRIVER%3DFreeTDS%3BPWD%3Dhunter2",
    "postgresql://rep:hunter2@db.example/c360",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_a_secret_in_the_query_string_is_refused_everywhere(url, cache, tmp_path):
    with pytest.raises(UrlError, match="password|PWD|odbc_connect") as caught:
        central_url(url)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValidationError) as invalid:
        ConnectionProfile(name="prod", url=url)
    assert "hunter2" not in invalid.value.errors()[0]["msg"]  # what the connections dialog shows
    # In a settings file: that profile is dropped, and the problem reported names no secret.
    (tmp_path / "settings.json").write_text(json.dumps({"profiles": [{"name": "prod", "url": url}]}))
    settings, problems = load_settings(tmp_path / "settings.json")
    assert settings.profiles == [] and len(problems) == 1 and "profiles.0.url" in problems[0]
    assert "hunter2" not in problems[0]
    with pytest.raises(SyncError, match="must not"):
        sync(cache, url)  # refused before any connection is tried (db.example is never resolved)
    r = subprocess.run([str(BIN / "c360"), "sync", "--cache", str(cache.path), "--url", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "must not" in r.stderr
    assert "hunter2" not in r.stderr + r.stdout
    r = subprocess.run([str(BIN / "c360-server"), "status", "--url", url], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "must not" in r.stderr


def test_plain_postgresql_urls_get_the_installed_driver():
    assert central_url("postgresql://rep@db.example:5433/c360").drivername == "postgresql+psycopg2"
    assert central_url("postgres://rep@db.example/c360").drivername == "postgresql+psycopg2"
    assert central_url("postgresql+pyodbc://rep@db/c360?driver=PostgreSQL+Unicode").drivername == (
        "postgresql+pyodbc")
    assert central_url("mssql://rep@db/c360").drivername == "mssql+pyodbc"


@pytest.mark.parametrize("url, message", [
    ("sqlite:///c360.db", "sqlite: URLs are not a central database"),
    ("mysql://rep@db/c360", "mysql: URLs are not a central database"),
    ("postgresql+asyncpg://rep@db/c360", "postgresql+asyncpg is not supported"),
    ("not a url", "is not a database URL"),
])
def test_unsupported_urls_are_one_line(url, message, tmp_path):
    with pytest.raises(UrlError, match=re.escape(message)):
        central_url(url)
    r = subprocess.run([str(BIN / "c360"), "sync", "--cache", str(tmp_path / "c.db"), "--url", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "c.db").exists()  # refused before a cache was made


def test_without_a_driver_the_message_says_what_to_install():
    """psycopg2 made unimportable in a child process, as on an install that lost it."""
    code = ("import sys; sys.modules['psycopg2'] = None; sys.modules['psycopg'] = None\n"
            "from c360_desktop.core.sync.urls import central_url, UrlError\n"
            "try:\n    central_url('postgresql://rep@db/c360')\n"
            "except UrlError as exc:\n    print(exc)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "no postgresql driver is installed: reinstall C360 Desktop"


def test_a_plain_postgresql_url_syncs(cache, central_url):
    plain = central_url.replace("postgresql+psycopg2://", "postgresql://")
    _, pulled = sync(cache, plain)
    assert pulled.rows > 0
    assert cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0] > 0
