"""Data-subject requests and erasure tombstones (both synchronised).

Revision ID: 0021
Revises: 0020
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _synced() -> list[sa.Column]:
    return [sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("row_version", sa.BigInteger(), server_default="0", nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=True),
            sa.Column("deleted_at", sa.DateTime(), nullable=True),
            sa.Column("updated_by", sa.String(length=100), nullable=True)]


def upgrade() -> None:
    op.create_table(
        "subject_request",
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        *_synced(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subject_request_status", "subject_request", ["status", "due_on"])
    op.create_index("ix_subject_request_customer", "subject_request", ["customer_id"])
    op.create_table(
        "erasure",
        sa.Column("customer_ids", sa.JSON(), nullable=False),
        sa.Column("source_record_ids", sa.JSON(), nullable=False),
        sa.Column("redacted_events", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        *_synced(),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("erasure")
    op.drop_index("ix_subject_request_customer", table_name="subject_request")
    op.drop_index("ix_subject_request_status", table_name="subject_request")
    op.drop_table("subject_request")
