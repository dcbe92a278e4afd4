"""Golden records: where each golden value came from, and the merge ledger.

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "golden_value",
        sa.Column("customer_id", sa.String(length=36), primary_key=True),
        sa.Column("field", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source_record_id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=30), nullable=False),
        sa.Column("seen_at", sa.String(length=30), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
    )
    op.create_table(
        "merge_ledger",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("target_customer_id", sa.String(length=36), nullable=False),
        sa.Column("customer_ids", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
    )
    op.create_index("ix_merge_ledger_target", "merge_ledger", ["target_customer_id"])


def downgrade() -> None:
    op.drop_table("merge_ledger")
    op.drop_table("golden_value")
