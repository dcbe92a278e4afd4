"""Central schema 6: the legal basis of each consent record.

A database made at schema 6 has the column already (c0001 builds every synchronised table the
core defines); one made before gets it here. Its grants are the table's.

Revision ID: c0006
Revises: c0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0006"
down_revision: str | Sequence[str] | None = "c0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("consent")}
    if "legal_basis" not in columns:
        op.add_column("consent", sa.Column("legal_basis", sa.String(length=30), nullable=True))
    op.execute("UPDATE c360_meta SET value = '6' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_column("consent", "legal_basis")
    op.execute("UPDATE c360_meta SET value = '5' WHERE key = 'schema_version'")
