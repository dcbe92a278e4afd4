"""Saved reports and their annotations, synchronised like any shared entity (through the outbox).

Revision ID: 0015
Revises: 0014
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
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
        "saved_report",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_synced(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("saved_report", schema=None) as batch_op:
        batch_op.create_index("ix_saved_report_name", ["name"], unique=False)
    op.create_table(
        "report_annotation",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("point", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_synced(),
        sa.ForeignKeyConstraint(["report_id"], ["saved_report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_annotation", schema=None) as batch_op:
        batch_op.create_index("ix_report_annotation_report", ["report_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("report_annotation")
    op.drop_table("saved_report")
