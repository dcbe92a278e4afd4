"""Caches, their WAL files, backups and settings are created readable by their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from c360_desktop.core.settings import Settings, save_settings
from c360_desktop.core.storage.cache import open_cache
from tests.core.test_storage import _cache_at

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes; Windows relies on the profile's ACL")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)  # the common default, under which files are created world-readable
    yield
    os.umask(old)


def test_a_new_cache_and_its_wal_are_owner_only(tmp_path):
    cache = open_cache(tmp_path / "new" / "cache.db")
    conn = cache.connect()  # held open, so the WAL and shared-memory files exist
    conn.execute("INSERT INTO cache_meta (key, value) VALUES ('x', 'y')")
    assert mode(tmp_path / "new") == 0o700
    assert mode(cache.path) == 0o600
    assert mode(Path(f"{cache.path}-wal")) == 0o600 and mode(Path(f"{cache.path}-shm")) == 0o600
    conn.close()
    cache.close()


def test_demo_data_writes_an_owner_only_cache(tmp_path):
    out = tmp_path / "demo.db"
    r = subprocess.run([str(Path(sys.executable).with_name("c360")), "demo-data", "--customers", "200", "--out",
                        str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert mode(out) == 0o600


def test_the_backup_before_an_upgrade_is_owner_only(tmp_path):
    path = tmp_path / "old.db"
    _cache_at(path, "0001").close()
    os.chmod(path, 0o644)  # as an older version left it
    cache = open_cache(path)
    assert cache.info.backup_path is not None and mode(cache.info.backup_path) == 0o600
    assert mode(path) == 0o600  # and the cache itself was tightened
    cache.close()


def test_settings_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("C360_CONFIG_DIR", str(tmp_path / "config"))
    save_settings(Settings(user_name="rep"))
    assert mode(tmp_path / "config") == 0o700 and mode(tmp_path / "config" / "settings.json") == 0o600
