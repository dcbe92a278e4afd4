"""The reports' columnar copy holds the models' scores too (the clv measure): log their changes.

The same triggers as 0014's, on ``score``: a changed score's id goes to ``report_change`` in the
writer's own transaction, while a columnar copy exists.

Revision ID: 0018
Revises: 0017
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ON = "(SELECT value FROM cache_meta WHERE key = 'reports_copy') IS NOT NULL"


def upgrade() -> None:
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(f'CREATE TRIGGER report_change_score_{event.lower()} AFTER {event} ON "score" '
                   f"WHEN {_ON} BEGIN INSERT INTO report_change (tbl, row_id) VALUES ('score', {row}.id); END")


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER report_change_score_{event}")
