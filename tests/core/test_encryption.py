"""Encrypted caches (issue 21, item 4): SQLCipher 4 with a random raw key kept in the keyring; plain
caches converted on open with their plain copies overwritten; wrong, missing and damaged told
apart and nothing touched; rekey; the lost-laptop wipe; reports and pseudonymised copies."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from c360_desktop.core.storage import keys
from c360_desktop.core.storage.cache import CacheError, open_cache

MAGIC = b"SQLite format 3\x00"



def _personal(path: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT display_name, primary_phone, primary_email, trn FROM customer").fetchall()
    finally:
        conn.close()
    return {"names": {r[0] for r in rows if r[0] and " " in r[0]},
            "phones": {r[1][-10:] for r in rows if r[1]}, "emails": {r[2] for r in rows if r[2]},
            "trns": {r[3] for r in rows if r[3]}}


def _scan(raw: bytes) -> dict[str, set[str]]:
    """Names, 10-digit phone runs, e-mails and 9-digit runs readable in a file's bytes."""
    text = raw.decode("latin-1")
    return {"names": set(re.findall(r"[A-Z][A-Za-z'\-]+(?: [A-Z][A-Za-z'\-&]+)+", text)),
            "phones": {m[i:i + 10] for m in re.findall(r"\d{10,}", text) for i in range(len(m) - 9)},
            "emails": set(re.findall(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", text)),
            "trns": {m[i:i + 9] for m in re.findall(r"\d{9,}", text) for i in range(len(m) - 8)}}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_plain_cache_is_encrypted_on_open_and_its_plain_copies_overwritten(keyring_store, demo_cache):
    before = _personal(demo_cache)
    plain = _scan(demo_cache.read_bytes())  # the same scan finds every kind in the plain file
    assert all(before[kind] & plain[kind] for kind in before)
    backup = demo_cache.with_name(demo_cache.name + ".pre-0020.bak")
    shutil.copyfile(demo_cache, backup)
    reports = demo_cache.with_name(demo_cache.name + ".reports.duckdb")
    reports.write_bytes(b"a plain reports copy")
    cache = open_cache(demo_cache)
    try:
        assert cache.encrypted and cache.info.converted
        n = cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0]
        assert n > 2000
    finally:
        cache.close()
    raw = demo_cache.read_bytes() + (Path(f"{demo_cache}-wal").read_bytes() if Path(f"{demo_cache}-wal").exists() else b"")
    assert not raw.startswith(MAGIC)
    found = _scan(raw)
    for kind, values in before.items():
        assert not values & found[kind], kind
    assert not backup.exists() and not reports.exists()
    assert not list(demo_cache.parent.glob("*.encrypting*"))
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(demo_cache).execute("SELECT count(*) FROM customer").fetchone()
    # The key is in the keyring only; the file beside the cache holds its id and a check.
    info = json.loads(keys.sidecar(demo_cache).read_text())
    (stored,) = keyring_store.values()
    assert stored not in keys.sidecar(demo_cache).read_text() and len(bytes.fromhex(stored)) == 32
    assert ("c360-desktop", f"cache-key:{info['key_id']}") in keyring_store
    again = open_cache(demo_cache)
    try:
        assert again.encrypted and not again.info.converted
        assert again.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == n
    finally:
        again.close()


def test_a_new_cache_is_encrypted_from_the_start(keyring_store, tmp_path):
    path = tmp_path / "new.db"
    cache = open_cache(path)
    with cache.writer() as w:
        w.execute("INSERT INTO cache_meta (key, value) VALUES ('probe', 'Kingsley Brathwaite-Osei')")
    cache.close()
    assert not path.read_bytes().startswith(MAGIC)
    assert b"Brathwaite" not in path.read_bytes()
    assert keys.is_encrypted(path)


def test_a_wrong_key_a_missing_key_and_a_damaged_file_are_told_apart_and_nothing_is_touched(
        keyring_store, demo_cache):
    open_cache(demo_cache).close()
    digest = _digest(demo_cache)
    (account,) = [k for k in keyring_store if k[1].startswith("cache-key:")]
    right = keyring_store[account]
    keyring_store[account] = "ab" * 32
    with pytest.raises(CacheError, match="is not its key"):
        open_cache(demo_cache)
    del keyring_store[account]
    with pytest.raises(CacheError, match="not in this computer's keyring.*left untouched, with any changes not yet synced"):
        open_cache(demo_cache, create=True)  # never a new empty cache in its place
    assert _digest(demo_cache) == digest and keys.is_encrypted(demo_cache)
    keyring_store[account] = right
    damaged = bytearray(demo_cache.read_bytes())
    damaged[100:200] = b"\x00" * 100
    demo_cache.write_bytes(bytes(damaged))
    with pytest.raises(CacheError, match="is damaged: its key is right"):
        open_cache(demo_cache)
    keys.sidecar(demo_cache).rename(demo_cache.with_name("elsewhere.json"))
    with pytest.raises(CacheError, match="an encrypted cache whose cache.db.key.json is missing"):
        open_cache(demo_cache)


def test_rekey_encrypts_every_page_again_and_retires_the_old_key(keyring_store, demo_cache):
    import sqlcipher3.dbapi2 as sqlcipher

    cache = open_cache(demo_cache)
    old = bytes.fromhex(next(iter(keyring_store.values())))
    n = cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0]
    cache.rekey()
    assert cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == n
    cache.close()
    (new_hex,) = keyring_store.values()  # the old entry is gone
    assert bytes.fromhex(new_hex) != old
    conn = sqlcipher.connect(str(demo_cache))
    conn.execute(keys.pragma(old))
    with pytest.raises(sqlcipher.DatabaseError):
        conn.execute("SELECT count(*) FROM customer").fetchone()
    conn.close()
    reopened = open_cache(demo_cache)
    try:
        assert reopened.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == n
    finally:
        reopened.close()


def test_a_cache_not_unlocked_for_its_limit_is_wiped_at_the_next_start(keyring_store, demo_cache):
    open_cache(demo_cache).close()
    keys.set_wipe_after(demo_cache, 30)
    info = keys.read_info(demo_cache)
    keys.write_info(demo_cache, keys.KeyInfo(info.key_id, info.check,
                                             (datetime.now(UTC) - timedelta(days=29)).isoformat(), 30))
    kept = open_cache(demo_cache)  # 29 days: kept, and the clock starts again
    kept.close()
    assert kept.info.wiped_after_days is None
    info = keys.read_info(demo_cache)
    keys.write_info(demo_cache, keys.KeyInfo(info.key_id, info.check,
                                             (datetime.now(UTC) - timedelta(days=41)).isoformat(), 30))
    wiped = open_cache(demo_cache)
    try:
        assert wiped.info.wiped_after_days == 41
        assert wiped.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == 0
    finally:
        wiped.close()
    assert ("c360-desktop", f"cache-key:{info.key_id}") not in keyring_store


def test_an_encryption_stopped_midway_is_finished_on_the_next_open(keyring_store, demo_cache, monkeypatch):
    from c360_desktop.core.storage import cache as cache_mod

    n = sqlite3.connect(demo_cache).execute("SELECT count(*) FROM customer").fetchone()[0]
    real = cache_mod.overwrite
    calls = []

    def dies(path):
        calls.append(path)
        raise KeyboardInterrupt  # the laptop's battery, just after the key became the cache's

    monkeypatch.setattr(cache_mod, "overwrite", dies)
    with pytest.raises(KeyboardInterrupt):
        open_cache(demo_cache)
    monkeypatch.setattr(cache_mod, "overwrite", real)
    assert calls and demo_cache.with_name("cache.db.encrypting").exists()
    cache = open_cache(demo_cache)
    try:
        assert cache.encrypted
        assert cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == n
    finally:
        cache.close()
    assert not demo_cache.read_bytes().startswith(MAGIC)
    assert not demo_cache.with_name("cache.db.encrypting").exists()


def test_reports_run_from_memory_and_a_pseudonymised_copy_is_plain(keyring_store, demo_cache, tmp_path):
    from c360_desktop.core.reports.columnar import ColumnarCopy, copy_path
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings

    services = Services.open(demo_cache, Settings(user_name="ana", role="analyst"))
    try:
        assert services.cache.encrypted
        copy = ColumnarCopy(services.cache)
        copy.ready()
        with copy.cursor() as cur:
            (customers,) = cur.execute("SELECT count(*) FROM customer").fetchone()
        copy.close()
        assert customers > 2000 and not copy_path(demo_cache).exists()
        made = services.privacy.pseudonymised_copy(tmp_path / "pseudo.db")
    finally:
        services.close()
    conn = sqlite3.connect(made.path)
    try:
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == customers
    finally:
        conn.close()


def test_a_script_gives_the_key_in_the_environment(monkeypatch, tmp_path, demo_cache):
    import subprocess
    import sys

    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "on")
    monkeypatch.setenv("C360_CACHE_KEY", "5a" * 32)
    c360 = str(Path(sys.executable).with_name("c360"))
    done = subprocess.run([c360, "search", "Campbell", "--cache", str(demo_cache)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert not demo_cache.read_bytes().startswith(MAGIC)
    monkeypatch.setenv("C360_CACHE_KEY", "5b" * 32)
    wrong = subprocess.run([c360, "search", "Campbell", "--cache", str(demo_cache)], capture_output=True, text=True,
                           timeout=300)
    assert wrong.returncode != 0 and "is not its key" in wrong.stderr
    monkeypatch.setenv("C360_CACHE_KEY", "not hex")
    bad = subprocess.run([c360, "search", "Campbell", "--cache", str(demo_cache)], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "C360_CACHE_KEY must be 64 hexadecimal digits" in bad.stderr


def test_the_command_line_shows_the_status_rekeys_and_sets_the_wipe_limit(monkeypatch, demo_cache):
    import subprocess
    import sys

    c360 = str(Path(sys.executable).with_name("c360"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([c360, "cache", *args, "--cache", str(demo_cache)], capture_output=True, text=True,
                              timeout=300)

    plain = run("status")
    assert plain.returncode == 0 and "not encrypted: C360_CACHE_ENCRYPTION is off" in plain.stdout
    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "on")
    monkeypatch.setenv("C360_CACHE_KEY", "7c" * 32)
    status = json.loads(run("status", "--json").stdout)
    assert status["encrypted"] and status["key_kept"] == "C360_CACHE_KEY" and "7c7c" not in json.dumps(status)
    bad = run("wipe-after", "-3")
    assert bad.returncode != 0 and "give 0 (never) to 3650" in bad.stderr
    assert run("wipe-after", "45").returncode == 0
    assert json.loads(run("status", "--json").stdout)["wipe_after_days"] == 45
    # With the key in the environment, a rekey has nowhere to keep a new key: said, nothing changed.
    refused = run("rekey")
    assert refused.returncode != 0 and "C360_CACHE_KEY" in refused.stderr
    assert run("status").returncode == 0


def test_health_says_whether_the_cache_is_encrypted(keyring_store, demo_cache, monkeypatch):
    from c360_desktop.core.health.service import AMBER, GREEN, HealthService
    from c360_desktop.core.settings import Settings

    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "off")
    plain = open_cache(demo_cache)
    try:
        check = {c.name: c for c in HealthService(plain, Settings()).cache_checks(False, None)}["cache encryption"]
        assert check.status == AMBER and "C360_CACHE_ENCRYPTION is off" in check.reason and "demo data" in check.reason
    finally:
        plain.close()
    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "on")
    enc = open_cache(demo_cache)
    try:
        check = {c.name: c for c in HealthService(enc, Settings()).cache_checks(False, None)}["cache encryption"]
        assert check.status == GREEN and check.reason == "SQLCipher 4 with a random key kept in the OS keyring"
    finally:
        enc.close()


def test_a_damaged_plain_cache_that_cannot_be_encrypted_opens_as_it_is(keyring_store, demo_cache):
    from c360_desktop.core.diagnostics.service import DiagnosticsService
    from c360_desktop.core.settings import Settings

    data = bytearray(demo_cache.read_bytes())
    page = 4096
    data[page * 40: page * 40 + 512] = b"\xff" * 512  # a table page torn in the middle
    demo_cache.write_bytes(bytes(data))
    before = _digest(demo_cache)
    cache = open_cache(demo_cache)
    try:
        assert not cache.encrypted and not cache.info.converted
        found, _ms = DiagnosticsService(cache, Settings()).integrity()
        assert found != "ok"  # the damage is reported, not hidden
    finally:
        cache.close()
    assert _digest(demo_cache) == before and not keys.is_encrypted(demo_cache)
    assert not list(demo_cache.parent.glob("*.encrypting*")) and not keyring_store
