"""Central schema 6: the legal basis of each consent record, and field reps' contact details
limited to their own customers.

- ``consent.legal_basis``. A database made at schema 6 has the column already (c0001 builds every
  synchronised table the core defines); one made before gets it here. Its grants are the table's.
- ``c360_user.sales_rep_id`` links a field rep's login to their ``sales_rep`` row. A rep reads
  the phone numbers and e-mail addresses (``contact_point`` rows; ``customer.primary_phone`` and
  ``primary_email`` are withheld by column privilege) only of their own customers: those whose
  rep they are, or who have an open lead of theirs. Other customers of their parishes reach their
  cache without any phone or e-mail. They may still add contacts for any customer in their
  parishes, and correct phones and e-mails (they may write those columns, not read them).

SQL Server: as c0005, not built here.

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

CONTACT_COLUMNS = ("primary_phone", "primary_email")
_REP_ID = """
CREATE OR REPLACE FUNCTION c360_rep_id() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
  SELECT sales_rep_id FROM c360_user WHERE name = session_user AND role = 'field_rep' AND NOT disabled
$$"""
_MINE = "customer_id IN (SELECT id FROM customer)"  # as c0005: the parishes (customer's own policy)
_OWN = ("(customer_id IN (SELECT id FROM customer WHERE rep_id = c360_rep_id()) OR customer_id IN "
        "(SELECT customer_id FROM lead WHERE rep_id = c360_rep_id() AND status IN ('new', 'contacted', 'qualified')))")


def _columns(bind: sa.engine.Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(bind).get_columns(table)}


def upgrade() -> None:
    bind = op.get_bind()
    if "legal_basis" not in _columns(bind, "consent"):
        op.add_column("consent", sa.Column("legal_basis", sa.String(length=30), nullable=True))
    if "sales_rep_id" not in _columns(bind, "c360_user"):
        op.add_column("c360_user", sa.Column("sales_rep_id", sa.String(length=36), nullable=True))
    if bind.dialect.name == "postgresql":
        op.execute(_REP_ID)
        listed = ", ".join(f'"{c}"' for c in CONTACT_COLUMNS)
        op.execute(f"REVOKE SELECT ({listed}) ON customer FROM c360_field_rep")
        op.execute('DROP POLICY IF EXISTS c360_rep_territory ON "contact_point"')
        op.execute(f'CREATE POLICY c360_rep_territory ON "contact_point" TO c360_field_rep '
                   f"USING ({_MINE} AND {_OWN}) WITH CHECK ({_MINE})")
    op.execute("UPDATE c360_meta SET value = '6' WHERE key = 'schema_version'")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute('DROP POLICY IF EXISTS c360_rep_territory ON "contact_point"')
        op.execute(f'CREATE POLICY c360_rep_territory ON "contact_point" TO c360_field_rep USING ({_MINE}) '
                   f"WITH CHECK ({_MINE})")
        listed = ", ".join(f'"{c}"' for c in CONTACT_COLUMNS)
        op.execute(f"GRANT SELECT ({listed}) ON customer TO c360_field_rep")
        op.execute("DROP FUNCTION IF EXISTS c360_rep_id()")
    op.drop_column("c360_user", "sales_rep_id")
    op.drop_column("consent", "legal_basis")
    op.execute("UPDATE c360_meta SET value = '5' WHERE key = 'schema_version'")
