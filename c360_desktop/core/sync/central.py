"""The central database as the sync engine sees it: connect, check compatibility, read batches.

SQL is built with SQLAlchemy Core and compiled for the server's dialect (PostgreSQL or SQL
Server), then run on the raw DB-API cursor, because fetching millions of rows through the ORM
layer would cost more than the network.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    TableClause,
    Text,
    and_,
    cast,
    column,
    create_engine,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from c360_desktop.core import logs
from c360_desktop.core.storage.schema import SYNCED_TABLES, Base
from c360_desktop.core.sync.errors import Duplicate, SyncError
from c360_desktop.core.sync.urls import UrlError, central_url, is_loopback

SUPPORTED_SCHEMA = (6, 6)  # central schema versions this app can sync with (inclusive)
# Tables scoped to a territory through their customer_id (a rep's cache holds only these rows
# for their parishes' customers); the others are reference data every desktop gets whole.
# server_sync.schema uses these too.
CUSTOMER_SCOPED = (
    "contact_point", "customer_address", "identity_link", "transaction", "interaction", "social_profile",
    "business_customer_relationship", "sales_activity", "lead", "score", "alert", "note", "consent",
)
LOCAL_ONLY_COLUMNS = {"customer": {"search_key"}}
# Columns the centre may withhold from a role (central schema 5: column privileges).
# 6: a rep's other customers' phones and e-mails (their contact points are hidden by row policy).
PII_COLUMNS = {"customer": ("trn", "date_of_birth", "primary_phone", "primary_email"),
               "source_record": ("fields", "lineage")}




def application_name() -> str:
    """How this connection names itself to the server (``pg_stat_activity``, the server's log
    with ``%a``): the app and the correlation id of the work it does (``core.logs``)."""
    cid = logs.current()
    return f"c360-desktop {cid}" if cid else "c360-desktop"


def named(url: Any) -> Any:
    """A SQL Server URL with the ODBC keyword ``APP`` set to ``application_name()``, so the
    server's sessions (``sys.dm_exec_sessions.program_name``) carry the correlation id."""
    return url.update_query_dict({"APP": application_name()}) if url.get_backend_name() == "mssql" else url


def explain(exc: BaseException, host: str) -> str:
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    msg = first[0] if first else type(exc).__name__
    if "password authentication failed" in msg or "no password supplied" in msg:
        return f"the server at {host} refused the password for this user"
    if any(s in msg for s in ("Connection refused", "could not connect", "timeout expired",
                              "server closed the connection", "could not translate host name",
                              "Could not connect", "08001", "08S01")):
        return f"cannot reach the database server at {host}"
    if "does not exist" in msg and "database" in msg:
        return f"no such database on {host}: {msg}"
    if "does not match host name" in msg:
        return (f"the server's TLS certificate does not name {host} ({msg.strip()}); connect by the name "
                "the certificate gives, or ask IT for a certificate that names this host")
    if "certificate verify failed" in msg:
        return (f"the TLS certificate of the server at {host} is not signed by the CA in the profile's "
                "sslrootcert file; check the file, or ask IT which CA signed the server's certificate")
    if "root certificate file" in msg:
        return f"the CA file named by sslrootcert cannot be read ({msg.strip()})"
    if "server does not support SSL" in msg:
        return f"the server at {host} does not offer TLS, and the profile requires it (sslmode)"
    return msg


VERIFIED = ("verify-full", "verify-ca")


def tls_warning(url: str) -> str | None:
    """Why the connection to a central database is not protected in transit, or None: a
    loopback host, or TLS with the server's certificate verified (PostgreSQL sslmode=verify-full
    or verify-ca; SQL Server Encrypt=yes without TrustServerCertificate)."""
    from sqlalchemy.engine import make_url

    u = make_url(url.strip())
    host = (u.host or "").lower()
    if is_loopback(host):
        return None
    query = {k.lower(): str(v).lower() for k, v in u.query.items()}
    if u.get_backend_name() == "mssql":
        if query.get("encrypt") not in ("yes", "true", "strict", "mandatory"):
            return f"the connection to {host} is not encrypted: add Encrypt=yes to the URL"
        if query.get("trustservercertificate") in ("yes", "true"):
            return f"the connection to {host} is encrypted but its certificate is not checked (TrustServerCertificate)"
        return None
    mode = query.get("sslmode", "prefer")
    if mode in VERIFIED:
        return None
    if mode == "require":
        return (f"the connection to {host} is encrypted but the server is not verified (sslmode=require); "
                "use sslmode=verify-full with sslrootcert=<the CA file>")
    return (f"the connection to {host} may not be encrypted (sslmode={mode}); "
            "use sslmode=verify-full with sslrootcert=<the CA file>")


def sync_columns(name: str) -> list[str]:
    """The columns of a synchronised table that travel between centre and cache."""
    skip = LOCAL_ONLY_COLUMNS.get(name, set())
    return [c.name for c in Base.metadata.tables[name].columns if c.name not in skip]


def _converter(col_type: Any) -> Callable[[Any], Any] | None:
    """How a value from the server is stored in the cache (text timestamps, JSON text, 0/1)."""
    name = type(col_type).__name__
    if name == "DateTime":
        return lambda v: v if v is None or isinstance(v, str) else (
            v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond:06d}" if v.microsecond else ""))
    if name == "Date":
        return lambda v: v.isoformat() if isinstance(v, date | datetime) else v
    if name == "JSON":
        return lambda v: v if v is None or isinstance(v, str) else json.dumps(v)
    if name == "Boolean":
        return lambda v: None if v is None else int(v)
    return None


class Central:
    """One connection to the central database for one sync run."""

    def __init__(self, url: str, password: str | None = None, connect_timeout: int = 10) -> None:
        try:
            parsed = central_url(url)
        except UrlError as exc:
            raise SyncError(str(exc)) from None
        self.host = parsed.host or "localhost"
        if password is not None:
            parsed = parsed.set(password=password)
        self.engine: Engine | None = None
        with _db_errors(self.host):
            if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "pyodbc":
                self.raw, self.dialect = _postgresql_over_odbc(parsed, connect_timeout)
            else:
                args: dict[str, Any] = {}
                if parsed.get_backend_name() == "postgresql":  # psycopg2 or psycopg: libpq options
                    args = {"connect_timeout": connect_timeout, "application_name": application_name()}
                parsed = named(parsed)
                # One connection per run, transactions ended by us: no pooling, and no rollback on
                # return (which, on a connection the server dropped, only logs a second error).
                self.engine = create_engine(parsed, connect_args=args, poolclass=NullPool,
                                            pool_reset_on_return=None)
                self.raw = self.engine.raw_connection()
                self.dialect = self.engine.dialect
        self._tables: dict[str, TableClause] = {}
        self._converters: dict[str, list[Callable[[Any], Any] | None]] = {}
        # What this login may not read (central schema 5: the database enforces roles): tables
        # skipped by the pull, columns pulled as empty. Learnt by ``access``.
        self.unreadable: set[str] = set()
        self.hidden: dict[str, set[str]] = {}
        self.user: dict[str, Any] | None = None  # this login's row in c360_user: role and parishes

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the connection may already be gone (server lost)
            self.raw.close()
        if self.engine is not None:
            self.engine.dispose()

    def _compiled(self, stmt: Any) -> tuple[str, Any]:
        """SQL text and parameters for this server's dialect and driver (named or positional)."""
        compiled = stmt.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        params: Any = compiled.params
        if compiled.positiontup is not None:
            params = [compiled.params[k] for k in compiled.positiontup]
        return str(compiled), params

    def run(self, stmt: Any) -> list[tuple]:
        sql, params = self._compiled(stmt)
        with _db_errors(self.host), contextlib.closing(self.raw.cursor()) as cur:
            cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]

    def write(self, stmt: Any) -> int:
        """Execute a write inside the current central transaction; returns the affected row count.
        A uniqueness violation is raised as Duplicate; other database errors as SyncError."""
        sql, params = self._compiled(stmt)
        with _db_errors(self.host), contextlib.closing(self.raw.cursor()) as cur:
            try:
                cur.execute(sql, params)
            except Exception as exc:
                if any(c.__name__ == "IntegrityError" for c in type(exc).__mro__):
                    raise Duplicate(str(exc).splitlines()[0]) from None
                raise
            return int(cur.rowcount)

    def commit(self) -> None:
        with _db_errors(self.host):
            self.raw.commit()

    def rollback(self) -> None:
        with _db_errors(self.host):
            self.raw.rollback()

    def handshake(self) -> int:
        """The central schema version, or a SyncError saying why this app cannot sync with it."""
        meta = table("c360_meta", column("key"), column("value"))
        try:
            rows = self.run(select(meta.c.value).where(meta.c.key == "schema_version"))
        except SyncError as exc:
            if "c360_meta" in str(exc) or "does not exist" in str(exc):
                self.rollback()
                raise SyncError("the database is not a C360 central database (no c360_meta table); "
                                "initialise it with 'c360-server init'") from None
            raise
        self.rollback()
        version = int(rows[0][0]) if rows else 0
        lo, hi = SUPPORTED_SCHEMA
        if version > hi:
            raise SyncError(f"the central schema is version {version}, newer than this app supports "
                            f"(up to {hi}); update C360 Desktop before syncing")
        if version < lo:
            raise SyncError(f"the central schema is version {version}, older than this app needs "
                            f"({lo}); upgrade it with 'c360-server init'")
        return version

    def access(self) -> None:
        """Learn this login's role and what it may read (PostgreSQL; other servers: everything)."""
        if self.dialect.name != "postgresql":
            return
        from sqlalchemy import text

        checks = [f"has_any_column_privilege('{t}', 'SELECT')" for t in SYNCED_TABLES]
        columns = [(t, c) for t, cols in PII_COLUMNS.items() for c in cols]
        checks += [f"has_column_privilege('{t}', '{c}', 'SELECT')" for t, c in columns]
        (row,) = self.run(text("SELECT " + ", ".join(checks)))
        self.unreadable = {t for t, ok in zip(SYNCED_TABLES, row, strict=False) if not ok}
        self.hidden = {}
        for (t, c), ok in zip(columns, row[len(SYNCED_TABLES):], strict=True):
            if not ok:
                self.hidden.setdefault(t, set()).add(c)
        found = self.run(text("SELECT to_regclass('c360_user') IS NOT NULL"))
        self.user = None
        if found and found[0][0]:
            rows = self.run(text("SELECT current_user, role, array_to_string(parishes, ','), disabled, sales_rep_id "
                                 "FROM c360_user WHERE name = current_user"))
            if rows:
                name, role, parishes, disabled, rep = rows[0]
                self.user = {"name": name, "role": role, "parishes": [p for p in (parishes or "").split(",") if p],
                             "disabled": bool(disabled), "sales_rep_id": rep}
        self.rollback()

    def _table(self, name: str) -> TableClause:
        if name not in self._tables:
            cols = sync_columns(name)
            extra: list[Any] = [column("row_xid")] if self.dialect.name == "postgresql" else []
            self._tables[name] = table(name, *(column(c) for c in cols), *extra)
            types = Base.metadata.tables[name].columns
            self._converters[name] = [_converter(types[c].type) for c in cols]
        return self._tables[name]

    def _select_list(self, name: str, t: TableClause) -> list[Any]:
        """The columns to select. PostgreSQL formats timestamps, dates and JSON as text in exactly
        the cache's form, which spares a Python conversion per value on millions of rows."""
        local = Base.metadata.tables[name].columns
        cols = [c for c in t.c if c.name in local]
        hidden = self.hidden.get(name, set())
        if self.dialect.name != "postgresql":
            return cols
        out: list[Any] = []
        for col in cols:
            kind = type(local[col.name].type).__name__
            if col.name in hidden:  # masked at the source: this login may not read it
                out.append(literal_column("'{}'" if kind == "JSON" else "NULL").label(col.name))
                continue
            if kind in ("DateTime", "Date", "JSON"):
                out.append(cast(col, Text).label(col.name))
            elif kind == "Boolean":
                out.append(cast(col, Integer).label(col.name))
            else:
                out.append(col)
        return out

    def _position(self, t: TableClause) -> tuple[Any, Any]:
        """The column pulls page by, and the bound below which every writer has finished:
        PostgreSQL, the writing transaction and the oldest one still running; SQL Server, the
        rowversion and MIN_ACTIVE_ROWVERSION(). A pull that stays below the bound can never be
        passed by a transaction that commits later."""
        if self.dialect.name == "postgresql":
            return t.c.row_xid, literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cast(t.c.row_version, BigInteger), literal_column("CAST(MIN_ACTIVE_ROWVERSION() AS BIGINT)")

    def pending(self, name: str, after: tuple[int, str], parishes: Sequence[str] | None) -> int:
        """How many rows a pull from ``after`` would take now (for progress and ETA)."""
        stmt = self._query(name, after, parishes, None)
        rows = self.run(select(func.count()).select_from(stmt.subquery()))
        self.rollback()
        return int(rows[0][0])

    def fetch(self, name: str, after: tuple[int, str], limit: int, parishes: Sequence[str] | None,
              customer_ids: Sequence[str] | None = None) -> list[tuple]:
        """Up to ``limit`` rows of a table past the cursor ``after`` = (position, id), in cursor
        order, limited to a territory (customers of those parishes and what hangs off them) if
        given, or to given customers (then regardless of the cursor). Each row ends with its
        position; callers strip it."""
        rows = self.run(self._query(name, after, parishes, customer_ids).limit(limit))
        self.rollback()  # end the read transaction: no snapshot held between batches
        conv = self._converters[name]
        if self.dialect.name != "postgresql" and any(conv):
            rows = [tuple(f(v) if f else v for f, v in zip([*conv, None], row, strict=True)) for row in rows]
        return rows

    def _query(self, name: str, after: tuple[int, str], parishes: Sequence[str] | None,
               customer_ids: Sequence[str] | None) -> Any:
        t = self._table(name)
        pos, bound = self._position(t)
        stmt = select(*self._select_list(name, t), pos.label("c360_position"))
        conds: list[ColumnElement[bool]] = []
        if customer_ids is not None:
            key = t.c.id if name == "customer" else t.c.customer_id
            conds.append(key.in_(list(customer_ids)))
        else:
            x, last_id = after
            if self.dialect.name == "postgresql":  # a row-value comparison is one index range scan
                conds += [tuple_(pos, t.c.id) > tuple_(x, last_id), pos < bound]
            else:  # SQL Server has no row values
                conds += [or_(pos > x, and_(pos == x, t.c.id > last_id)), pos < bound]
            if parishes and name == "customer":
                conds.append(t.c.parish.in_(list(parishes)))
            elif parishes and name in CUSTOMER_SCOPED:
                c = table("customer", column("id"), column("parish"))
                stmt = stmt.select_from(t.join(c, c.c.id == t.c.customer_id))
                conds.append(c.c.parish.in_(list(parishes)))
        return stmt.where(and_(*conds)).order_by(pos, t.c.id)


def _postgresql_over_odbc(url: Any, timeout: int) -> tuple[Any, Any]:
    """PostgreSQL through pyodbc and psqlODBC: the path SQL Server takes, on a server we can run.
    SQLAlchemy has no postgresql+pyodbc dialect, so the connection is opened here and SQL is
    compiled for PostgreSQL with pyodbc's qmark parameters."""
    import pyodbc
    from sqlalchemy.dialects import postgresql

    driver = url.query.get("driver", "PostgreSQL Unicode")
    parts = {"DRIVER": "{" + driver + "}", "SERVER": url.host or "localhost", "PORT": url.port or 5432,
             "DATABASE": url.database, "UID": url.username, "PWD": url.password or "",
             "pqopt": "{application_name='" + application_name() + "'}"}  # psqlODBC's libpq options
    conn = pyodbc.connect(";".join(f"{k}={v}" for k, v in parts.items()), timeout=timeout, autocommit=False)
    return conn, postgresql.dialect(paramstyle="qmark")


@contextlib.contextmanager
def _db_errors(host: str) -> Iterator[None]:
    """Database errors (of either driver) as a SyncError with one line a person can act on."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, SyncError | Duplicate) or not _is_db_error(exc):
            raise
        raise SyncError(explain(exc, host)) from None


def _is_db_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return isinstance(exc, DBAPIError | ProgrammingError) or module.startswith(("psycopg", "pyodbc"))


__all__ = ["SYNCED_TABLES", "Central", "SyncError", "sync_columns"]
