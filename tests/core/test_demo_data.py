"""The demo dataset: deterministic, Jamaican, seasonal, with the hidden truth recorded."""

import hashlib
import json
import sqlite3
from datetime import date

import pytest

from c360_desktop.core import jamaica
from c360_desktop.core import validation as v
from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache, generate
from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.storage.cache import CacheError, sqlite_uri


def digest(path, tables=("customer", "transaction", "interaction", "source_record", "lead")):
    conn = sqlite3.connect(path)
    h = hashlib.sha256()
    for t in tables:
        for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY id'):
            h.update(repr(row).encode())
    conn.close()
    return h.hexdigest()


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    a = build_demo_cache(tmp_path / "a.db", DemoSpec(600, 5, date(2026, 1, 15)))
    b = build_demo_cache(tmp_path / "b.db", DemoSpec(600, 5, date(2026, 1, 15)))
    c = build_demo_cache(tmp_path / "c.db", DemoSpec(600, 6, date(2026, 1, 15)))
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_chunks_do_not_depend_on_how_many_customers_follow():
    """Streaming: the first 5,000 customers are the same in a 5,000 and a 6,000 dataset."""
    small = list(generate(DemoSpec(5_000, 3, date(2026, 1, 15))))
    large = generate(DemoSpec(6_000, 3, date(2026, 1, 15)))
    next(large)
    assert next(large)["customer"] == small[1]["customer"]


@pytest.fixture(scope="module")
def conn(demo_template):
    c = sqlite3.connect(sqlite_uri(demo_template, readonly=True), uri=True)
    yield c
    c.close()


def test_all_parishes_weighted_by_population(conn):
    counts = dict(conn.execute("SELECT parish, count(*) FROM customer c JOIN demo_truth_person t "
                               "ON t.customer_id = c.id AND NOT t.is_duplicate GROUP BY parish"))
    assert set(counts) == {p.code for p in jamaica.parishes()}
    total = sum(counts.values())
    pop = {p.code: p.population for p in jamaica.parishes()}
    pop_total = sum(pop.values())
    for code in ("JM-02", "JM-14", "JM-13"):  # the three most populous parishes
        assert abs(counts[code] / total - pop[code] / pop_total) < 0.03


def test_contact_data_is_valid(conn):
    for (phone,) in conn.execute("SELECT value FROM contact_point WHERE kind = 'phone'"):
        assert v.normalize_phone(phone) == phone
    for (trn,) in conn.execute("SELECT trn FROM customer WHERE trn IS NOT NULL"):
        assert v.normalize_trn(trn) == trn
    kinds = dict(conn.execute("SELECT kind, count(*) FROM customer GROUP BY kind"))
    assert kinds["business"] > 0.1 * kinds["individual"]


def test_sales_follow_the_calendar(conn):
    by_day = dict(conn.execute('SELECT substr(occurred_at, 6, 5), count(*) FROM "transaction" '
                               "WHERE substr(occurred_at, 6, 5) IN ('12-25', '12-23', '02-10') GROUP BY 1"))
    assert by_day["12-25"] * 5 < by_day["12-23"]  # shut on Christmas Day, busy before it
    by_month = dict(conn.execute('SELECT substr(occurred_at, 6, 2), count(*) FROM "transaction" GROUP BY 1'))
    assert by_month["12"] > 1.3 * by_month["02"]
    weekday = dict(conn.execute(
        "SELECT strftime('%w', occurred_at, '-5 hours'), count(*) FROM \"transaction\" GROUP BY 1"))
    assert weekday["0"] * 2 < weekday["6"]  # Sunday is quiet


def test_gct_follows_the_rate_in_force(conn):
    rows = conn.execute(
        'SELECT t.occurred_at, t.amount_cents, t.gct_cents, t.total_cents FROM "transaction" t '
        "JOIN product p ON p.id = t.product_id WHERE p.gct_applicable LIMIT 3000").fetchall()
    for occurred, amount, gct, total in rows:
        rate = v.gct_rate(date.fromisoformat(occurred[:10]))
        assert gct == int((amount * rate).quantize(1, rounding="ROUND_HALF_UP"))
        assert total == amount + gct


def test_summaries_match_transactions(conn):
    bad = conn.execute('''
        SELECT count(*) FROM customer_summary m WHERE txn_count > 0 AND (
          txn_count != (SELECT count(*) FROM "transaction" t WHERE t.customer_id = m.customer_id) OR
          lifetime_spend_cents != (SELECT sum(total_cents) FROM "transaction" t WHERE t.customer_id = m.customer_id) OR
          last_purchase_at != (SELECT max(occurred_at) FROM "transaction" t WHERE t.customer_id = m.customer_id))
    ''').fetchone()[0]
    assert bad == 0


def test_identity_ground_truth_has_realistic_differences(conn):
    variations = [r[0] for r in conn.execute("SELECT variations FROM demo_truth_source WHERE variations IS NOT NULL")]
    for kind in ("typo", "nickname", "phone_format", "business_suffix", "old_address", "unresolved_duplicate"):
        assert any(kind in v_ for v_ in variations), kind
    systems = {r[0] for r in conn.execute("SELECT DISTINCT system FROM source_record")}
    assert systems == {"quickbooks", "spreadsheet", "directory", "social"}
    # duplicates: two golden records, one person
    dup = conn.execute("""SELECT a.customer_id, b.customer_id FROM demo_truth_person a
                          JOIN demo_truth_person b ON a.person_id = b.person_id AND a.is_duplicate AND NOT b.is_duplicate
                          LIMIT 1""").fetchone()
    assert dup is not None and dup[0] != dup[1]
    # phone formats differ from the stored E.164 but normalise back to it
    qb = conn.execute("""SELECT s.fields, c.primary_phone FROM source_record s
                         JOIN identity_link l ON l.source_record_id = s.id JOIN customer c ON c.id = l.customer_id
                         WHERE s.system = 'quickbooks' LIMIT 200""").fetchall()
    raw = [(json.loads(f)["Phone"], p) for f, p in qb]
    assert any(r != p for r, p in raw)
    assert all(v.normalize_phone(r) == p for r, p in raw)


def test_churners_stop_buying_and_complain_first(conn):
    after = conn.execute('''SELECT count(*) FROM "transaction" t JOIN demo_truth_person p ON p.customer_id = t.customer_id
                            WHERE p.churned_at IS NOT NULL AND t.occurred_at > datetime(p.churned_at, '+1 day')''').fetchone()[0]
    assert after == 0
    mood = dict(conn.execute('''SELECT p.churned_at IS NOT NULL, avg(i.sentiment) FROM interaction i
                                JOIN demo_truth_person p ON p.customer_id = i.customer_id GROUP BY 1'''))
    assert mood[1] < mood[0] - 0.1


def test_refuses_to_overwrite_and_cleans_up_when_cancelled(tmp_path):
    out = tmp_path / "x.db"
    out.write_text("precious")
    with pytest.raises(CacheError, match="already exists"):
        build_demo_cache(out, DemoSpec(10))
    assert out.read_text() == "precious"
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        build_demo_cache(tmp_path / "y.db", DemoSpec(100), progress)
    assert list(tmp_path.iterdir()) == [out]


def test_recomputed_summaries_equal_the_generated_ones(services):
    """The sync recomputes summaries from transactions and leads; on demo data it must agree
    with what the generator wrote, customer by customer."""
    from c360_desktop.core.sync.pull import refresh_summaries

    conn = services.cache.reader()
    generated = sorted(conn.execute("SELECT * FROM customer_summary").fetchall())
    with services.cache.writer() as w:
        w.execute("DELETE FROM customer_summary")
        refresh_summaries(w)
    assert sorted(conn.execute("SELECT * FROM customer_summary").fetchall()) == generated
