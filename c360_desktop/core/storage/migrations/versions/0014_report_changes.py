"""A log of the rows reports read, for keeping the reports' columnar copy in step.

Triggers on every table the reports read write the changed row's id to ``report_change``, in
the same transaction as the change, so no writer (sync, an import, a merge, a local edit) can
change a row without the copy learning of it, and a crash loses nothing. They log only while a
columnar copy exists (``cache_meta`` key ``reports_copy``): building a demo cache or pulling a
first snapshot writes no log.

Revision ID: 0014
Revises: 0013
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("transaction", "customer", "lead", "campaign_spend", "product", "sales_rep", "territory", "segment",
          "marketing_campaign")
_ON = "(SELECT value FROM cache_meta WHERE key = 'reports_copy') IS NOT NULL"


def upgrade() -> None:
    op.execute("CREATE TABLE report_change (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, "
               "row_id TEXT NOT NULL)")
    for table in TABLES:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(f'CREATE TRIGGER report_change_{table}_{event.lower()} AFTER {event} ON "{table}" '
                       f"WHEN {_ON} BEGIN INSERT INTO report_change (tbl, row_id) VALUES ('{table}', {row}.id); END")


def downgrade() -> None:
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER report_change_{table}_{event}")
    op.execute("DROP TABLE report_change")
