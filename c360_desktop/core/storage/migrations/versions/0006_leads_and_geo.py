"""Lead queue and proximity: a ranked, denormalised lead table and an R*Tree of customer positions.

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_rank",
        sa.Column("lead_id", sa.String(length=36), primary_key=True),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("rep_id", sa.String(length=36), nullable=True),
        sa.Column("parish", sa.String(length=5), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.Column("estimated_value_cents", sa.BigInteger(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=4), nullable=False),
        sa.Column("scored_by", sa.String(length=64), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("next_action", sa.String(length=40), nullable=False),
        sa.Column("next_action_reason", sa.String(length=300), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lead_rank_score", "lead_rank", ["score"])
    op.create_index("ix_lead_rank_parish_score", "lead_rank", ["parish", "score"])
    op.create_index("ix_lead_rank_rep_score", "lead_rank", ["rep_id", "score"])
    op.create_index("ix_lead_rank_customer", "lead_rank", ["customer_id"])
    # Customer positions for "near me": an R*Tree keyed by customer.search_key.
    op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS customer_geo USING rtree(key, min_lat, max_lat, min_lon, max_lon)")
    op.execute("INSERT INTO customer_geo (key, min_lat, max_lat, min_lon, max_lon) "
               "SELECT search_key, lat, lat, lon, lon FROM customer "
               "WHERE lat IS NOT NULL AND lon IS NOT NULL AND search_key IS NOT NULL AND deleted_at IS NULL")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS customer_geo")
    op.drop_table("lead_rank")
