"""The central schema: the cache's synchronised entities, as the central database holds them.

The tables are built from the core's SQLAlchemy models (one definition of every entity), less the
cache's local-only columns, with what only the centre has:

- ``row_version`` assigned by the database on every insert and update: a sequence and a trigger
  in PostgreSQL, the ``rowversion`` type in SQL Server;
- ``row_xid`` (PostgreSQL): the transaction that wrote the row, so pulls can take exactly the rows
  of finished transactions (see core.sync.pull);
- ``geog``, a PostGIS geography point, on customer and business (PostgreSQL);
- ``audit_log`` (who, when, table, row, before and after), written by triggers;
- ``applied_change``: the idempotency keys of pushed changes, so a replayed push applies once;
- ``c360_meta``: the schema version, for the handshake with desktops.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import mssql

from c360_desktop.core.storage.schema import SYNCED_TABLES, Base

# The cache's own columns (and CUSTOMER_SCOPED): one definition, the desktop's, read by both sides.
from c360_desktop.core.sync.central import LOCAL_ONLY_COLUMNS

SCHEMA_VERSION = 6  # 2: saved reports, annotations and targets (c0002); 3: quality issues (c0003);
# 4: data-subject requests and erasure tombstones (c0004); 5: users, roles, row-level security (c0005);
# 6: the legal basis of consent (c0006)
# Desktops whose supported central-schema range covers this version may sync (core.sync.central).
GEO_TABLES = ("customer", "business")


def central_metadata(dialect: str = "postgresql") -> MetaData:
    md = MetaData()
    for name in SYNCED_TABLES:
        source = Base.metadata.tables[name]
        skip = LOCAL_ONLY_COLUMNS.get(name, set())
        columns = []
        for col in source.columns:
            if col.name in skip:
                continue
            copy = col._copy()
            for fk in col.foreign_keys:  # _copy() leaves foreign keys behind; the centre enforces them
                copy.append_foreign_key(ForeignKey(fk.target_fullname))
            if col.name == "row_version":
                if dialect == "mssql":
                    copy = Column("row_version", mssql.ROWVERSION, nullable=False)
                else:
                    copy = Column("row_version", BigInteger, nullable=False, server_default="0")
            columns.append(copy)
        if dialect != "mssql":
            # The writing transaction: pulls page by (row_xid, id) below the oldest running one.
            columns.append(Column("row_xid", BigInteger, nullable=False, server_default="0"))
        table = Table(name, md, *columns)
        for index in source.indexes:
            if all(c.name not in skip for c in index.columns):
                Index(index.name, *(table.c[c.name] for c in index.columns), unique=index.unique)
        Index(f"ix_{name}_row_version", table.c.row_version)
        if dialect != "mssql":
            Index(f"ix_{name}_row_xid", table.c.row_xid, table.c.id)
        for uc in source.constraints:
            if isinstance(uc, UniqueConstraint) and uc.name:
                table.append_constraint(UniqueConstraint(*(c.name for c in uc.columns), name=uc.name))
    Table(
        "audit_log", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("table_name", String(50), nullable=False),
        Column("row_id", String(36), nullable=False),
        Column("action", String(10), nullable=False),
        Column("actor", String(100)),
        Column("at", DateTime, nullable=False, server_default=func.now()),
        Column("before", JSON),
        Column("after", JSON),
        Index("ix_audit_log_row", "table_name", "row_id"),
    )
    Table(
        "applied_change", md,
        Column("idempotency_key", String(36), primary_key=True),
        Column("entity", String(50), nullable=False),
        Column("entity_id", String(36), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("detail", JSON),  # conflicts found, so a replay can hand them back
        Column("applied_at", DateTime, nullable=False, server_default=func.now()),
    )
    Table(
        "c360_meta", md,
        Column("key", String(50), primary_key=True),
        Column("value", Text),
    )
    return md


_NOT_AUDITED = ("audit_log", "applied_change", "c360_meta")


def mssql_triggers(md: MetaData) -> list[str]:
    """SQL Server's counterpart of the PostgreSQL triggers: one AFTER trigger per synchronised
    table that stamps updated_at on update and writes who, when, which row, before and after
    (FOR JSON) to audit_log, skipped during a bulk load (SESSION_CONTEXT c360.bulk_load = 'on').
    rowversion needs no trigger. Direct trigger recursion is off by default in SQL Server, so the
    trigger's own UPDATE does not fire it again."""
    out = []
    for name in md.tables:
        if name in _NOT_AUDITED:
            continue
        out.append(f"""CREATE TRIGGER [c360_touch_audit_{name}] ON [{name}] AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  IF CAST(SESSION_CONTEXT(N'c360.bulk_load') AS nvarchar(10)) = N'on' RETURN;
  IF EXISTS (SELECT 1 FROM inserted) AND EXISTS (SELECT 1 FROM deleted)
    UPDATE t SET updated_at = SYSUTCDATETIME() FROM [{name}] AS t JOIN inserted AS i ON i.id = t.id;
  INSERT INTO audit_log (table_name, row_id, action, actor, at, [before], [after])
  SELECT N'{name}', COALESCE(i.id, d.id),
         CASE WHEN i.id IS NULL THEN N'DELETE' WHEN d.id IS NULL THEN N'INSERT' ELSE N'UPDATE' END,
         COALESCE(i.updated_by, d.updated_by), SYSUTCDATETIME(),
         (SELECT d2.* FROM deleted AS d2 WHERE d2.id = d.id FOR JSON PATH, WITHOUT_ARRAY_WRAPPER),
         (SELECT i2.* FROM inserted AS i2 WHERE i2.id = i.id FOR JSON PATH, WITHOUT_ARRAY_WRAPPER)
  FROM inserted AS i FULL OUTER JOIN deleted AS d ON d.id = i.id;
END""")
    return out


def add_synced_tables(op: Any, names: tuple[str, ...]) -> None:
    """In a migration: create those of ``names`` the database lacks (a database made at a later
    schema already has them), with the same row-version and audit triggers as every other."""
    from sqlalchemy import inspect

    bind = op.get_bind()
    dialect = bind.dialect.name
    present = set(inspect(bind).get_table_names())
    missing = [name for name in names if name not in present]
    if not missing:
        return
    md = central_metadata("mssql" if dialect == "mssql" else "postgresql")
    md.create_all(bind, tables=[md.tables[name] for name in missing])
    if dialect == "mssql":
        for statement in mssql_triggers(md):
            if any(f"[c360_touch_audit_{name}]" in statement for name in missing):
                op.execute(statement)
    elif dialect == "postgresql":
        for name in missing:
            op.execute(f'CREATE TRIGGER c360_touch BEFORE INSERT OR UPDATE ON "{name}" '
                       "FOR EACH ROW EXECUTE FUNCTION c360_touch()")
            op.execute(f'CREATE TRIGGER c360_audit AFTER INSERT OR UPDATE OR DELETE ON "{name}" '
                       "FOR EACH ROW EXECUTE FUNCTION c360_audit()")
