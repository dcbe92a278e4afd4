"""The model registry: every trained model version with its data window, features, metrics,
validation report (curves, importance), the training population for drift checks and a hash of
its content. Customer segments (RFM and clusters) from the segmentation model.

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("version", sa.String(length=40), primary_key=True),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("data_from", sa.String(length=10), nullable=True),
        sa.Column("data_to", sa.String(length=10), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_model_version_model", "model_version", ["model", "trained_at"])
    op.create_table(
        "model_drift",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("psi", sa.JSON(), nullable=False),
        sa.Column("worst", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("version", "checked_at"),
    )
    op.create_table(
        "customer_segment",
        sa.Column("customer_id", sa.String(length=36), primary_key=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("r", sa.Integer(), nullable=False),
        sa.Column("f", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("rfm_segment", sa.String(length=40), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("cluster_name", sa.String(length=80), nullable=False),
    )
    op.create_index("ix_customer_segment_cluster", "customer_segment", ["cluster"])
    # a retrain retires one model's scores and removes those retired before: by model, not a scan
    op.create_index("ix_score_model_retired", "score", ["model", "deleted_at"])


def downgrade() -> None:
    op.drop_index("ix_score_model_retired", "score")
    op.drop_table("customer_segment")
    op.drop_table("model_drift")
    op.drop_table("model_version")
