"""Central schema 1: every synchronised entity, row versions, audit trail, PostGIS points.

Revision ID: c0001
Revises: none
"""
from collections.abc import Sequence

from alembic import op

from c360_desktop.core.sync.central import CUSTOMER_SCOPED
from server_sync.schema import (
    GEO_TABLES,
    SCHEMA_VERSION,
    central_metadata,
    mssql_triggers,
)

revision: str = "c0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOUCH = """
CREATE OR REPLACE FUNCTION c360_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.row_version := nextval('c360_row_version');
  NEW.row_xid := txid_current();
  IF TG_OP = 'UPDATE' OR NEW.updated_at IS NULL THEN
    NEW.updated_at := now() AT TIME ZONE 'UTC';
  END IF;
  RETURN NEW;
END $$"""
_AUDIT = """
CREATE OR REPLACE FUNCTION c360_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('c360.bulk_load', true) = 'on' THEN
    RETURN NULL;  -- the initial seed of a new database is not an edit worth auditing row by row
  END IF;
  INSERT INTO audit_log (table_name, row_id, action, actor, at, before, after)
  VALUES (TG_TABLE_NAME, COALESCE(NEW.id, OLD.id), TG_OP, COALESCE(NEW.updated_by, OLD.updated_by),
          now() AT TIME ZONE 'UTC',
          CASE WHEN TG_OP <> 'INSERT' THEN to_json(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_json(NEW) END);
  RETURN NULL;
END $$"""
_GEOG = """
CREATE OR REPLACE FUNCTION c360_geog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.geog := CASE WHEN NEW.lat IS NOT NULL AND NEW.lon IS NOT NULL
                   THEN ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), 4326)::geography END;
  RETURN NEW;
END $$"""


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute("CREATE SEQUENCE IF NOT EXISTS c360_row_version")
    md = central_metadata("mssql" if dialect == "mssql" else "postgresql")
    md.create_all(bind)
    op.execute(f"INSERT INTO c360_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')")
    if dialect == "mssql":
        # rowversion columns version rows themselves; triggers keep updated_at and the audit trail
        for statement in mssql_triggers(md):
            op.execute(statement)
        return
    if dialect != "postgresql":
        return
    op.execute(_TOUCH)
    op.execute(_AUDIT)
    op.execute(_GEOG)
    for name in md.tables:
        if name in ("audit_log", "applied_change", "c360_meta"):
            continue
        op.execute(f'CREATE TRIGGER c360_touch BEFORE INSERT OR UPDATE ON "{name}" '
                   "FOR EACH ROW EXECUTE FUNCTION c360_touch()")
        op.execute(f'CREATE TRIGGER c360_audit AFTER INSERT OR UPDATE OR DELETE ON "{name}" '
                   "FOR EACH ROW EXECUTE FUNCTION c360_audit()")
    for name in GEO_TABLES:
        op.execute(f'ALTER TABLE "{name}" ADD COLUMN geog geography(Point, 4326)')
        op.execute(f'CREATE INDEX ix_{name}_geog ON "{name}" USING gist (geog)')
        op.execute(f'CREATE TRIGGER c360_geog BEFORE INSERT OR UPDATE OF lat, lon ON "{name}" '
                   "FOR EACH ROW EXECUTE FUNCTION c360_geog()")
    for name in CUSTOMER_SCOPED:  # territory-scoped pulls join on customer_id and page by row_version
        op.execute(f'CREATE INDEX IF NOT EXISTS ix_{name}_customer_rv ON "{name}" (customer_id, row_version)')


def downgrade() -> None:
    raise NotImplementedError("the first central schema is not downgraded; drop the database instead")
