"""Where each customer is, from the address: parish, town, map position and its precision.

Derived and local (rebuilt by ``geo.refresh_geo`` after a sync or a demo build, and on the next
open of a cache from before this revision).

Revision ID: 0008
Revises: 0007
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_place",
        sa.Column("customer_id", sa.String(length=36), primary_key=True),
        sa.Column("search_key", sa.Integer(), nullable=True),
        sa.Column("parish", sa.String(length=5), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("precision", sa.String(length=6), nullable=False),
    )
    op.create_index("ix_customer_place_parish", "customer_place", ["parish"])
    op.create_index("ix_customer_place_key", "customer_place", ["search_key"])
    op.execute("DELETE FROM cache_meta WHERE key = 'places_at'")  # placed on the next open


def downgrade() -> None:
    op.drop_table("customer_place")
