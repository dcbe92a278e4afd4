"""Central schema 2: saved reports, their annotations, and targets.

A database made at schema 2 already has them (c0001 builds every synchronised table the core
defines); one made at schema 1 gets them here, with the same row-version and audit triggers.

Revision ID: c0002
Revises: c0001
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import inspect

from server_sync.schema import central_metadata, mssql_triggers

revision: str = "c0002"
down_revision: str | Sequence[str] | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("saved_report", "report_annotation", "report_target")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    present = set(inspect(bind).get_table_names())
    missing = [name for name in NEW if name not in present]
    md = central_metadata("mssql" if dialect == "mssql" else "postgresql")
    if missing:
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
    op.execute("UPDATE c360_meta SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("report_target")
    op.drop_table("report_annotation")
    op.drop_table("saved_report")
    op.execute("UPDATE c360_meta SET value = '1' WHERE key = 'schema_version'")
