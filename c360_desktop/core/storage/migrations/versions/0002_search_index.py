"""Search index: a full-text index over customers and the name vocabulary for typo correction.

Adds customer.search_key (a stable integer key for the index; rowids may change on VACUUM) and
builds the index for the customers already in the cache.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from c360_desktop.core.search import index as search_index

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("search_key", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_customer_search_key", ["search_key"])
    op.execute(search_index.FTS_DDL)
    op.execute(search_index.VOCAB_DDL)
    dbapi: Any = op.get_bind().connection.dbapi_connection
    assert hasattr(dbapi, "create_function"), "the cache is SQLite (or SQLCipher)"
    search_index.index_customers(dbapi)


def downgrade() -> None:
    op.execute("DROP TABLE search_vocab")
    op.execute("DROP TABLE customer_fts")
    with op.batch_alter_table("customer") as batch:
        batch.drop_constraint("uq_customer_search_key", type_="unique")
        batch.drop_column("search_key")
