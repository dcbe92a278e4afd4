"""The legal basis of each consent record (consent, contract, legitimate interests...).

Revision ID: 0022
Revises: 0021
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("consent", sa.Column("legal_basis", sa.String(length=30), nullable=True))


def downgrade() -> None:
    op.drop_column("consent", "legal_basis")
