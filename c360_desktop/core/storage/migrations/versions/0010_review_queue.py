"""The identity review queue: uncertain customer pairs and the analyst's decisions.

Revision ID: 0010
Revises: 0009
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_pair",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_a", sa.String(length=36), nullable=False),
        sa.Column("customer_b", sa.String(length=36), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("skipped_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("ledger_id", sa.String(length=36), nullable=True),
    )
    op.create_index("ix_review_pair_status_value", "review_pair", ["status", "value"])
    op.create_index("ix_review_pair_customers", "review_pair", ["customer_a", "customer_b"])


def downgrade() -> None:
    op.drop_table("review_pair")
