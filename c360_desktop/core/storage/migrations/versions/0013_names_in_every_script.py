"""Index names in every script.

The search index used to fold names to ASCII, so a name written only in another script (محمد علي,
李小龙) had no name tokens at all and was found only by its phone or e-mail. ``fold`` now keeps
those letters (Chinese, Japanese and Korean one character per token); this re-indexes the
customers whose names hold any character outside ASCII. Names in plain ASCII fold as before.

Revision ID: 0013
Revises: 0012
"""
from collections.abc import Sequence
from typing import Any

from alembic import op

from c360_desktop.core.search import index as search_index

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_ASCII = "GLOB '*[^ -~]*'"


def upgrade() -> None:
    dbapi: Any = op.get_bind().connection.dbapi_connection
    assert hasattr(dbapi, "create_function"), "the cache is SQLite (or SQLCipher)"
    names = ("display_name", "given_name", "family_name", "business_name")
    where = " OR ".join(f"{c} {_NOT_ASCII}" for c in names)
    ids = [r[0] for r in dbapi.execute(f"SELECT id FROM customer WHERE deleted_at IS NULL AND ({where})")]
    if ids:
        search_index.index_customers(dbapi, ids)


def downgrade() -> None:
    pass  # the index stays valid for the older fold's queries of ASCII names
