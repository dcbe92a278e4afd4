"""UI fixtures: panes wired to real services and a real worker pool."""

import pytest

from c360_desktop.ui.workers import TaskRunner


@pytest.fixture
def runner(qtbot):
    r = TaskRunner()
    yield r
    r.wait()


def busiest_customer(services):
    return services.cache.reader().execute(
        "SELECT c.id, c.display_name FROM customer_summary m JOIN customer c ON c.id = m.customer_id "
        "ORDER BY m.txn_count DESC LIMIT 1").fetchone()


def unique_individual(services, offset=0):
    return services.cache.reader().execute("""
        SELECT c.id, c.display_name, c.primary_phone FROM customer c
        WHERE c.kind = 'individual' AND (SELECT count(*) FROM customer d WHERE d.display_name = c.display_name) = 1
          AND (SELECT count(DISTINCT p.customer_id) FROM contact_point p WHERE p.value = c.primary_phone) <= 1
        ORDER BY c.id LIMIT 1 OFFSET ?""", (offset,)).fetchone()
