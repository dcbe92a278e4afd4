"""Opening the local cache: one connection factory, encryption at rest, safety checks, and
migrations on open.

Every connection to a cache file comes from ``Cache.connect``. A cache is an SQLCipher 4
database keyed with a random raw key from the keyring (``storage/keys.py``) wherever a key can be
kept; a plain cache is converted when opened there (``sqlcipher_export``: rekey cannot encrypt a
plain file), and its plain copies are overwritten. Opening refuses, with a message that names the
file and the problem, anything that is not a C360 cache, that a newer app wrote, or whose key is
missing or wrong; it never overwrites such a file, and never replaces it with a new empty one.
An older cache is copied to a backup file (encrypted like the cache) before it is upgraded.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360_desktop.core.private import create_private, make_private_dir, tighten
from c360_desktop.core.storage import keys

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

APPLICATION_ID = 0x43333630  # "C360", stored in the SQLite header (PRAGMA application_id)
# The migration revisions this app knows, oldest first. Kept here so that opening an up-to-date
# cache needs neither Alembic nor SQLAlchemy (they cost most of a second at start-up);
# tests/core/test_storage.py checks this list against the migration scripts.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012", "0013", "0014", "0015", "0016", "0017", "0018", "0019", "0020", "0021", "0022")
HEAD = REVISIONS[-1]
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIGRATIONS = Path(__file__).with_name("migrations")


class CacheError(Exception):
    """The cache cannot be opened or created; the message is meant for the user as is."""


def _db_errors() -> tuple[type[BaseException], ...]:
    try:
        import sqlcipher3.dbapi2 as sqlcipher
    except ImportError:
        return (sqlite3.Error,)
    return (sqlite3.Error, sqlcipher.Error)


# Errors from either driver (SQLCipher's are not subclasses of sqlite3's).
DB_ERRORS: tuple[type[BaseException], ...] = _db_errors()
_FILE_ERRORS: tuple[type[BaseException], ...] = (OSError, *DB_ERRORS)


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    revision: str
    upgraded_from: str | None = None
    backup_path: Path | None = None
    wal_warning: str | None = None  # committed changes a damaged WAL lost on opening (storage/wal.py)
    encrypted: bool = False
    converted: bool = False  # a plain cache encrypted on this opening
    wiped_after_days: int | None = None  # not unlocked for that long: wiped on this start (a lost laptop)


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

    def __init__(self, path: Path, info: CacheInfo, key: bytes | None = None) -> None:
        self.path = path
        self.info = info
        self._key = key
        self._local = threading.local()
        self._engine: Engine | None = None
        self._write_lock = threading.Lock()
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_wanted = False

    @property
    def encrypted(self) -> bool:
        return self._key is not None

    @property
    def key(self) -> bytes | None:
        """The cache's key, for a sign-in to wrap under the user's password (never shown or logged)."""
        return self._key

    def connect(self, readonly: bool = False) -> sqlite3.Connection:
        """A new connection through the one factory (the key, then the pragmas)."""
        return _connect(self.path, readonly=readonly, key=self._key)

    def export_plain(self, target: Path) -> None:
        """Copy the whole cache into a new plain (unencrypted) SQLite file at ``target``, for a
        pseudonymised copy that is made from it and then handed to others."""
        if self._key is None:
            src, dst = self.connect(readonly=True), sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            return
        conn = self.connect()
        try:
            conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(target),))
            conn.execute("SELECT sqlcipher_export('plain')")
            conn.execute("DETACH DATABASE plain")
        finally:
            conn.close()

    def rekey(self) -> None:
        """A new key for a suspected compromise: every page is encrypted again (PRAGMA rekey),
        then the new key replaces the old in the keyring. Writers wait meanwhile."""
        import secrets as random

        if self._key is None:
            raise CacheError(f"{self.path.name} is not encrypted; nothing to rekey")
        if os.environ.get(keys.ENV_KEY):
            raise CacheError(f"the key comes from {keys.ENV_KEY}: rekey in a session whose key is in the "
                             "keyring, or give the new key to the cache's scripts yourself")
        if keys.read_info(self.path).kept == "signin":
            raise CacheError("the key is kept only under the users' passwords; keep it in the keyring again "
                             "('c360 signin unprotect') before a rekey, so no user is locked out")
        new = random.token_bytes(32)
        with self._write_lock:
            conn = self.connect()
            try:
                conn.execute(f"PRAGMA rekey = \"x'{new.hex()}'\"")
            finally:
                conn.close()
            keys.replace_key(self.path, new)
            self._key = new
            reader = getattr(self._local, "conn", None)
            if reader is not None:  # this thread's reader keyed with the old key
                reader.close()
                self._local.conn = None

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
            except DB_ERRORS:
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


def _connect(path: Path, readonly: bool = False, key: bytes | None = None) -> sqlite3.Connection:
    if key is None:
        conn = sqlite3.connect(sqlite_uri(path, readonly), uri=True, isolation_level=None, check_same_thread=False)
    else:
        import sqlcipher3.dbapi2 as sqlcipher

        conn = sqlcipher.connect(sqlite_uri(path, readonly), uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our message, not its stderr lines
        conn.execute(keys.pragma(key))  # a raw key: no passphrase derivation on open
        for statement in keys.settings():
            conn.execute(statement)
    _configure(conn)
    return conn  # type: ignore[no-any-return]  # SQLCipher's connection has sqlite3's interface


def pending_upgrade(path: str | Path) -> str | None:
    """The schema revision of an existing cache that opening it would upgrade (after a backup
    copy), else None: a new file, one at this version's schema, or one open_cache will refuse and
    explain. Reads the file's header only, so a window can say so before the upgrade starts."""
    try:
        path = Path(path).expanduser().resolve()
        key = keys.key_for(path) if keys.is_encrypted(path) and _is_ciphertext(path) else None
        kind, rev = _inspect(path, key)
    except (CacheError, keys.KeyProblem):
        return None
    return rev if _upgrades(kind, rev) else None


def pending_encryption(path: str | Path) -> bool:
    """Whether opening the cache at ``path`` would first encrypt it (a plain cache, on a machine
    that can keep its key), so a window can say so while it runs."""
    path = Path(path).expanduser().resolve()
    return (path.exists() and path.stat().st_size > 0 and not keys.is_encrypted(path)
            and not _is_ciphertext(path) and keys.available() is None)


def _upgrades(kind: str, rev: str | None) -> bool:
    """Whether open_cache backs up and upgrades a file ``_inspect`` found to be this (``kind``, ``rev``):
    ours, at an older schema this version knows."""
    return kind == "ours" and rev in REVISIONS and rev != HEAD


def _is_ciphertext(path: Path) -> bool:
    """An existing, non-empty file that does not start with SQLite's plain header."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as fh:
        return fh.read(16) != _SQLITE_MAGIC


def _inspect(path: Path, key: bytes | None = None) -> tuple[str, str | None]:
    """('new' | 'ours' | 'foreign', alembic revision) for a file, without changing it."""
    if path.is_dir():
        raise CacheError(f"{path} is a folder, not a cache file; give the path of a .db file.")
    if not path.exists() or path.stat().st_size == 0:
        return "new", None
    if key is None and _is_ciphertext(path):
        raise CacheError(
            f"{path} is not an SQLite database (corrupt, another kind of file, or an encrypted cache "
            f"whose {keys.sidecar(path).name} is missing). It was left untouched; choose another cache file."
        )
    try:
        conn = _connect(path, readonly=True, key=key)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            rev = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                rev = row[0] if row else None
        finally:
            conn.close()
    except DB_ERRORS as exc:
        if key is not None:  # the key passed its check: the file itself is damaged
            raise CacheError(f"{path} is damaged: its key is right but the file cannot be decrypted ({exc}). "
                             "It was left untouched; restore a backup or sync into a new cache.") from None
        raise CacheError(f"{path} cannot be read as a database ({exc}). It was left untouched.") from None
    if not tables:
        return "new", None
    if app_id != APPLICATION_ID or rev is None:
        raise CacheError(
            f"{path} is an SQLite database but not a C360 cache. It was left untouched; "
            "choose another cache file."
        )
    return "ours", rev


def _files_of(path: Path) -> list[Path]:
    """The cache file, its WAL and shared-memory files, its reports copy and upgrade backups."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), path.with_name(path.name + ".reports.duckdb"),
            path.with_name(path.name + ".reports.duckdb.wal"), *path.parent.glob(f"{path.name}.pre-*.bak")]


def overwrite(path: Path) -> None:
    """Zeros over a file's bytes, flushed to disk, then the file removed: a plain copy of personal
    data should not stay readable in the blocks it used (as far as the file system allows)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    try:
        with path.open("r+b") as fh:
            block = b"\0" * (1 << 20)
            left = size
            while left > 0:
                fh.write(block[: min(left, len(block))])
                left -= len(block)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        log.warning("could not overwrite %s before removing it", path, exc_info=True)
    path.unlink(missing_ok=True)


def _wipe(path: Path) -> None:
    for f in _files_of(path):
        overwrite(f)
    keys.forget(path)


def _recover_conversion(path: Path) -> None:
    """Finish or undo an encryption that stopped midway (see _encrypt_in_place)."""
    tmp = path.with_name(path.name + ".encrypting")
    if not keys.is_encrypted(path):
        if tmp.exists() or keys.is_encrypted(tmp):  # stopped before the key was the cache's: undo
            tmp.unlink(missing_ok=True)
            keys.forget(tmp)
        return
    if tmp.exists():
        key = keys.key_for(path)
        try:
            conn = _connect(tmp, readonly=True, key=key)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except DB_ERRORS:
            tmp.unlink(missing_ok=True)  # the copy was not finished: the plain file is whole
            keys.forget(path)
            return
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        tmp.replace(path)
        log.info("finished encrypting %s (stopped midway before)", path)
    elif not _is_ciphertext(path) and path.exists():
        keys.forget(path)  # a key made for a conversion that never started copying


def _encrypt_in_place(path: Path) -> bytes:
    """Encrypt a plain cache: an encrypted copy made with sqlcipher_export beside it, the key
    stored, the plain file (and its plain backups and reports copy) overwritten, the copy moved
    into place. A stop at any point is finished or undone on the next opening."""
    import sqlcipher3.dbapi2 as sqlcipher

    tmp = path.with_name(path.name + ".encrypting")
    tmp.unlink(missing_ok=True)
    plain = sqlcipher.connect(str(path), isolation_level=None)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        app_id = plain.execute("PRAGMA application_id").fetchone()[0]
        user_version = plain.execute("PRAGMA user_version").fetchone()[0]
        key = keys.new_key(path.with_name(tmp.name))
        create_private(tmp)
        plain.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{key.hex()}'\"", (str(tmp),))
        for statement in keys.settings("enc"):
            plain.execute(statement)
        plain.execute("SELECT sqlcipher_export('enc')")
        plain.execute(f"PRAGMA enc.application_id = {int(app_id)}")
        plain.execute(f"PRAGMA enc.user_version = {int(user_version)}")
        plain.execute("DETACH DATABASE enc")
    except BaseException:
        plain.close()
        tmp.unlink(missing_ok=True)
        keys.forget(path.with_name(tmp.name))
        raise
    plain.close()
    conn = _connect(tmp, key=key)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    keys.sidecar(path.with_name(tmp.name)).replace(keys.sidecar(path))  # from here on, recovery finishes it
    for leftover in _files_of(path):
        overwrite(leftover)
    tmp.replace(path)
    return key


def open_cache(path: str | Path, create: bool = True, encrypt: bool | None = None,
               key: bytes | None = None) -> Cache:
    """Open (or create) a cache, upgrading an older one after backing it up. ``encrypt``: make a
    new cache encrypted and convert a plain one (default: wherever a key can be kept here).
    ``key``: the key a sign-in unwrapped, used instead of the keyring's."""
    given = key
    path = Path(path).expanduser().resolve()
    if encrypt is None:
        why_not = keys.available()
        encrypt = why_not is None
        if why_not and not keys.is_encrypted(path):  # Health shows it; the console stays quiet
            log.info("cache %s is not encrypted: %s", path.name, why_not)
    wiped = None
    try:
        _recover_conversion(path)
        if keys.is_encrypted(path):
            wiped = keys.overdue(path)
            if wiped is not None:
                log.warning("cache %s was not unlocked for %d days: wiped, as its policy says", path, wiped)
                _wipe(path)
        key = keys.key_for(path, given) if keys.is_encrypted(path) else None
    except keys.KeyProblem as exc:
        raise CacheError(str(exc)) from None
    wal_warning = _check_wal(path)  # before anything opens the file and SQLite replays the log
    kind, rev = _inspect(path, key)
    revisions, head = REVISIONS, HEAD
    if kind == "new" and not create:
        raise CacheError(f"No cache at {path}. Build one with 'c360 demo-data --out {path}'.")
    if kind == "ours" and rev not in revisions:
        raise CacheError(
            f"{path} was written by a newer C360 Desktop (schema {rev}); this version reads up to "
            f"schema {head}. Update the app or open another cache. The file was left untouched."
        )
    backup = None
    converted = False
    if kind == "new":
        ensure_writable_dir(path.parent)
        if encrypt:
            keys.forget(path)  # a key left by an empty file's earlier life
            try:
                key = keys.new_key(path)
            except (keys.KeyProblem, Exception) as exc:  # noqa: BLE001 - a keyring that refuses
                raise CacheError(f"Cannot keep a key for a new encrypted cache: {exc}") from None
        try:
            _upgrade(path, create=True, key=key)
        except BaseException:
            if key is not None:
                keys.forget(path)
            raise
    elif _upgrades(kind, rev):
        backup = path.with_name(f"{path.name}.pre-{head}.bak")
        try:
            _backup(path, backup, key)
            _upgrade(path, create=False, key=key)
        except _FILE_ERRORS as exc:
            raise CacheError(f"Could not upgrade {path} ({exc}). The original is unchanged.") from None
        log.info("upgraded cache %s from %s to %s (backup %s)", path, rev, head, backup)
    if encrypt and key is None and kind == "ours":
        try:
            key = _encrypt_in_place(path)
        except _FILE_ERRORS as exc:  # a damaged file, a full disk: it opens as it is, plain, and Health says so
            log.warning("could not encrypt %s (%s); it stays plain, unchanged", path, exc)
        else:
            converted, backup = True, None
            log.info("encrypted cache %s (plain copies overwritten)", path)
    if key is not None:
        keys.unlocked(path)
    for suffix in ("", "-wal", "-shm"):  # caches made before files were created private
        tighten(Path(f"{path}{suffix}"))
    info = CacheInfo(path=path, revision=head, upgraded_from=rev if rev != head else None,
                     backup_path=backup, wal_warning=wal_warning, encrypted=key is not None, converted=converted,
                     wiped_after_days=wiped)
    return Cache(path, info, key)


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


def _backup(path: Path, backup: Path, key: bytes | None = None) -> None:
    """A copy of the cache before an upgrade; an encrypted cache's is encrypted with its key
    (the backup's own key file names the same keyring entry)."""
    src = _connect(path, readonly=True, key=key)
    create_private(backup)
    dst = _connect(backup, key=key) if key is not None else sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    if key is not None:
        keys.write_info(backup, keys.read_info(path))


def _upgrade(path: Path, create: bool, key: bytes | None = None) -> None:
    """Run the migrations to head in one go. A new cache is built in a temporary file first
    and moved into place, so a failure never leaves a half-made cache behind."""
    target = path.with_name(path.name + ".building") if create else path
    if create:
        target.unlink(missing_ok=True)
        create_private(target)  # SQLite gives the -wal and -shm files the same mode
    from alembic import command
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    conn = _connect(target, key=key)
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
