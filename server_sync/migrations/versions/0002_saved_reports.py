"""Central schema 2: saved reports, their annotations, and targets.

A database made at schema 2 already has them (c0001 builds every synchronised table the core
defines); one made at schema 1 gets them here, with the same row-version and audit triggers.

Revision ID: c0002
Revises: c0001
"""
from collections.abc import Sequence

from alembic import op

from server_sync.schema import add_synced_tables

revision: str = "c0002"
down_revision: str | Sequence[str] | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("saved_report", "report_annotation", "report_target")


def upgrade() -> None:
    add_synced_tables(op, NEW)
    op.execute("UPDATE c360_meta SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("report_target")
    op.drop_table("report_annotation")
    op.drop_table("saved_report")
    op.execute("UPDATE c360_meta SET value = '1' WHERE key = 'schema_version'")
