"""Search finds the right customer on demo data, checked against the recorded ground truth."""

import random
import re

import pytest

from c360_desktop.core.demo.variations import typo
from c360_desktop.core.search import index as search_index


def individuals(services, n, seed=0, max_namesakes=3):
    """Individuals whose full name is shared by at most a few customers (so "the right one" is
    well defined within a page of results), drawn at random from the golden records."""
    rows = services.cache.reader().execute("""
        SELECT c.id, c.given_name, c.family_name, c.display_name, c.primary_phone, c.primary_email, c.trn
        FROM customer c JOIN demo_truth_person t ON t.customer_id = c.id AND NOT t.is_duplicate
        WHERE c.kind = 'individual' AND (SELECT count(*) FROM customer d
              WHERE d.given_name = c.given_name AND d.family_name = c.family_name) <= ?
        ORDER BY c.id""", (max_namesakes,)).fetchall()
    return random.Random(seed).sample(rows, n)


def misspell(name, typos, rng):
    """One or two typos in the words long enough to carry them (5+ letters)."""
    words = name.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    for _ in range(typos):
        i = rng.choice(long_words)
        words[i] = typo(words[i], rng)
    return " ".join(words)


@pytest.mark.parametrize("typos", [1, 2])
def test_misspelt_names_find_the_customer(services, typos):
    rng = random.Random(typos)
    people = [p for p in individuals(services, 300, seed=typos) if any(len(w) >= 5 for w in p[3].split())]
    found, misses = 0, []
    for cid, _g, _f, name, *_ in people:
        query = misspell(name, typos, rng)
        ids = [h.customer_id for h in services.search.search(query, limit=50)]
        if cid in ids:
            found += 1
        else:
            misses.append((name, query))
    rate = found / len(people)
    print(f"{typos} typo(s): {found}/{len(people)} found ({rate:.1%}); misses: {misses[:10]}")
    assert rate >= 0.97, misses[:20]


def test_correctly_spelt_names_rank_first(services):
    for cid, _g, _f, name, *_ in individuals(services, 100, seed=5, max_namesakes=1):
        hits = services.search.search(name, limit=10)
        assert hits and hits[0].customer_id == cid, (name, [h.display_name for h in hits[:3]])


def test_name_prefixes_as_you_type(services):
    for cid, given, family, *_ in individuals(services, 50, seed=6, max_namesakes=1):
        for n in (3, 5):
            query = f"{given} {family[:n]}"
            assert cid in [h.customer_id for h in services.search.search(query, limit=100)], query


def formats(e164):
    d = e164[2:]
    return [f"{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]} {d[6:]}", e164, d,
            f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", f"{d[3:6]}-{d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}"]


def test_any_phone_format_finds_the_customer(services):
    for cid, *_rest, phone, _email, _trn in individuals(services, 80, seed=7):
        for text in formats(phone):
            hits = services.search.search(text, limit=20)
            assert cid in [h.customer_id for h in hits[:3]], (text, [h.display_name for h in hits[:3]])


def test_secondary_phones_are_searchable_too(services):
    cid, phone = services.cache.reader().execute(
        "SELECT customer_id, value FROM contact_point WHERE kind = 'phone' AND NOT is_primary LIMIT 1").fetchone()
    assert cid in [h.customer_id for h in services.search.search(formats(phone)[1])]


def test_email_and_trn(services):
    people = [p for p in individuals(services, 200, seed=8) if p[5] and p[6]][:40]
    for cid, *_rest, email, trn in people:
        assert services.search.search(email)[0].customer_id == cid
        assert services.search.search(f"{trn[:3]}-{trn[3:6]}-{trn[6:]}")[0].customer_id == cid


def test_business_names_with_either_suffix(services):
    rows = services.cache.reader().execute(
        "SELECT id, display_name FROM customer WHERE kind = 'business' AND "
        "(display_name LIKE '% Limited' OR display_name LIKE '% Ltd') LIMIT 40").fetchall()
    assert rows
    for cid, name in rows:
        other = name[:-len(" Limited")] + " Ltd" if name.endswith(" Limited") else name[:-len(" Ltd")] + " Limited"
        assert cid in [h.customer_id for h in services.search.search(other, limit=50)], other


@pytest.mark.parametrize("query", ["", "   ", '"', "*", '(")', "-", "@", "+()-", "'; --"])
def test_punctuation_only_queries_find_nothing(services, query):
    assert services.search.search(query) == []


@pytest.mark.parametrize("query", ["AND OR NOT", "NEAR(brown smith)", 'brown"*', "smith AND",
                                   "'; DROP TABLE customer; --", "brown^2", "{name}: brown"])
def test_query_syntax_is_never_passed_through(services, query):
    """FTS5 operators typed by a user are plain words: no error, and the index is intact."""
    services.search.search(query)
    assert services.cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0] > 0
    expr = services.search.match_expression(query) or ""
    outside_quotes = re.sub(r'"[a-z0-9]+"', "", expr)  # every word is a quoted term
    assert re.fullmatch(r"[()* ]*|(?:[()* ]*(?:AND|OR)[()* ]*)*", outside_quotes), expr


def test_index_follows_changes_and_deletions(services):
    cid, name = services.cache.reader().execute(
        "SELECT id, display_name FROM customer WHERE kind = 'individual' LIMIT 1").fetchone()
    with services.cache.writer() as conn:
        conn.execute("UPDATE customer SET display_name = 'Zebediah Quartermaine', given_name = 'Zebediah', "
                     "family_name = 'Quartermaine', primary_email = 'zq@example.com' WHERE id = ?", (cid,))
        conn.execute("UPDATE contact_point SET value = 'zq@example.com' WHERE customer_id = ? AND kind = 'email'", (cid,))
        search_index.index_customers(conn, [cid])
    assert [h.customer_id for h in services.search.search("Zebedaih Quartermain")] == [cid]
    assert cid not in [h.customer_id for h in services.search.search(name, limit=200)]
    with services.cache.writer() as conn:
        conn.execute("UPDATE customer SET deleted_at = '2026-11-28 10:00:00' WHERE id = ?", (cid,))
        search_index.index_customers(conn, [cid])
    assert services.search.search("Zebediah Quartermaine") == []
    vocab = services.cache.reader().execute("SELECT docs FROM search_vocab WHERE term = 'quartermaine'").fetchone()
    assert vocab is None


def test_a_word_still_being_typed_is_a_prefix_even_of_a_stop_word_or_suffix(services):
    conn = services.cache.reader()
    cid, given = conn.execute("SELECT id, given_name FROM customer WHERE family_name = 'Anderson' LIMIT 1").fetchone()
    assert cid in [h.customer_id for h in services.search.search(f"{given} And", limit=100)]
    bid, name = conn.execute("SELECT id, display_name FROM customer WHERE display_name LIKE '% Limited' LIMIT 1").fetchone()
    assert bid in [h.customer_id for h in services.search.search(name[: -len("ed")], limit=100)]  # "...Limit"


def test_a_full_rebuild_after_incremental_keys_does_not_collide(services):
    """Keys handed out one by one (max + 1) may equal other rows' rowids; a full rebuild copes."""
    conn_ids = [r[0] for r in services.cache.reader().execute("SELECT id FROM customer ORDER BY rowid LIMIT 3")]
    with services.cache.writer() as conn:
        conn.execute("UPDATE customer SET search_key = NULL")
        conn.execute("UPDATE customer SET search_key = 1 WHERE id = ?", (conn_ids[2],))  # rowid 1 belongs to another
        search_index.index_customers(conn)
    keys = dict(services.cache.reader().execute("SELECT id, search_key FROM customer WHERE id IN (?, ?, ?)", conn_ids))
    assert len(set(keys.values())) == 3
    name = services.cache.reader().execute("SELECT display_name FROM customer WHERE id = ?", (conn_ids[0],)).fetchone()[0]
    assert conn_ids[0] in [h.customer_id for h in services.search.search(name, limit=100)]
