"""Central schema 3: the data stewards' quality issues.

A database made at schema 3 already has the table (c0001 builds every synchronised table the
core defines); one made before gets it here, with the same row-version and audit triggers.

Revision ID: c0003
Revises: c0002
"""
from collections.abc import Sequence

from alembic import op

from server_sync.schema import add_synced_tables

revision: str = "c0003"
down_revision: str | Sequence[str] | None = "c0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("quality_issue",)


def upgrade() -> None:
    add_synced_tables(op, NEW)
    op.execute("UPDATE c360_meta SET value = '3' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("quality_issue")
    op.execute("UPDATE c360_meta SET value = '2' WHERE key = 'schema_version'")
