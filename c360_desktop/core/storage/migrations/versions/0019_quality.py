"""Data quality: the stewardship queue (synchronised) and the history of measurements (local).

Revision ID: 0019
Revises: 0018
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
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
        "quality_issue",
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("found_value", sa.Text(), nullable=True),
        sa.Column("suggested_value", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        *_synced(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_issue", schema=None) as batch_op:
        batch_op.create_index("ix_quality_issue_status", ["status", "assignee"], unique=False)
        batch_op.create_index("ix_quality_issue_entity", ["entity_id", "rule_id"], unique=False)
    op.create_table(
        "quality_run",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_run", schema=None) as batch_op:
        batch_op.create_index("ix_quality_run_ran_at", ["ran_at"], unique=False)
    op.create_table(
        "quality_result",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "rule_id"),
    )


def downgrade() -> None:
    op.drop_table("quality_result")
    op.drop_table("quality_run")
    op.drop_table("quality_issue")
