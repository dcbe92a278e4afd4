"""The pyodbc path. SQL Server cannot run on these machines, so the same sync runs for real over
pyodbc against PostgreSQL through psqlODBC (driver "PostgreSQL Unicode"), and the SQL Server SQL
is checked by compiling it with SQLAlchemy's mssql dialect."""

import pytest
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateIndex, CreateTable

from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import SyncError, sync
from c360_desktop.core.sync.central import Central
from server_sync.schema import central_metadata
from tests.sync.helpers import table_digests


def odbc(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql+pyodbc://") + "?driver=PostgreSQL+Unicode"


def test_sync_over_pyodbc_matches_central(tmp_path, central_url, central):
    cache = open_cache(tmp_path / "odbc.db")
    sync(cache, odbc(central_url))
    want, have = table_digests(cache, central_url)
    assert have == want
    cur = central.cursor()
    cur.execute("UPDATE customer SET display_name = 'Odbc Tester' WHERE id = (SELECT id FROM customer ORDER BY id LIMIT 1)")
    central.commit()
    sync(cache, odbc(central_url))
    want, have = table_digests(cache, central_url)
    assert have == want


def test_pyodbc_errors_are_one_line(tmp_path):
    from server_sync.devserver import free_port

    cache = open_cache(tmp_path / "c.db")
    with pytest.raises(SyncError, match="cannot reach the database server at 127.0.0.1"):
        sync(cache, f"postgresql+pyodbc://postgres@127.0.0.1:{free_port()}/c360?driver=PostgreSQL+Unicode")


def test_sql_server_triggers_cover_every_synchronised_table():
    """SQL Server cannot run here: check the trigger DDL the migration runs there, table by table."""
    from server_sync.schema import mssql_triggers

    md = central_metadata("mssql")
    triggers = mssql_triggers(md)
    audited = {t for t in md.tables if t not in ("audit_log", "applied_change", "c360_meta")}
    assert len(triggers) == len(audited) and "customer" in audited and "transaction" in audited
    for name in audited:
        ddl = next(t for t in triggers if f"ON [{name}] AFTER INSERT, UPDATE, DELETE" in t)
        assert f"UPDATE t SET updated_at = SYSUTCDATETIME() FROM [{name}] AS t" in ddl
        assert f"SELECT N'{name}', COALESCE(i.id, d.id)" in ddl and "FOR JSON PATH, WITHOUT_ARRAY_WRAPPER" in ddl
        assert ddl.count("(") == ddl.count(")") and ddl.rstrip().endswith("END")
        for column in ("id", "updated_at", "updated_by"):
            assert column in md.tables[name].columns  # the trigger's columns exist on the table
    audit = md.tables["audit_log"]
    assert {"table_name", "row_id", "action", "actor", "at", "before", "after"} <= set(audit.columns.keys())


def test_sql_server_sql_compiles():
    md = central_metadata("mssql")
    ddl = "\n".join(str(CreateTable(t).compile(dialect=mssql.dialect())) for t in md.sorted_tables)
    assert "row_version ROWVERSION NOT NULL" in ddl and "CREATE TABLE [transaction]" in ddl
    for t in md.sorted_tables:
        for index in t.indexes:
            str(CreateIndex(index).compile(dialect=mssql.dialect()))

    class FakeCentral(Central):  # compile only: no server
        def __init__(self) -> None:
            self.host = "sqlserver.example"
            self.dialect = mssql.dialect()
            self._tables, self._converters = {}, {}
            self.unreadable, self.hidden, self.user = set(), {}, None

        def run(self, stmt):
            compiled = stmt.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
            self.sql = str(compiled)
            return []

        @property
        def raw(self):
            return type("R", (), {"rollback": lambda s: None})()

    fc = FakeCentral()
    fc.fetch("transaction", (10, "abc"), 5000, ["JM-12", "JM-13"])
    assert fc.sql.startswith("SELECT TOP 5000 [transaction].")  # T-SQL has no LIMIT
    assert "FROM [transaction] JOIN customer ON customer.id = [transaction].customer_id" in fc.sql
    assert "CAST([transaction].row_version AS BIGINT) < CAST(MIN_ACTIVE_ROWVERSION() AS BIGINT)" in fc.sql
    assert "customer.parish IN (:parish_1_1, :parish_1_2)" in fc.sql
    assert fc.sql.rstrip().endswith("ORDER BY CAST([transaction].row_version AS BIGINT), [transaction].id")


def test_odbc_connections_carry_the_correlation_id(central_url, central):
    """Over psqlODBC (for real) the session's application_name holds the id; for SQL Server,
    which cannot run here, the connection string SQLAlchemy's mssql+pyodbc dialect builds from
    the URL holds it as APP (what sys.dm_exec_sessions.program_name shows)."""
    from sqlalchemy.dialects.mssql.pyodbc import dialect as mssql_pyodbc
    from sqlalchemy.engine import make_url

    from c360_desktop.core import logs
    from c360_desktop.core.sync.central import named

    with logs.correlated() as cid:
        conn = Central(odbc(central_url))
        try:
            cur = central.cursor()
            cur.execute("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'c360-desktop %%'")
            assert (f"c360-desktop {cid}",) in cur.fetchall()
            central.commit()
        finally:
            conn.close()
        url = named(make_url("mssql+pyodbc://sa:pw@db.example:1433/c360?driver=ODBC+Driver+18+for+SQL+Server"))
        ((odbc_string,), _kw) = mssql_pyodbc().create_connect_args(url)
        assert f";APP=c360-desktop {cid}" in odbc_string
