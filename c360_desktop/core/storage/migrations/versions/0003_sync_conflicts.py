"""Conflict inbox: fields changed here and centrally to different values, for the user to decide.

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_conflict",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("base", sa.JSON(), nullable=True),
        sa.Column("mine", sa.JSON(), nullable=True),
        sa.Column("theirs", sa.JSON(), nullable=True),
        sa.Column("theirs_row_version", sa.BigInteger(), nullable=False),
        sa.Column("outbox_key", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=10), nullable=True),
    )
    op.create_index("ix_sync_conflict_open", "sync_conflict", ["resolved_at", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_sync_conflict_open", "sync_conflict")
    op.drop_table("sync_conflict")
