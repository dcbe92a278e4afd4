"""Central schema 5: users and roles at the centre, enforced by the database (PostgreSQL).

- ``c360_user``: each person's login name, role and (for field reps) parishes.
- Two group roles a login role is made a member of: ``c360_full`` (manager, analyst, data
  steward, admin) reads and writes every synchronised table; ``c360_field_rep`` reads only its
  parishes' customers and what hangs off them (row-level security), never a TRN, a date of birth
  or a source record's raw fields (column privileges), and not the request register or the
  stewardship queue.
- The row-version and audit triggers run as their owner (SECURITY DEFINER), so no app user can
  write the audit trail directly.

SQL Server: not built here (row-level security there needs a security policy and predicate
functions; no SQL Server runs on these machines to test one).

Revision ID: c0005
Revises: c0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0005"
down_revision: str | Sequence[str] | None = "c0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUPS = ("c360_full", "c360_field_rep")
HIDDEN = {"customer": ("trn", "date_of_birth"), "source_record": ("fields", "lineage")}
NOT_FOR_REPS = ("subject_request", "quality_issue")  # tombstones (ids only) reach reps: they erase too
# A rep's rows: customers of their parishes, and what hangs off them.
_PARISHES = """
CREATE OR REPLACE FUNCTION c360_rep_parishes() RETURNS text[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT parishes FROM c360_user WHERE name = session_user AND role = 'field_rep' AND NOT disabled
$$"""


def upgrade() -> None:
    from c360_desktop.core.storage.schema import SYNCED_TABLES, Base
    from c360_desktop.core.sync.central import CUSTOMER_SCOPED

    op.create_table(
        "c360_user",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("parishes", sa.JSON() if op.get_bind().dialect.name != "postgresql" else sa.ARRAY(sa.Text()),
                  nullable=False, server_default="{}" if op.get_bind().dialect.name == "postgresql" else "[]"),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    if op.get_bind().dialect.name == "postgresql":
        for group in GROUPS:
            op.execute(f"DO $$ BEGIN CREATE ROLE {group} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
            op.execute(f"GRANT USAGE ON SCHEMA public TO {group}")
            op.execute(f"GRANT SELECT, INSERT, UPDATE ON applied_change TO {group}")
            op.execute(f"GRANT SELECT ON c360_meta, c360_user TO {group}")
        op.execute("ALTER FUNCTION c360_touch() SECURITY DEFINER")
        op.execute("ALTER FUNCTION c360_audit() SECURITY DEFINER")
        op.execute(_PARISHES)
        for name in SYNCED_TABLES:
            op.execute(f'GRANT SELECT, INSERT, UPDATE ON "{name}" TO c360_full')
            if name in NOT_FOR_REPS:
                continue
            if name in HIDDEN:
                cols = [c.name for c in Base.metadata.tables[name].columns
                        if c.name not in HIDDEN[name] and c.name != "search_key"]
                cols += ["row_xid"] + (["geog"] if name == "customer" else [])  # the centre's own columns
                listed = ", ".join(f'"{c}"' for c in cols)
                op.execute(f'GRANT SELECT ({listed}), INSERT ({listed}), UPDATE ({listed}) ON "{name}" TO c360_field_rep')
            else:
                op.execute(f'GRANT SELECT, INSERT, UPDATE ON "{name}" TO c360_field_rep')
        # Policies by group: the full roles see every row at no cost; a rep's rows are filtered.
        mine = "customer_id IN (SELECT id FROM customer)"  # customer's own policy applies inside
        scoped = {"customer": "parish = ANY (c360_rep_parishes())",
                  "source_record": "id IN (SELECT l.source_record_id FROM identity_link l)",  # links are scoped
                  **dict.fromkeys(CUSTOMER_SCOPED, mine)}
        for name, cond in scoped.items():
            op.execute(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY c360_full_all ON "{name}" TO c360_full USING (true) WITH CHECK (true)')
            op.execute(f'CREATE POLICY c360_rep_territory ON "{name}" TO c360_field_rep USING ({cond}) '
                       f"WITH CHECK ({cond if name != 'source_record' else 'true'})")
    op.execute("UPDATE c360_meta SET value = '5' WHERE key = 'schema_version'")


def downgrade() -> None:
    from c360_desktop.core.sync.central import CUSTOMER_SCOPED

    if op.get_bind().dialect.name == "postgresql":
        for name in ("customer", "source_record", *CUSTOMER_SCOPED):
            op.execute(f'DROP POLICY IF EXISTS c360_full_all ON "{name}"')
            op.execute(f'DROP POLICY IF EXISTS c360_rep_territory ON "{name}"')
            op.execute(f'ALTER TABLE "{name}" DISABLE ROW LEVEL SECURITY')
        op.execute("DROP FUNCTION IF EXISTS c360_rep_parishes()")
    op.drop_table("c360_user")
    op.execute("UPDATE c360_meta SET value = '4' WHERE key = 'schema_version'")
