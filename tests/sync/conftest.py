"""A real PostgreSQL with PostGIS for the sync tests, started once per session on a free
loopback port; every test gets its own database copied from a seeded template."""

import itertools
from datetime import date

import pytest

from server_sync import admin
from server_sync.devserver import DevPostgres

SEED_CUSTOMERS = 1_500
_names = itertools.count()


@pytest.fixture(scope="session")
def pg():
    server = DevPostgres(database="template_seeded").start()
    admin.init(server.url)
    admin.seed(server.url, SEED_CUSTOMERS, 5, as_of=date(2026, 11, 27))
    yield server
    server.close()


@pytest.fixture
def central_url(pg):
    """A fresh, seeded central database for this test."""
    return pg.create_database(f"t{next(_names)}", template="template_seeded")


@pytest.fixture
def central(central_url):
    """A psycopg2 connection to the test's central database, for making central changes."""
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(central_url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    yield conn
    conn.close()
