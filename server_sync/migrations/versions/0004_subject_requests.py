"""Central schema 4: data-subject requests and erasure tombstones.

A database made at schema 4 already has the tables (c0001 builds every synchronised table the
core defines); one made before gets them here, with the same row-version and audit triggers.

Revision ID: c0004
Revises: c0003
"""
from collections.abc import Sequence

from alembic import op

from server_sync.schema import add_synced_tables

revision: str = "c0004"
down_revision: str | Sequence[str] | None = "c0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("subject_request", "erasure")


def upgrade() -> None:
    add_synced_tables(op, NEW)
    op.execute("UPDATE c360_meta SET value = '4' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("erasure")
    op.drop_table("subject_request")
    op.execute("UPDATE c360_meta SET value = '3' WHERE key = 'schema_version'")
