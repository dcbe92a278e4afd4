"""Pull cursor: sync_state keeps the id of the last row taken beside its transaction position.

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("cursor_id", sa.String(length=36), nullable=False, server_default=""))
    # Earlier watermarks counted row versions, not transactions: pull everything once more.
    op.execute("DELETE FROM sync_state")


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("cursor_id")
