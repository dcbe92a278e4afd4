"""Opening the local cache: one connection factory, safety checks, and migrations on open.

Every connection to a cache file comes from ``Cache.connect`` so that encryption at rest can be
added in one place later. Opening refuses, with a message that names the file and the problem,
anything that is not a C360 cache or that a newer app wrote; it never overwrites such a file.
An older cache is copied to a backup file before it is upgraded.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360_desktop.core.private import create_private, make_private_dir, tighten

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

APPLICATION_ID = 0x43333630  # "C360", stored in the SQLite header (PRAGMA application_id)
# The migration revisions this app knows, oldest first. Kept here so that opening an up-to-date
# cache needs neither Alembic nor SQLAlchemy (they cost most of a second at start-up);
# tests/core/test_storage.py checks this list against the migration scripts.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012", "0013", "0014", "0015", "0016", "0017", "0018", "0019", "0020", "0021")
HEAD = REVISIONS[-1]
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIGRATIONS = Path(__file__).with_name("migrations")


class CacheError(Exception):
    """The cache cannot be opened or created; the message is meant for the user as is."""


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    revision: str
    upgraded_from: str | None = None
    backup_path: Path | None = None
    wal_warning: str | None = None  # committed changes a damaged WAL lost on opening (storage/wal.py)


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def script_revisions() -> list[str]:
    """The revision ids of the migration scripts, oldest first (reads the scripts: slow)."""
    from alembic.script import ScriptDirectory

    return [r.revision for r in ScriptDirectory.from_config(_alembic_config()).walk_revisions()][::-1]


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    # Foreign keys are enforced by the central database; the cache receives rows in sync order,
    # which need not be parent-first, so SQLite does not enforce them here.
    conn.execute("PRAGMA foreign_keys = OFF")


class Cache:
    """An open cache file. Thread-safe: each thread gets its own connection (never shared)."""

    def __init__(self, path: Path, info: CacheInfo) -> None:
        self.path = path
        self.info = info
        self._local = threading.local()
        self._engine: Engine | None = None
        self._write_lock = threading.Lock()
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_wanted = False

    def connect(self, readonly: bool = False) -> sqlite3.Connection:
        """A new connection through the one factory (pragmas, later the encryption key)."""
        return _connect(self.path, readonly=readonly)

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection, created on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def writer(self, bulk: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection for one write transaction; writers are serialised across threads.
        ``bulk``: a large write (a million scores) whose commit should not wait for the WAL
        checkpoint (copying hundreds of megabytes into the database file): it runs on a
        background thread afterwards, instead of in this commit or the next small one."""
        with self._write_lock:
            conn = self.connect()
            try:
                if bulk:
                    conn.execute("PRAGMA wal_autocheckpoint = 0")
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()
        if bulk:
            self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """Copy the write-ahead log into the database file on a background thread. Readers and
        writers go on meanwhile."""
        with self._checkpoint_lock:
            self._checkpoint_wanted = True
            if self._checkpointer is None:
                self._checkpointer = threading.Thread(target=self._checkpoint, name="c360-checkpoint", daemon=True)
                self._checkpointer.start()

    def _checkpoint(self) -> None:
        while True:
            with self._checkpoint_lock:
                if not self._checkpoint_wanted:
                    self._checkpointer = None
                    return
                self._checkpoint_wanted = False
            conn = self.connect()
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                log.warning("background checkpoint of %s failed", self.path, exc_info=True)
            finally:
                conn.close()

    def vacuum(self) -> None:
        """Rebuild the file (VACUUM) so no free page keeps deleted values; writers wait."""
        with self._write_lock:
            conn = self.connect()
            try:
                conn.execute("VACUUM")
            finally:
                conn.close()

    def checkpoint_truncate(self) -> bool:
        """Copy the write-ahead log into the file and truncate it to nothing (its frames hold
        earlier versions of pages). False if a reader kept it from finishing."""
        with self._write_lock:
            conn = self.connect()
            try:
                busy, _frames, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.close()
        return not busy

    @property
    def engine(self) -> Engine:
        """An SQLAlchemy engine over the same factory, for ORM and migration work."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        if self._engine is None:
            self._engine = create_engine(
                "sqlite://", creator=lambda: self.connect(), poolclass=NullPool
            )
        return self._engine

    def meta(self, key: str) -> str | None:
        row = self.reader().execute("SELECT value FROM cache_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        # A checkpoint still wanted runs before the thread ends: clearing the flag here would let
        # a thread that has not yet taken it end without copying the last bulk write.
        with self._checkpoint_lock:
            checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.join()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._engine is not None:
            self._engine.dispose()


def sqlite_uri(path: str | Path, readonly: bool = False) -> str:
    """The SQLite ``file:`` URI that opens exactly the file at ``path``: the path is made absolute
    and percent-quoted, so a ``#``, ``?`` or ``%`` in a folder or file name is part of the name
    rather than the start of a fragment, a query or an escape."""
    uri = Path(path).expanduser().absolute().as_uri()
    return f"{uri}?mode=ro" if readonly else uri


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        sqlite_uri(path, readonly), uri=True, isolation_level=None, check_same_thread=False
    )
    _configure(conn)
    return conn


def pending_upgrade(path: str | Path) -> str | None:
    """The schema revision of an existing cache that opening it would upgrade (after a backup
    copy), else None: a new file, one at this version's schema, or one open_cache will refuse and
    explain. Reads the file's header only, so a window can say so before the upgrade starts."""
    try:
        kind, rev = _inspect(Path(path).expanduser().resolve())
    except CacheError:
        return None
    return rev if _upgrades(kind, rev) else None


def _upgrades(kind: str, rev: str | None) -> bool:
    """Whether open_cache backs up and upgrades a file ``_inspect`` found to be this (``kind``, ``rev``):
    ours, at an older schema this version knows."""
    return kind == "ours" and rev in REVISIONS and rev != HEAD


def _inspect(path: Path) -> tuple[str, str | None]:
    """('new' | 'ours' | 'foreign', alembic revision) for a file, without changing it."""
    if path.is_dir():
        raise CacheError(f"{path} is a folder, not a cache file; give the path of a .db file.")
    if not path.exists() or path.stat().st_size == 0:
        return "new", None
    with path.open("rb") as fh:
        if fh.read(16) != _SQLITE_MAGIC:
            raise CacheError(
                f"{path} is not an SQLite database (corrupt, or another kind of file). "
                "It was left untouched; choose another cache file."
            )
    try:
        conn = _connect(path, readonly=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            rev = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                rev = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path} cannot be read as a database ({exc}). It was left untouched.") from None
    if not tables:
        return "new", None
    if app_id != APPLICATION_ID or rev is None:
        raise CacheError(
            f"{path} is an SQLite database but not a C360 cache. It was left untouched; "
            "choose another cache file."
        )
    return "ours", rev


def open_cache(path: str | Path, create: bool = True) -> Cache:
    """Open (or create) a cache, upgrading an older one after backing it up."""
    path = Path(path).expanduser().resolve()
    wal_warning = _check_wal(path)  # before anything opens the file and SQLite replays the log
    kind, rev = _inspect(path)
    revisions, head = REVISIONS, HEAD
    if kind == "new" and not create:
        raise CacheError(f"No cache at {path}. Build one with 'c360 demo-data --out {path}'.")
    if kind == "ours" and rev not in revisions:
        raise CacheError(
            f"{path} was written by a newer C360 Desktop (schema {rev}); this version reads up to "
            f"schema {head}. Update the app or open another cache. The file was left untouched."
        )
    backup = None
    if kind == "new":
        ensure_writable_dir(path.parent)
        _upgrade(path, create=True)
    elif _upgrades(kind, rev):
        backup = path.with_name(f"{path.name}.pre-{head}.bak")
        try:
            _backup(path, backup)
            _upgrade(path, create=False)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"Could not upgrade {path} ({exc}). The original is unchanged.") from None
        log.info("upgraded cache %s from %s to %s (backup %s)", path, rev, head, backup)
    for suffix in ("", "-wal", "-shm"):  # caches made before files were created private
        tighten(Path(f"{path}{suffix}"))
    info = CacheInfo(path=path, revision=head, upgraded_from=rev if rev != head else None,
                     backup_path=backup, wal_warning=wal_warning)
    return Cache(path, info)


def _check_wal(path: Path) -> str | None:
    if not Path(f"{path}-wal").exists():  # the usual case: the app closed cleanly
        return None
    from c360_desktop.core.storage import wal

    try:
        found = wal.check(path)
    except (OSError, ValueError, struct.error):
        log.warning("could not read the write-ahead log of %s", path, exc_info=True)
        return None
    if found is None or found.message is None:
        return None
    log.warning("%s: %s", path, found.message)
    return found.short


def ensure_writable_dir(folder: Path) -> None:
    try:
        make_private_dir(folder)
        probe = folder / ".c360-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CacheError(
            f"Cannot create a cache in {folder}: {exc.strerror or exc}. "
            "Choose a folder you can write to (File > Open cache, or --cache PATH)."
        ) from None


def _backup(path: Path, backup: Path) -> None:
    src = _connect(path, readonly=True)
    create_private(backup)
    dst = sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _upgrade(path: Path, create: bool) -> None:
    """Run the migrations to head in one go. A new cache is built in a temporary file first
    and moved into place, so a failure never leaves a half-made cache behind."""
    target = path.with_name(path.name + ".building") if create else path
    if create:
        target.unlink(missing_ok=True)
        create_private(target)  # SQLite gives the -wal and -shm files the same mode
    from alembic import command
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    conn = _connect(target)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
        # pysqlite in autocommit mode: begin explicitly so the whole upgrade is one transaction.
        event.listen(engine, "begin", lambda sa_conn: sa_conn.exec_driver_sql("BEGIN"))
        cfg = _alembic_config()
        with engine.begin() as sa_conn:
            cfg.attributes["connection"] = sa_conn
            command.upgrade(cfg, "head")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if create:
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        target.replace(path)  # atomic, and overwrites an empty placeholder file on Windows too
