"""The audit log's hash chain (local only): one link per audited action, append-only; an
index of audit events by user, action and time.

Revision ID: 0020
Revises: 0019
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_event_actor", "audit_event", ["actor", "action", "occurred_at"])
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER audit_chain_no_{verb.lower()} BEFORE {verb} ON audit_chain "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_chain_no_{verb}")
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
