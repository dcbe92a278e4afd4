"""Explain change: contributions that add up exactly, and a planted shock found first."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from c360_desktop.core.reports.explain import explain_change
from c360_desktop.core.reports.semantic import ReportError

C360 = str(Path(sys.executable).with_name("c360"))
OCT, SEP = (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 9, 1), date(2026, 9, 30))


def test_contributions_add_up_to_the_change_exactly(services):
    ex = explain_change(services.reports, "revenue", OCT, SEP, ("parish", "kind", "channel"))
    assert ex.change != 0
    assert set(ex.by_split) == {"parish", "kind", "channel", "parish x kind", "parish x channel", "kind x channel"}
    for split, total in ex.by_split.items():
        assert total == pytest.approx(ex.change, abs=1e-6), split
    d = ex.drivers
    assert d is not None
    assert d.customers + d.orders_per_customer + d.order_value == pytest.approx(ex.change, rel=1e-9)
    assert ex.sentences[0].startswith("Revenue ") and "J$" in ex.sentences[0]


@pytest.mark.slow
def test_a_planted_shock_is_ranked_first_and_said(tmp_path):
    """On a 20,000-customer demo (on the test cache's 3,000, one month's natural swings in a
    category are larger than any one parish-and-category cell)."""
    from c360_desktop.core import jamaica
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings
    from tests.conftest import DEMO_AS_OF, DEMO_SEED

    path = build_demo_cache(tmp_path / "d.db", DemoSpec(20_000, DEMO_SEED, DEMO_AS_OF))
    services = Services.open(path, Settings(user_name="tester"))
    conn = services.cache.reader()
    parish, category = conn.execute(  # the parish-and-category cell largest in both months
        "SELECT c.parish, p.category, sum(CASE WHEN t.occurred_at < '2026-10-01' THEN t.amount_cents END) AS sep, "
        "sum(CASE WHEN t.occurred_at >= '2026-10-01' THEN t.amount_cents END) AS oct "
        'FROM "transaction" t JOIN customer c ON c.id = t.customer_id JOIN product p ON p.id = t.product_id '
        "WHERE t.occurred_at >= '2026-09-01' AND t.occurred_at < '2026-11-01' AND t.deleted_at IS NULL "
        "GROUP BY 1, 2 ORDER BY min(sep, oct) DESC LIMIT 1").fetchone()[:2]
    services.reports.prepare()  # the copy exists before the shock: it must learn of it
    with services.cache.writer() as w:  # that cell's October sales vanish, all but its three smallest
        cell = ('SELECT t.id FROM "transaction" t JOIN customer c ON c.id = t.customer_id JOIN product p ON '
                "p.id = t.product_id WHERE c.parish = ? AND p.category = ? AND t.occurred_at >= '2026-10-01' AND "
                "t.occurred_at < '2026-11-01' AND t.deleted_at IS NULL")
        w.execute(f'UPDATE "transaction" SET deleted_at = \'2026-11-02 00:00:00\' WHERE id IN ({cell}) AND id NOT '
                  f"IN ({cell} ORDER BY t.amount_cents, t.id LIMIT 3)",
                  (parish, category, parish, category))
    ex = explain_change(services.reports, "revenue", OCT, SEP, ("parish", "category", "kind"))
    services.close()
    name = jamaica.parish_by_code()[parish].address_name
    top = ex.cells[0]
    assert top.dims == {"parish": name, "category": category}
    assert top.now < 0.1 * top.before
    # the cell is said first: as a share of the change, or, when other cells moved the other way
    # and it moved more than the whole, as an amount and a multiple of the net change
    said = ex.sentences[2]
    assert (f"of the change comes from parish {name} and category {category}" in said
            or said.startswith(f"Parish {name} and category {category} moved −J$")), said
    assert "down 100%" in said or "down 99%" in said, said  # all but three small lines gone


@pytest.mark.parametrize(("measure", "by", "message"), [
    ("average_order_value", "parish", "not additive"),
    ("revenue", "month", "not time"),
    ("revnue", "parish", "unknown measure 'revnue'"),
])
def test_what_cannot_be_explained_says_why(services, measure, by, message):
    with pytest.raises(ReportError, match=message):
        explain_change(services.reports, measure, OCT, SEP, (by,))


def test_the_command_prints_sentences_or_json(demo_cache):
    args = [C360, "explain-change", "--cache", str(demo_cache), "--measure", "orders", "--period",
            "2026-10-01:2026-10-31", "--against", "2026-09-01:2026-09-30", "--by", "parish,channel"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Orders ") and ("of the change comes from" in r.stdout or "times the net change"
                                               in r.stdout)
    r = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120)
    data = json.loads(r.stdout)
    assert data["split_totals"]["parish x channel"] == pytest.approx(data["change"])
    r = subprocess.run([*args[:-1], "parsh"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "unknown dimension 'parsh'" in r.stderr


def test_a_nearly_flat_total_is_said_so_not_as_thousands_of_per_cent():
    from datetime import date

    from c360_desktop.core.reports.explain import Cell, Explanation, _sentences

    ex = Explanation("revenue", (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 9, 1), date(2026, 9, 30)),
                     now=25_341_050.0, before=25_315_350.0,
                     cells=[Cell({"category": "appliances"}, 5_265_600.0, 3_447_500.0),
                            Cell({"category": "hardware"}, 9_000_000.0, 10_792_400.0)])
    text = " ".join(_sentences(ex))
    assert "was nearly flat (+J$25,700, +0.1%)" in text
    assert "Category appliances moved +J$1,818,100" in text and "times the net change" in text
    import re

    assert not re.search(r"\d{3,}%", text), text
