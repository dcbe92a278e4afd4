"""Central schema 3: the data stewards' quality issues.

A database made at schema 3 already has the table (c0001 builds every synchronised table the
core defines); one made before gets it here, with the same row-version and audit triggers.

Revision ID: c0003
Revises: c0002
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import inspect

from server_sync.schema import central_metadata, mssql_triggers

revision: str = "c0003"
down_revision: str | Sequence[str] | None = "c0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("quality_issue",)


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
    op.execute("UPDATE c360_meta SET value = '3' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("quality_issue")
    op.execute("UPDATE c360_meta SET value = '2' WHERE key = 'schema_version'")
