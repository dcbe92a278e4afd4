"""Lead queue sorts from indexes: the customer's name on the ranked lead, an index per sort.

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SORTS = {"ix_lead_rank_value": ["estimated_value_cents"], "ix_lead_rank_created": ["created_at"],
          "ix_lead_rank_contact": ["last_contact_at"], "ix_lead_rank_name": ["customer_name"]}


def upgrade() -> None:
    with op.batch_alter_table("lead_rank") as batch:
        batch.add_column(sa.Column("customer_name", sa.String(length=300), nullable=False, server_default=""))
    for name, cols in _SORTS.items():
        op.create_index(name, "lead_rank", cols)
    op.execute("DELETE FROM lead_rank")
    op.execute("DELETE FROM cache_meta WHERE key = 'lead_ranks_at'")  # ranked again on the next open


def downgrade() -> None:
    for name in _SORTS:
        op.drop_index(name, "lead_rank")
    with op.batch_alter_table("lead_rank") as batch:
        batch.drop_column("customer_name")
