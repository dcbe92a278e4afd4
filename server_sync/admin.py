"""Administering a central database: create or migrate its schema, report its state, seed it.

Seeding streams the demo dataset (the same generator the desktop uses) into PostgreSQL with
COPY, table by table in foreign-key order, one transaction per chunk of customers.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from c360_desktop.core.progress import Progress
from c360_desktop.core.sync.central import explain as central_explain
from c360_desktop.core.sync.urls import UrlError, central_url
from server_sync.schema import central_metadata

_MIGRATIONS = Path(__file__).with_name("migrations")


class AdminError(Exception):
    """A one-line message for the operator."""


def engine_for(url: str, password: str | None = None, timeout_s: int = 10) -> Engine:
    """An engine for a central database URL (the password never comes in the URL's text)."""
    try:
        parsed = central_url(url)
    except UrlError as exc:
        raise AdminError(str(exc)) from None
    if password is not None:
        parsed = parsed.set(password=password)
    args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        args = {"connect_timeout": timeout_s, "application_name": "c360-server"}
    return create_engine(parsed, connect_args=args, pool_pre_ping=True)


def explain(exc: BaseException, url: str) -> str:
    """A database error as one line a person can act on (the same wording the desktop uses)."""
    return central_explain(exc, make_url(url).host or "localhost")


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head


@dataclass(frozen=True)
class Status:
    server_version: str
    revision: str | None
    schema_version: int | None
    postgis: str | None
    rows: dict[str, int]


def init(url: str, password: str | None = None) -> str:
    """Create or migrate the central schema. Returns the revision now in place."""
    engine = engine_for(url, password)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                available = conn.execute(text(
                    "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
                if available is None:
                    raise AdminError("PostGIS is not installed on the database server "
                                     "(Debian: apt-get install postgresql-15-postgis-3)")
            current = MigrationContext.configure(conn, opts={"version_table": "c360_alembic_version"}).get_current_revision()
            known = {r.revision for r in ScriptDirectory.from_config(_config(conn)).walk_revisions()}
            if current is not None and current not in known:
                raise AdminError(f"the central schema is at revision {current}, newer than this "
                                 "c360-server knows; use a newer c360-server")
            command.upgrade(_config(conn), "head")
    except (OperationalError, ProgrammingError) as exc:
        message = explain(exc, url)
        if "permission denied to create extension" in message and "postgis" in message:
            database = engine.url.database
            message = (f"PostGIS is not enabled in database {database} and user {engine.url.username} may not "
                       f"enable it: ask an administrator to run CREATE EXTENSION postgis in {database}; "
                       "nothing was changed")
        raise AdminError(message) from None
    finally:
        engine.dispose()
    return head_revision()


def status(url: str, password: str | None = None) -> Status:
    engine = engine_for(url, password)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version()")).scalar_one()
            revision = MigrationContext.configure(conn, opts={"version_table": "c360_alembic_version"}).get_current_revision()
            postgis = None
            if conn.dialect.name == "postgresql":
                postgis = conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
            schema_version, rows = None, {}
            if revision is not None:
                schema_version = int(conn.execute(text(
                    "SELECT value FROM c360_meta WHERE key = 'schema_version'")).scalar_one())
                for name in ("customer", "transaction", "interaction", "source_record", "lead"):
                    rows[name] = conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
        return Status(str(version).split(",")[0], revision, schema_version, postgis, rows)
    except (OperationalError, ProgrammingError) as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()


def _copy_text(rows: list[tuple]) -> io.StringIO:
    r"""Rows as PostgreSQL COPY CSV with NULL written \N (so NULL and '' stay apart)."""
    out = io.StringIO()
    for row in rows:
        fields = []
        for v in row:
            if v is None:
                fields.append(r"\N")
            elif isinstance(v, str):
                fields.append('"' + v.replace('"', '""') + '"')
            elif isinstance(v, bool):
                fields.append("t" if v else "f")
            elif isinstance(v, dict | list):
                fields.append('"' + json.dumps(v).replace('"', '""') + '"')
            else:
                fields.append(str(v))
        out.write(",".join(fields))
        out.write("\n")
    out.seek(0)
    return out


def seed(url: str, customers: int, seed_value: int = 1, password: str | None = None,
         progress: Progress | None = None, as_of: Any = None) -> int:
    """Load the demo dataset into an initialised, empty central database. Returns rows loaded."""
    from datetime import date

    from c360_desktop.core.demo.generator import CHUNK, DemoSpec, generate

    progress = progress or Progress()
    central = set(central_metadata().tables)
    engine = engine_for(url, password)
    total = 0
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM customer")).scalar_one():
                raise AdminError("the central database already holds customers; seed only an empty one")
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            spec = DemoSpec(customers, seed_value, as_of or date.today())
            chunks = max(1, -(-customers // CHUNK))
            for k, batch in enumerate(generate(spec)):
                cur.execute("SET LOCAL c360.bulk_load = 'on'")
                for table, (columns, rows) in batch.items():
                    if table not in central or not rows:
                        continue
                    cols = ", ".join(f'"{c}"' for c in columns)
                    cur.copy_expert(f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')',
                                    _copy_text(rows))
                    total += len(rows)
                raw.commit()
                progress.update(min(1.0, k / chunks), f"Seeded {min(k * CHUNK, customers):,} of {customers:,} customers")
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
    except DBAPIError as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()
    progress.update(1.0, f"Seeded {customers:,} customers ({total:,} rows)")
    return total


# -- users and roles (central schema 5, PostgreSQL) ---------------------------------------------

ROLES = ("manager", "analyst", "field_rep", "data_steward", "admin")
_NAME = re.compile(r"^[a-z_][a-z0-9_.]{0,62}$")


@dataclass(frozen=True)
class CentralUser:
    name: str
    role: str
    parishes: tuple[str, ...]
    disabled: bool


def _group(role: str) -> str:
    return "c360_field_rep" if role == "field_rep" else "c360_full"


def _check_user(name: str, role: str | None, parishes: list[str] | None) -> None:
    from c360_desktop.core.jamaica import parish_by_code

    if not _NAME.match(name):
        raise AdminError(f"user name {name!r}: lower-case letters, digits, '_' and '.', at most 63, not starting "
                         "with a digit")
    if role is not None and role not in ROLES:
        raise AdminError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if parishes is not None:
        unknown = [p for p in parishes if p not in parish_by_code()]
        if unknown:
            raise AdminError(f"parish {unknown[0]!r} is not a parish code (JM-01 to JM-14)")
    if role == "field_rep" and not parishes:
        raise AdminError("a field rep needs --parishes: the parishes whose customers they may see")


def _users_engine(url: str, password: str | None) -> Engine:
    engine = engine_for(url, password)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise AdminError("users and roles are enforced by PostgreSQL here; on SQL Server, manage logins with "
                         "its own tools (not built)")
    return engine


def _check_sales_rep(conn: Any, sales_rep_id: str | None) -> None:
    if sales_rep_id is not None and not conn.execute(
            text("SELECT 1 FROM sales_rep WHERE id = :i AND deleted_at IS NULL"), {"i": sales_rep_id}).first():
        raise AdminError(f"no sales rep {sales_rep_id!r} (the sales_rep table's id)")


def user_add(url: str, name: str, role: str, parishes: list[str], user_password: str,
             password: str | None = None, sales_rep_id: str | None = None) -> CentralUser:
    """A login role for a person, in their role's group, and their row in c360_user. A field rep's
    ``sales_rep_id`` (their sales_rep row) gives them their own customers' phones and e-mails."""
    _check_user(name, role, parishes)
    if len(user_password) < 12:
        raise AdminError("the new user's password must be at least 12 characters")
    engine = _users_engine(url, password)
    try:
        with engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
                raise AdminError(f"a database role {name!r} exists already")
            ddl = conn.execute(text("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE ' || :g, :n, :p)"),
                               {"n": name, "p": user_password, "g": _group(role)}).scalar_one()
            _check_sales_rep(conn, sales_rep_id)
            conn.execute(text(ddl))
            conn.execute(text("INSERT INTO c360_user (name, role, parishes, sales_rep_id) VALUES (:n, :r, :p, :s)"),
                         {"n": name, "r": role, "p": sorted(set(parishes)), "s": sales_rep_id})
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()
    return CentralUser(name, role, tuple(sorted(set(parishes))), False)


def user_role(url: str, name: str, role: str, parishes: list[str] | None, password: str | None = None,
              sales_rep_id: str | None = None) -> CentralUser:
    """Move a user to another role (and, for a field rep, parishes and their sales_rep row)."""
    _check_user(name, role, parishes)
    engine = _users_engine(url, password)
    try:
        with engine.begin() as conn:
            row = conn.execute(text("SELECT role, parishes, disabled FROM c360_user WHERE name = :n"),
                               {"n": name}).first()
            if row is None:
                raise AdminError(f"no user {name!r}")
            keep = list(parishes) if parishes is not None else list(row[1])
            _check_user(name, role, keep)
            for statement in ("REVOKE {old} FROM {user}", "GRANT {new} TO {user}"):
                sql = conn.execute(text("SELECT format(:t, :n)"), {"t": statement.format(
                    old=_group(row[0]), new=_group(role), user="%I"), "n": name}).scalar_one()
                conn.execute(text(sql))
            _check_sales_rep(conn, sales_rep_id)
            conn.execute(text("UPDATE c360_user SET role = :r, parishes = :p, "
                              "sales_rep_id = coalesce(:s, sales_rep_id) WHERE name = :n"),
                         {"r": role, "p": sorted(set(keep)), "n": name, "s": sales_rep_id})
            disabled = bool(row[2])
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()
    return CentralUser(name, role, tuple(sorted(set(keep))), disabled)


def user_disable(url: str, name: str, password: str | None = None) -> None:
    """The user can no longer sign in (NOLOGIN) and their row says so; their history stays."""
    _check_user(name, None, None)
    engine = _users_engine(url, password)
    try:
        with engine.begin() as conn:
            if conn.execute(text("UPDATE c360_user SET disabled = true WHERE name = :n"), {"n": name}).rowcount != 1:
                raise AdminError(f"no user {name!r}")
            conn.execute(text(conn.execute(text("SELECT format('ALTER ROLE %I NOLOGIN', :n)"),
                                           {"n": name}).scalar_one()))
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()


def user_list(url: str, password: str | None = None) -> list[CentralUser]:
    engine = _users_engine(url, password)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name, role, parishes, disabled FROM c360_user ORDER BY name")).all()
    except (OperationalError, ProgrammingError, DBAPIError) as exc:
        raise AdminError(explain(exc, url)) from None
    finally:
        engine.dispose()
    return [CentralUser(r[0], r[1], tuple(r[2] or ()), bool(r[3])) for r in rows]
