"""The cache file: creation, migrations of older caches, and refusing what is not ours untouched."""

import hashlib
import shutil
import sqlite3

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool

from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage import cache as cache_mod
from c360_desktop.core.storage.cache import APPLICATION_ID, CacheError, open_cache
from c360_desktop.core.storage.schema import Base


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_cache_is_at_head_in_wal_mode(tmp_path):
    c = open_cache(tmp_path / "new.db")
    conn = c.reader()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == cache_mod.HEAD
    assert not (tmp_path / "new.db.building").exists()


def test_the_known_revisions_are_the_migration_scripts():
    assert list(cache_mod.REVISIONS) == cache_mod.script_revisions()


def test_migrations_and_models_agree(tmp_path):
    """The schema the migrations build is the one the SQLAlchemy models describe."""
    c = open_cache(tmp_path / "new.db")
    with c.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    local_only = {"customer_fts", "search_vocab", "customer_geo", "report_change"}  # raw DDL, not modelled
    diffs = [d for d in diffs if not (d[0] == "remove_table" and (
        d[1].name in local_only or d[1].name.startswith(("customer_fts_", "customer_geo_"))))]
    assert diffs == []


def _cache_at(path, revision):
    """A cache as an older app version left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    event.listen(engine, "begin", lambda c: c.exec_driver_sql("BEGIN"))
    cfg = cache_mod._alembic_config()
    with engine.begin() as sa_conn:
        cfg.attributes["connection"] = sa_conn
        command.upgrade(cfg, revision)
    return conn


def test_an_older_cache_is_backed_up_then_upgraded_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    conn = _cache_at(path, "0001")
    conn.execute(
        "INSERT INTO customer (id, row_version, kind, display_name, given_name, family_name, parish, "
        "primary_phone, status) VALUES ('c1', 5, 'individual', 'Tanya Gordon', 'Tanya', 'Gordon', 'JM-12', "
        "'+18765550123', 'active')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    c = open_cache(path)
    assert c.info.upgraded_from == "0001"
    backup = sqlite3.connect(c.info.backup_path)  # the old cache, as it was
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert backup.execute("SELECT id, display_name FROM customer").fetchall() == [("c1", "Tanya Gordon")]
    assert "search_key" not in {r[1] for r in backup.execute("PRAGMA table_info(customer)")}
    backup.close()
    hits = CustomerSearch(c).search("tanya gordon")
    assert [h.customer_id for h in hits] == ["c1"]  # migration 0002 indexed existing customers
    assert CustomerSearch(c).search("(876) 555-0123")[0].customer_id == "c1"


def test_a_cache_from_a_newer_app_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.db"
    open_cache(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.commit()
    conn.close()
    before = sha(path)
    with pytest.raises(CacheError, match=r"newer C360 Desktop \(schema 0099\).*untouched"):
        open_cache(path)
    assert sha(path) == before


def test_a_corrupt_file_is_refused_untouched(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"PK\x03\x04 this is a zip file, not a database" * 100)
    before = sha(path)
    with pytest.raises(CacheError, match="not an SQLite database"):
        open_cache(path)
    assert sha(path) == before


def test_a_truncated_cache_is_refused_untouched(demo_cache, tmp_path):
    path = tmp_path / "truncated.db"
    path.write_bytes(demo_cache.read_bytes()[:8192])
    before = sha(path)
    with pytest.raises(CacheError, match="cannot be read|not a C360 cache"):
        open_cache(path)
    assert sha(path) == before


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "foreign.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = sha(path)
    with pytest.raises(CacheError, match="not a C360 cache"):
        open_cache(path)
    assert sha(path) == before


def test_an_unwritable_location_gives_a_clear_message(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(CacheError, match="Cannot create a cache in .*not-a-folder"):
        open_cache(blocker / "sub" / "cache.db")


def test_open_without_create_refuses_a_missing_file(tmp_path):
    with pytest.raises(CacheError, match="No cache at"):
        open_cache(tmp_path / "missing.db", create=False)


def test_writers_roll_back_on_error(services):
    cache = services.cache
    with pytest.raises(RuntimeError), cache.writer() as conn:
        conn.execute("INSERT INTO cache_meta (key, value) VALUES ('half', 'written')")
        raise RuntimeError("boom")
    assert cache.meta("half") is None


def test_copy_of_a_cache_opens(demo_cache, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copyfile(demo_cache, copy)
    assert open_cache(copy, create=False).info.upgraded_from is None


def test_a_bulk_write_reaches_the_database_file_by_a_background_checkpoint(tmp_path):
    """A bulk write (a million scores) turns off its own checkpoint; the background one copies
    it into the database file itself, so the write-ahead log does not keep growing."""
    c = open_cache(tmp_path / "bulk.db")
    held = sqlite3.connect(tmp_path / "bulk.db")  # open throughout: closing the last connection would checkpoint
    held.execute("SELECT count(*) FROM customer").fetchone()
    with c.writer(bulk=True) as w:
        w.executemany("INSERT INTO cache_meta (key, value) VALUES (?, ?)", [(f"k{i}", "x" * 500) for i in range(5000)])
    assert (tmp_path / "bulk.db-wal").stat().st_size > 2_000_000  # the rows went to the log first
    c.close()  # waits for the background checkpoint
    shutil.copyfile(tmp_path / "bulk.db", tmp_path / "file-only.db")  # the database file without its log
    alone = sqlite3.connect(tmp_path / "file-only.db")
    assert alone.execute("SELECT count(*) FROM cache_meta WHERE key LIKE 'k%'").fetchone()[0] == 5000
    alone.close()
    held.close()


@pytest.mark.parametrize("name", ["sales#3.db", "what?.db", "100%.db", "a%20b.db", "q?mode=ro#x.db"])
def test_a_cache_path_is_a_file_path_not_a_uri(tmp_path, name):
    """``#``, ``?`` and ``%`` in a folder or file name open that very file, read-write and read-only."""
    folder = tmp_path / "dir#1?%41"
    folder.mkdir()
    c = open_cache(folder / name)
    c.reader().execute("SELECT count(*) FROM customer").fetchone()
    c.close()
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [name]
    assert [p.name for p in tmp_path.iterdir()] == ["dir#1?%41"]
    ro = sqlite3.connect(cache_mod.sqlite_uri(folder / name, readonly=True), uri=True)
    assert ro.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("CREATE TABLE t (x)")
    ro.close()
